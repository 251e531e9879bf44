/**
 * Runs every runnable PURE and DECL+EXPR sample of ../shared/corpus/jenkins end to end, as a
 * user would: a copy of the sample as `Jenkinsfile` in a fresh git repository, `./bin/gantry
 * run --file Jenkinsfile --json` with CI=true, on the shell executor. The runs and their
 * expected outcomes are in jenkins-corpus-run.ts; the samples that cannot run here are listed
 * there with the reason. Needs `npm run build` (npm test does it).
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus, RunEvent } from "../../src/engine/events.js";
import { compileJenkinsfile } from "../../src/pipeline/jenkins/index.js";
import { context, corpusDir, git, gitLibrary, repoRoot } from "../pipeline/jenkins/helpers.js";
import { NOT_RUNNABLE, RUNNABLE, type SampleRun } from "./jenkins-corpus-run.js";

const gantry = path.join(repoRoot, "bin/gantry");
/** Runs at a time: each is a Node process; the machine has 2 cores shared with other suites. */
const POOL = 3;
const RUN_TIMEOUT_MS = 20_000;

interface Sample {
  file: string;
  kind: "PURE" | "DECL+EXPR" | "DECL+SCRIPT";
}
const index = JSON.parse(readFileSync(path.join(corpusDir, "index.json"), "utf8")) as Sample[];
const samples = index.filter((s) => s.kind !== "DECL+SCRIPT").map((s) => s.file);

interface Result {
  code: number | null;
  stderr: string;
  events: RunEvent[];
  dir: string;
  ms: number;
}

const temps: string[] = [];
const placeholders: Record<string, string> = { $USER: userInfo().username };
const results = new Map<string, Promise<Result>>();
const tally = {
  asExpected: 0,
  runnable: Object.keys(RUNNABLE).length,
  divergent: [] as string[],
  slowestMs: 0,
};

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

function fill(s: string): string {
  let out = s;
  for (const [k, v] of Object.entries(placeholders)) out = out.split(k).join(v);
  return out;
}

/** A bounded pool: at most `n` of the queued tasks run at once. */
function pool(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= n) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return (task) =>
    new Promise((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}

function runSample(file: string, r: SampleRun): Promise<Result> {
  const dir = tempDir("gantry-jk-corpus-");
  copyFileSync(path.join(corpusDir, file), path.join(dir, "Jenkinsfile"));
  git(dir, "init", "-q", "-b", "master");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "sample");
  if (r.branch) git(dir, "checkout", "-q", "-b", r.branch);
  const args = ["run", "--file", "Jenkinsfile", "--json", ...(r.args ?? []).map(fill)];
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      gantry,
      args,
      {
        cwd: dir,
        encoding: "utf8",
        timeout: RUN_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, CI: "true", NO_COLOR: "1" },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        const events = stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as RunEvent);
        resolve({ code, stderr, events, dir, ms: Date.now() - started });
      },
    );
  });
}

function key(file: string, i: number): string {
  return `${file}#${i}`;
}

function finalStatuses(events: RunEvent[]): {
  status: Record<string, JobStatus>;
  attempts: Record<string, number>;
} {
  const status: Record<string, JobStatus> = {};
  const attempts: Record<string, number> = {};
  for (const e of events) {
    if (e.type !== "job.status") continue;
    status[e.jobId] = e.status;
    attempts[e.jobId] = Math.max(attempts[e.jobId] ?? 0, e.attempt);
  }
  return { status, attempts };
}

function logsOf(events: RunEvent[]): Map<string, string[]> {
  const logs = new Map<string, string[]>();
  for (const e of events) {
    if (e.type !== "log") continue;
    const list = logs.get(e.jobId) ?? [];
    list.push(e.text);
    logs.set(e.jobId, list);
  }
  return logs;
}

/** Whether `want` appear in `got` in order (each as a whole line, or as the start of one). */
function inOrder(got: string[], want: string[]): string | undefined {
  let at = 0;
  for (const w of want) {
    const i = got.findIndex((g, k) => k >= at && (g === w || g.startsWith(w)));
    if (i < 0) return w;
    at = i + 1;
  }
  return undefined;
}

/** name → content of every archived file of the run. */
function artifacts(dir: string): Record<string, string> {
  const root = path.join(dir, ".gantry/artifacts");
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const job of readdirSync(root))
    for (const f of readdirSync(path.join(root, job), { recursive: true, withFileTypes: true }))
      if (f.isFile()) out[f.name] = readFileSync(path.join(f.parentPath, f.name), "utf8");
  return out;
}

beforeAll(() => {
  const echoUtils = gitLibrary("echo-utils", {
    "vars/myecho.groovy": "def call() {\n  echo 'myecho from echo-utils'\n}\n",
  });
  const whereFrom = gitLibrary("whereFrom", {
    "vars/whereFrom.groovy": "def call() {\n  echo 'whereFrom from whereFrom'\n}\n",
  });
  temps.push(echoUtils.source, whereFrom.source);
  placeholders.$LIB_ECHO_UTILS = echoUtils.source;
  placeholders.$LIB_WHERE_FROM = whereFrom.source;
  const limit = pool(POOL);
  for (const [file, runs] of Object.entries(RUNNABLE))
    runs.forEach((r, i) =>
      results.set(
        key(file, i),
        limit(() => runSample(file, r)),
      ),
    );
});

afterAll(async () => {
  // Runs a filtered test (-t) did not await are still going: let them end before removing their folders.
  await Promise.allSettled(results.values());
  console.log(
    `jenkins run: ${tally.asExpected}/${tally.runnable} runnable samples ran as expected; ` +
      `${Object.keys(NOT_RUNNABLE).length} not runnable` +
      (tally.divergent.length ? ` (known differences from Jenkins: ${tally.divergent.join(", ")})` : ""),
  );
  console.log(`jenkins run: slowest gantry run ${tally.slowestMs} ms (${POOL} at a time)`);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe("jenkins corpus: every PURE and DECL+EXPR sample runs", () => {
  it("has a built CLI", () => {
    expect(existsSync(path.join(repoRoot, "dist/cli/main.js")), "run npm run build first").toBe(true);
  });

  it("lists every PURE and DECL+EXPR sample once, as runnable or not", () => {
    const listed = [...Object.keys(RUNNABLE), ...Object.keys(NOT_RUNNABLE)].sort();
    expect(listed).toEqual([...samples].sort());
  });

  for (const [file, runs] of Object.entries(RUNNABLE)) {
    it(`${file} runs as Jenkins would`, async () => {
      let divergent = false;
      for (const [i, r] of runs.entries()) {
        const res = await results.get(key(file, i))!;
        tally.slowestMs = Math.max(tally.slowestMs, res.ms);
        const where = `${file}${r.label ? ` (${r.label})` : ""}\n${res.stderr}`;
        const e = r.expect;
        const finished = res.events.find((x) => x.type === "run.finished");
        expect(finished, where).toBeDefined();
        expect(finished!.type === "run.finished" && finished!.status, where).toBe(e.run);
        expect(res.code, where).toBe(e.code);
        const { status, attempts } = finalStatuses(res.events);
        expect(status, where).toEqual(e.jobs);
        for (const [job, n] of Object.entries(e.attempts ?? {}))
          expect(attempts[job], `${where} ${job}`).toBe(n);
        const logs = logsOf(res.events);
        for (const [job, want] of Object.entries(e.logs ?? {})) {
          const got = logs.get(job) ?? [];
          const missing = inOrder(got, want.map(fill));
          expect(missing, `${where} ${job} logs:\n${got.join("\n")}`).toBeUndefined();
        }
        const all = [...logs.values()].flat().join("\n");
        for (const text of e.absent ?? []) expect(all, where).not.toContain(text);
        const printed = [...res.stderr.matchAll(/^Jenkinsfile:\d+:\d+: (\w+\[[\w-]+\])/gm)].map((m) => m[1]);
        expect(printed, where).toEqual(e.diagnostics ?? []);
        const files = artifacts(res.dir);
        for (const [name, content] of Object.entries(e.artifacts ?? {}))
          expect(files[name], where).toBe(content);

        if (r.known) {
          divergent = true;
          // Still different from Jenkins: when this fails, the difference is fixed; drop `known`.
          for (const [job, lines] of Object.entries(r.known.missingLogs ?? {}))
            for (const l of lines) expect(logs.get(job) ?? [], `${where}: ${r.known.what}`).not.toContain(l);
          for (const [name, [, gantryContent]] of Object.entries(r.known.artifacts ?? {}))
            expect(files[name], `${where}: ${r.known.what}`).toBe(gantryContent);
        }
      }
      if (divergent) tally.divergent.push(file);
      else tally.asExpected++;
    });
  }

  // The reason a sample is not runnable must still hold for the Plan it compiles to.
  for (const [file, nr] of Object.entries(NOT_RUNNABLE)) {
    it(`${file} is not runnable here: ${nr.reason}`, async () => {
      const source = readFileSync(path.join(corpusDir, file), "utf8");
      const { plan } = await compileJenkinsfile(context(source, { file }));
      expect(plan, file).toBeDefined();
      expect(
        plan!.jobs.some((j) => j.executor.kind === nr.needs),
        file,
      ).toBe(true);
    });
  }
});
