import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

/** One `## test:` block of a corpus case's EXPECTED.txt. */
export interface PeerTest {
  caseName: string;
  /** 1-based position within the case. */
  index: number;
  title: string;
  argvText: string;
  argv: PeerArgv;
  expect: string[];
  expectNot: string[];
  /** `expect-block`, `expect-eq`, `assert`, `assert-rejects` lines, kept verbatim. */
  other: string[];
}

/** The peer options the harness understands; the rest stay in `unknown`. */
export interface PeerArgv {
  job: string[];
  needs: boolean;
  manual: string[];
  variable: string[];
  file?: string;
  concurrency?: number;
  /** Options that only the peer has (preview, list, timestamps...). */
  unknown: string[];
}

/** Options of the peer that change nothing Gantry has to reproduce (state folders, colours, padding). */
const IGNORED_OPTIONS = new Set([
  "cwd",
  "stateDir",
  "noColor",
  "shellIsolation",
  "shellExecutorNoImage",
  "maxJobNamePadding",
  "jsonSchemaValidation",
]);

function stringList(text: string, key: string): string[] {
  const list = new RegExp(`\\b${key}: \\[([^\\]]*(?:\\][^,}\\]]*)*)\\]`).exec(text);
  if (list) return [...list[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\"/g, '"'));
  const one = new RegExp(`\\b${key}: "((?:[^"\\\\]|\\\\.)*)"`).exec(text);
  return one ? [one[1]!] : [];
}

/** Parses the peer's argv object literal (as extracted, it is not JSON). */
export function parseArgv(text: string): PeerArgv {
  const body = text.replace(/^\{/, "").replace(/\}$/, "");
  const keys = [...body.matchAll(/(?:^|,)\s*([A-Za-z]+)\s*(?::|,|$)/g)].map((m) => m[1]!);
  const argv: PeerArgv = {
    job: stringList(body, "job"),
    needs: /\bneeds: true/.test(body),
    manual: stringList(body, "manual"),
    variable: stringList(body, "variable"),
    unknown: [],
  };
  const file = stringList(body, "file")[0];
  if (file !== undefined) argv.file = file;
  const conc = /\bconcurrency: (\d+)/.exec(body);
  if (conc) argv.concurrency = Number(conc[1]);
  for (const k of new Set(keys)) {
    if (IGNORED_OPTIONS.has(k) || ["job", "needs", "manual", "variable", "file", "concurrency"].includes(k))
      continue;
    argv.unknown.push(k);
  }
  if (/\bneeds: false/.test(body)) argv.needs = false;
  return argv;
}

/** Reads every case folder and its tests. */
export function readCorpus(dir: string): { name: string; dir: string; tests: PeerTest[] }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const text = readFileSync(path.join(dir, name, "EXPECTED.txt"), "utf8");
      const tests: PeerTest[] = [];
      let cur: PeerTest | undefined;
      for (const line of text.split("\n")) {
        const head = /^## test: (.*)$/.exec(line);
        if (head) {
          cur = {
            caseName: name,
            index: tests.length + 1,
            title: head[1]!,
            argvText: "",
            argv: parseArgv(""),
            expect: [],
            expectNot: [],
            other: [],
          };
          tests.push(cur);
          continue;
        }
        if (!cur) continue;
        if (line.startsWith("argv: ")) {
          cur.argvText = line.slice(6);
          cur.argv = parseArgv(cur.argvText);
        } else if (line.startsWith("expect: ")) cur.expect.push(line.slice(8));
        else if (line.startsWith("expect-not: ")) cur.expectNot.push(line.slice(12));
        else if (line.trim() !== "") cur.other.push(line);
      }
      return { name, dir: path.join(dir, name), tests };
    });
}

/** Removes chalk's `{style text}` markup (nested), keeping the text; `\{` is a literal brace. */
export function stripChalk(s: string): string {
  let out = s.replace(/\\\{/g, "\u0000").replace(/\\\}/g, "\u0001");
  for (let i = 0; i < 10; i++) {
    const next = out.replace(/\{[a-zA-Z.]+ ((?:[^{}])*)\}/g, (_m, inner: string) => inner);
    if (next === out) break;
    out = next;
  }
  return out.replace(/\u0000/g, "{").replace(/\u0001/g, "}");
}

/** gitlab-ci-local writes matrix jobs as `job: [a,b]`; GitLab (and Gantry) as `job: [a, b]`. */
export function gitlabMatrixName(name: string): string {
  return name.replace(
    /: \[([^\]]*)\]\s*$/,
    (_m, inner: string) =>
      `: [${inner
        .split(",")
        .map((s) => s.trim())
        .join(", ")}]`,
  );
}

export type Expectation =
  | { kind: "log"; job: string; text: string }
  | { kind: "pass"; job: string; coverage?: string }
  | { kind: "other"; text: string };

/** Classifies a peer `expect:` line: a job's log line, a PASS summary line, or something else. */
export function classify(line: string): Expectation {
  // Lines were extracted from JS sources: a leading "\n" and \" are escapes, not text.
  const plain = stripChalk(line).replace(/^\\n/, "").replace(/\\"/g, '"');
  // The peer prints a script's command as `job $ cmd`; Gantry as `job > $ cmd`.
  const cmd = /^(.+?) (\$ .*)$/.exec(plain);
  if (cmd && !plain.includes(" > "))
    return { kind: "log", job: gitlabMatrixName(cmd[1]!.trim()), text: cmd[2]! };
  const pass = /^\s*PASS\s+(.+?)(?:\s+([\d.]+)% coverage)?\s*$/.exec(plain);
  if (pass && !/ > /.test(plain)) {
    const e: Expectation = { kind: "pass", job: gitlabMatrixName(pass[1]!.trim()) };
    if (pass[2]) e.coverage = pass[2];
    return e;
  }
  const log = /^(.+?)\s+> (.*)$/.exec(plain);
  if (log && !log[1]!.includes(" > "))
    return { kind: "log", job: gitlabMatrixName(log[1]!.trim()), text: log[2]! };
  return { kind: "other", text: plain };
}

/** Gantry's non-TTY output normalised to `job > text` lines (alignment padding removed). */
export function logLines(stdout: string): string[] {
  return stdout.split("\n").map((l) => {
    const m = /^(.*?)\s+>(?: (.*))?$/.exec(l);
    return m ? `${m[1]!.trim()} > ${m[2] ?? ""}`.trimEnd() : l.trimEnd();
  });
}

/** Gantry's summary: ` PASS  job   12ms`. */
export function passed(stdout: string, job: string): boolean {
  return stdout.split("\n").some((l) => {
    const m = /^\s*PASS\s+(.*?)\s+\d+(?:\.\d+)?(?:ms|s|m \d+s)\b/.exec(l);
    return m?.[1] === job;
  });
}
