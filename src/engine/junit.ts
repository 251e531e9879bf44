import { promises as fs } from "node:fs";
import path from "node:path";

export interface JunitCase {
  suite: string;
  name: string;
  classname: string;
  timeSeconds: number;
  status: "passed" | "failed" | "error" | "skipped";
  message?: string;
}

export interface JunitSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  cases: JunitCase[];
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return m ? decode(m[2] ?? m[3] ?? "") : undefined;
}

function decode(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * Reads JUnit XML reports (the format every test runner writes) into test cases. A small
 * scanner over `<testsuite>`/`<testcase>` elements: reports are machine-written, and a full
 * XML parser would be a dependency for four element names.
 */
export function parseJunit(xml: string): JunitCase[] {
  const cases: JunitCase[] = [];
  const re = /<testsuite\b[^>]*>|<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  let suite = "";
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m[0].startsWith("<testsuite")) {
      suite = attr(m[0], "name") ?? "";
      continue;
    }
    const head = ` ${m[1] ?? ""}`;
    const body = m[3] ?? "";
    let status: JunitCase["status"] = "passed";
    let message: string | undefined;
    const fail = /<(failure|error)\b([^>]*)/.exec(body);
    if (fail) {
      status = fail[1] === "error" ? "error" : "failed";
      message = attr(fail[2] ?? "", "message");
    } else if (/<skipped\b/.test(body)) status = "skipped";
    cases.push({
      suite,
      name: attr(head, "name") ?? "",
      classname: attr(head, "classname") ?? "",
      timeSeconds: Number(attr(head, "time") ?? 0) || 0,
      status,
      ...(message !== undefined ? { message } : {}),
    });
  }
  return cases;
}

export async function summariseJunit(baseDir: string, files: readonly string[]): Promise<JunitSummary> {
  const cases: JunitCase[] = [];
  for (const f of files) cases.push(...parseJunit(await fs.readFile(path.join(baseDir, f), "utf8")));
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.status === "failed").length,
    errors: cases.filter((c) => c.status === "error").length,
    skipped: cases.filter((c) => c.status === "skipped").length,
    cases,
  };
}
