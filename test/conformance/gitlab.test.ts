import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { classify, gitlabMatrixName, logLines, passed, readCorpus, type PeerTest } from "./gitlab-corpus.js";
import { checkout, gantry, removeCheckouts, repoRoot, type RunResult } from "./gitlab-run.js";

/**
 * Conformance with gitlab-ci-local's own test suite (`../shared/corpus/gitlab/`): every test of
 * every case is run through the built `./bin/gantry` with `CI=true`, its `expect:` lines are
 * checked against Gantry's `job > text` output, and the `assert:` lines that can be mapped are
 * mapped in `SPECS` below. Tests of features only the peer has are listed there with the reason.
 */

const corpusDir = path.resolve(repoRoot, "../shared/corpus/gitlab");

interface Spec {
  /** Not applicable: the peer-only feature the test is about. */
  na?: string;
  /** `preview` is the peer's "print the merged YAML": Gantry's counterpart is `gantry plan`. */
  command?: "run" | "plan";
  /** Extra flags, with `why` saying what peer behaviour they reproduce. */
  args?: string[];
  why?: string;
  /** Expected exit code (checked only when given; tests the peer expects to throw get 2). */
  exit?: number;
  stdout?: RegExp[];
  notStdout?: RegExp[];
  stderr?: RegExp[];
  /** The `expect:` lines that are not job log lines are peer log texts: why they are not checked. */
  peerLines?: string;
  /** Use these `job > text` lines instead of the extracted ones (the extraction lost them). */
  lines?: string[];
  /** A known gap outside the compiler (engine/CLI): the test is expected to fail until it is closed. */
  gap?: string;
  check?: (r: RunResult, dir: string) => void | Promise<void>;
}

const PEER_STATE =
  "asserts files in the peer's own state folder (.gitlab-ci-local/...), which Gantry does not have";
const PEER_TO_SOURCE =
  "gitlab-ci-local copies artifacts back into the project folder (artifactsToSource); Gantry never writes artifacts into the source tree";

/** The Plan printed by `gantry plan`. */
function planOf(r: RunResult): {
  stages: string[];
  jobs: { id: string; needs: { job: string }[]; steps: { commands?: string[] }[]; cache: unknown[] }[];
} {
  return JSON.parse(r.stdout) as never;
}

/** Files of a job's stored artifacts under `.gantry/artifacts/<slug>-<hash>/`. */
function artifactFiles(dir: string, jobSlug: string): string[] {
  const root = path.join(dir, ".gantry/artifacts");
  const d = existsSync(root) ? readdirSync(root).find((n) => n.startsWith(`${jobSlug}-`)) : undefined;
  return d ? readdirSync(path.join(root, d), { recursive: true }).map(String) : [];
}

function count(text: string, needle: string): number {
  return text.split("\n").filter((l) => l.includes(needle)).length;
}

const SPECS: Record<string, Spec> = {
  "ansi-sections#1": {
    peerLines: "the peer folds GitLab's section_start/section_end markers into its own section lines",
    exit: 0,
  },
  "argv-cwd#1": { na: "--preview, and falling back to the git root when the folder has no pipeline file" },
  "argv-cwd#2": { na: "--preview (prints the peer's merged YAML)" },
  "argv-cwd#3": { na: "--preview outside a git repository" },
  "argv-cwd#4": { na: "--preview with the peer's --file resolution" },
  "argv-cwd#5": { na: "--preview with the peer's --cwd resolution" },
  "artifacts-after-afterscript#1": {
    exit: 0,
    why: PEER_STATE,
    check: (_r, dir) => {
      const files = artifactFiles(dir, "artifact-job");
      expect(files).toContain(path.join("logs", "foo.log"));
      expect(files).not.toContain(path.join("logs", "foo.badlog"));
    },
  },
  "artifacts-globstar#1": { exit: 0 },
  "artifacts-globstar#2": {
    na: "the peer's log text when an artifacts pattern matches nothing (!! no artifacts was copied !!)",
  },
  "artifacts-many-paths#1": {
    exit: 0,
    why: "the peer's 'exported artifacts' log line is its own; both jobs passing proves the 9000 artifacts arrived",
    check: (r) => {
      expect(passed(r.stdout, "produce-artifacts")).toBe(true);
      expect(passed(r.stdout, "consume-artifacts")).toBe(true);
    },
  },
  "artifacts-shell#1": {
    exit: 0,
    why: `${PEER_TO_SOURCE}; consume's own script checks path/file1 arrived and path/file2 was excluded`,
    check: (r) => expect(passed(r.stdout, "consume")).toBe(true),
  },
  "artifacts-shell#2": { exit: 0, notStdout: [/\bFAIL\b/] },
  "artifacts-shell#3": { na: "the peer's warning about --shell-isolation with --no-shell-executor-no-image" },
  "artifacts-shell-fail#1": {
    peerLines: "the peer's log texts about empty artifacts",
    exit: 1,
    stdout: [/^deploy > Deploy something$/m],
    check: (r) => {
      expect(passed(r.stdout, "build")).toBe(true);
      expect(passed(r.stdout, "test")).toBe(false);
    },
  },
  "artifacts-shell-fail-always#1": {
    why: `${PEER_TO_SOURCE}; artifacts with when: always must be kept from the failed produce job`,
    exit: 1,
    check: (_r, dir) => expect(artifactFiles(dir, "produce")).toContain(path.join("path", "file1")),
  },
  "artifacts-to-source-no#1": { na: PEER_TO_SOURCE },
  "artifacts-to-source-no#2": { na: PEER_TO_SOURCE },
  "basic-inputs#1": {
    command: "plan",
    check: (r) => {
      const p = planOf(r);
      expect(p.stages).toEqual([".pre", "test", ".post"]);
      expect(p.jobs.find((j) => j.id === "scan-website")?.steps[0]?.commands).toEqual([
        "echo string",
        "echo 1",
        "echo true",
        "alice",
        "bob",
      ]);
    },
  },
  "before-script#1": { exit: 0 },
  "cache-directives#1": {
    exit: 0,
    why: "the peer's cache folder and log text are its own; Gantry keeps caches under .gantry/cache/<key>/",
    check: (_r, dir) => {
      const root = path.join(dir, ".gantry/cache");
      const files = existsSync(root) ? readdirSync(root, { recursive: true }).map(String) : [];
      expect(files.some((f) => f.endsWith(path.join("cache", "file1.txt")))).toBe(true);
    },
  },
  "cache-key-invalid-files#1": { exit: 2, stderr: [/cache\.key\.files must list 1 or 2 files, got 3/] },
  "cache-key-invalid-files#2": { exit: 2, stderr: [/cache\.key\.files must list 1 or 2 files, got 0/] },
  "cache-paths-undefined-array#1": { exit: 0 },
  "cache-paths-undefined-array#2": { exit: 0 },
  "cache-shell#1": { exit: 0, notStdout: [/\bFAIL\b/] },
  "comment-directive-anchor#1": { na: "--list with the peer's # @Description comment directives" },
  "completion#1": { na: "shell completion of the peer's CLI" },
  "completion#2": { na: "shell completion of the peer's CLI" },
  "concurrency#1": {
    peerLines: "the peer's 'starting'/'finished' lines; Gantry's are 'started'/'finished: ...'",
    exit: 0,
    check: (r) => {
      const l = r.stdout.split("\n");
      const oneDone = l.findIndex((x) => /^one\s+finished/.test(x));
      const twoStart = l.findIndex((x) => /^two\s+started/.test(x));
      expect(oneDone).toBeGreaterThanOrEqual(0);
      expect(twoStart).toBeGreaterThan(oneDone);
    },
  },
  "concurrency#2": {
    peerLines: "the peer's 'starting'/'finished' lines; Gantry's are 'started'/'finished: ...'",
    exit: 0,
    check: (r) => {
      const l = r.stdout.split("\n");
      const at = (re: RegExp) => l.findIndex((x) => re.test(x));
      expect(at(/^one\s+finished/)).toBeGreaterThan(at(/^two\s+started/));
      expect(at(/^two\s+finished/)).toBeGreaterThan(at(/^one\s+started/));
    },
  },
  "coverage#1": { exit: 0 },
  "coverage#2": { exit: 0 },
  "coverage#3": { exit: 0 },
  "dependencies-not-found#1": { exit: 2, stderr: [/dependency "invalid" is not a job of this pipeline/] },
  "dotenv#1": {
    exit: 0,
    why: "the peer reads FILE and VARIABLE from its .gitlab-ci-local-env file; passed here as --file/--variable",
  },
  "duplicated-keys#1": { exit: 0, stderr: [/duplicated mapping key "variables"/] },
  "duplicated-keys#2": { exit: 0 },
  "duplicated-keys#3": { exit: 0 },
  "environment#1": { peerLines: "the peer logs 'environment: { name: ... }' for deploy jobs", exit: 0 },
  "environment#2": { peerLines: "the peer logs 'environment: { name: ... }' for deploy jobs", exit: 0 },
  "environment#3": { peerLines: "the peer logs 'environment: { name: ... }' for deploy jobs", exit: 0 },
  "extends#1": { exit: 0 },
  "include-invalid-local#1": {
    exit: 2,
    stderr: [/local include file cannot be found: \.gitlab-ci-invalid\.yml/],
  },
  "include-invalid-project-file-ref#1": { exit: 2, stderr: [/include:project is not supported yet/] },
  "include-local#1": {
    exit: 0,
    why: "CI_INCLUDE_LOCAL comes from the peer's .gitlab-ci-local-variables.yml; passed here as --variable",
  },
  "include-local#2": { exit: 0 },
  "include-local#3": { exit: 0 },
  "include-local#4": {
    exit: 2,
    stderr: [/include:local "\.\.\/include-local\/\.gitlab-ci\.yml" leaves the project directory/],
  },
  "include-local#5": { exit: 2, stderr: [/include:local "\.\/\.gitlab-ci\.yml" must not start with \.\//] },
  "include-local-wildcard#1": {
    exit: 0,
    stdout: [
      /^build-images > build-images executed!$/m,
      /^cache-repo > cache-repo executed!$/m,
      /^docs > docs executed!$/m,
    ],
  },
  "include-local-wildcard#2": {
    command: "plan",
    check: (r) =>
      expect(planOf(r).jobs.map((j) => j.id)).toEqual([
        "configs/.gitlab-ci.yml",
        "configs/subfolder/.gitlab-ci.yml",
        "configs/subfolder/subfolder/.gitlab-ci.yml",
      ]),
  },
  "include-local-wildcard#3": {
    command: "plan",
    check: (r) =>
      expect(planOf(r).jobs.map((j) => j.id)).toEqual([
        "configs/subfolder/.gitlab-ci.yml",
        "configs/subfolder/subfolder/.gitlab-ci.yml",
      ]),
  },
  "include-local-wildcard#4": {
    command: "plan",
    check: (r) => expect(planOf(r).jobs.map((j) => j.id)).toEqual(["configs/.gitlab-ci.yml"]),
  },
  "include-nested#1": { command: "plan", exit: 0 },
  "include-nested#2": { command: "plan", exit: 2, stderr: [/too many includes: at most 150/] },
  "include-nested#3": { command: "plan", exit: 0 },
  "include-nested#4": { command: "plan", exit: 2, stderr: [/too many includes: at most 150/] },
  "include-nested#5": {
    na: "the peer's --maximum-includes option (Gantry keeps GitLab's fixed limit of 150)",
  },
  "include-rules#1": {
    args: ["--variable", "GITLAB_CI=false"],
    why: "gitlab-ci-local defines GITLAB_CI=false; Gantry defines GITLAB_CI=true like GitLab, so the peer's value is passed",
    exit: 0,
  },
  "list-csv-case#1": { na: "--list-csv output of the peer" },
  "list-csv-case#2": { na: "--list-csv output of the peer" },
  "list-csv-case#3": { na: "--list output format of the peer (Gantry's is `gantry list`)" },
  "list-environment#1": { na: "--list output format of the peer (Gantry's is `gantry list`)" },
  "list-environment#2": { na: "--list-csv output of the peer" },
  "log-padding#1": { na: "the peer's --max-job-name-padding option" },
  "log-padding#2": { na: "the peer's --max-job-name-padding option" },
  "log-padding#3": { na: "the peer's --max-job-name-padding option" },
  "log-padding#4": { na: "the peer's --max-job-name-padding option" },
  "log-padding#5": {
    exit: 0,
    why: "the exact padding width asserted is the peer's; the log line itself is checked",
  },
  "log-padding#6": {
    exit: 0,
    why: "the exact padding width asserted is the peer's; the log line itself is checked",
  },
  "log-timestamps#1": { na: "the peer's --timestamps log format" },
  "log-timestamps#2": { na: "the peer's log format without --timestamps" },
  "long-running-silent-test-job#1": { na: "the peer's periodic '> still running...' line for silent jobs" },
  "manual#1": { exit: 0 },
  "manual#2": {
    exit: 0,
    why: "a --manual given twice plays the job once: its text appears twice (the command and its output)",
    check: (r) => expect(count(r.stdout, "Hello, build job manual!")).toBe(2),
  },
  "manual#3": { exit: 0, notStdout: [/Hello, build job manual!/, /Test something/] },
  "manual#4": {
    exit: 0,
    notStdout: [/Pre something|Hello, pre job manual!/, /Hello, build job manual!/, /Test something/],
  },
  "manual#5": {
    args: ["--manual", "build-job"],
    why: "the peer plays a manual job named with --job; Gantry plays manual jobs only with --manual",
    exit: 0,
  },
  "manual#6": { exit: 0 },
  "manual#7": { exit: 0 },
  "manual#8": {
    exit: 2,
    stderr: [/pre-job is when:manual, its needed by test-job, and not specified in --manual/],
  },
  "needs-artifacts#1": { exit: 0, notStdout: [/\bFAIL\b/] },
  "needs-contains-dependencies#1": {
    exit: 2,
    stderr: [/test-job: dependencies two must also be listed in needs/],
  },
  "needs-empty#1": { exit: 0, notStdout: [/\bFAIL\b/] },
  "needs-empty-entry#1": { exit: 2, stderr: [/dev-job: needs entries cannot be empty/] },
  "needs-not-array#1": { exit: 2, stderr: [/dev-job: needs must be a list/] },
  "needs-optional#1": { exit: 0, stdout: [/Job executed!/], notStdout: [/Job skipped!/] },
  "needs-optional-complex#1": {
    exit: 0,
    stdout: [/Validated!/, /Job executed!/],
    notStdout: [/Job skipped!/],
  },
  "needs-parallel-matrix-artifacts#1": { exit: 0 },
  "needs-parallel-matrix-error#1": {
    exit: 2,
    stderr: [/test-job uses needs:parallel:matrix on "build-job", which has no parallel:matrix/],
  },
  "needs-parallel-matrix-error#2": {
    exit: 2,
    stderr: [/test-plain-parallel uses needs:parallel:matrix on "build-int", which has no parallel:matrix/],
  },
  "needs-parallel-matrix-error#3": {
    exit: 2,
    stderr: [/test-zero-match: needs:parallel:matrix selects no job of "build-foo"/],
  },
  "needs-parallel-matrix-expressions#1": { exit: 0 },
  "needs-parallel-matrix-expressions#2": { exit: 0 },
  "needs-parallel-matrix-expressions#3": { exit: 0 },
  "needs-parallel-matrix-expressions#4": { exit: 0 },
  "needs-parallel-matrix-expressions#5": { exit: 0 },
  "needs-parallel-matrix-expressions#6": { exit: 0 },
  "needs-parallel-matrix-expressions#7": { exit: 0 },
  "needs-parallel-matrix-expressions-non-parallel-consumer#1": {
    exit: 2,
    stderr: [
      /linux:test uses \$\[\[ matrix\.X \]\] in needs:parallel:matrix but has no parallel:matrix itself/,
    ],
  },
  "needs-pipeline#1": {
    peerLines: "the peer prints its warning on stdout; Gantry's diagnostic is checked on stderr",
    exit: 0,
    stderr: [/needs-pipeline-job\.needs\[1\]: .*pipeline key not supported/],
    stdout: [/Job executed!/],
  },
  "needs-sequence#1": { exit: 0, notStdout: [/Pre something/, /Build something/, /Test something/] },
  "needs-sequence#2": {
    peerLines: "the peer prints its warning on stdout; Gantry's diagnostic is checked on stderr",
    exit: 0,
    stderr: [/premium-job\.needs\[0\]: .*project key not supported/],
    notStdout: [/NoNeeds something/, /I'm utilizing premium feature/],
  },
  "needs-sequence#3": { exit: 0, notStdout: [/Test something/, /Deploy something/] },
  "needs-sequence#4": { exit: 0 },
  "needs-unspecified-job#1": { exit: 2, stderr: [/test-job needs "invalid", which is not defined/] },
  "never-needs#1": {
    exit: 2,
    stderr: [/test-job needs "never-job", but "never-job" is not in the pipeline/],
  },
  "never-needs#2": {
    na: "the peer checks needs only of the selected jobs; GitLab (and Gantry) reject the whole file because test-job needs a when: never job (never-needs#1)",
  },
  "no-script#1": { exit: 2, stderr: [/job "test-job" has no script/] },
  "parallel-matrix#1": { exit: 0 },
  "parallel-matrix#2": {
    exit: 0,
    why: "the peer test passes `jobs:` (not an option of the peer), so the whole pipeline runs; so it does here",
  },
  "parallel-matrix#3": {
    why: "only the job's first log line is asserted (run alone it has no artifacts and fails later, for the peer too)",
  },
  "parallel-matrix-environment#1": { na: "a unit test of the peer's job parser (object cloning)" },
  "parallel-matrix-environment#2": { na: "a unit test of the peer's job parser (object cloning)" },
  "parallel-matrix-environment#3": { na: "a check of the peer's source file job.ts" },
  "parallel-matrix-environment#4": {
    na: "asserts the peer's 'environment: { name: ... }' log lines, with environment-scoped values from its variables file",
  },
  "parallel-matrix-environment#5": { na: "a unit test of the peer's job parser" },
  "parallel-matrix-long-name#1": {
    exit: 0,
    check: (r) => {
      expect(r.stdout.split("\n").filter((l) => /^\s*PASS\s+build-job: \[/.test(l))).toHaveLength(2);
      expect(r.stdout).toContain("build-job: [short]");
      expect(r.stdout).toContain("build-job: [my-app-controller,");
    },
  },
  "plain#1": {
    exit: 0,
    why: "line counts of the peer's output and its builds folder are the peer's; both jobs passing is checked",
    check: (r) => {
      expect(passed(r.stdout, "build-job")).toBe(true);
      expect(passed(r.stdout, "test-job")).toBe(true);
    },
  },
  "plain#2": {
    exit: 0,
    check: (r) => expect(r.stdout.split("\n").filter((l) => /^\s*PASS\s+test-job\s/.test(l))).toHaveLength(1),
  },
  "plain#3": { exit: 2, stderr: [/notfound could not be found/] },
  "plain#4": { na: "the peer's --unset-variable option" },
  "plain#5": { na: "the peer's --stage option" },
  "preview#1": {
    command: "plan",
    check: (r) => {
      const job = planOf(r).jobs.find((j) => j.id === "child-job");
      expect(job?.steps[0]?.commands).toEqual(['echo "Default before script"', 'echo "Irrelevant"']);
    },
  },
  "project-ignores-file#1": { na: "the peer's state folder and its rsync of the project" },
  "project-ignores-file#2": { na: "the peer's --ignores-file option" },
  "reference-circular-chain#1": {
    exit: 2,
    stderr: [/!reference circular chain detected \[test-job,script\]/],
  },
  "rules-blank#1": { exit: 2, stderr: [/job\.rules must not be empty/] },
  "rules-needs#1": {
    why: "'build-dev started' is never printed by the peer (it says 'starting'); the rule's needs are checked in the Plan",
    exit: 0,
    stdout: [/^test-job > test-job$/m],
    check: async (_r, dir) => {
      const p = planOf(await gantry(["plan", "--variable", "CI_COMMIT_BRANCH=main"], dir));
      expect(p.jobs.find((j) => j.id === "test-job")?.needs.map((n) => n.job)).toEqual(["build-production"]);
    },
  },
  "rules-needs#2": {
    exit: 0,
    stdout: [/^test-job > test-job$/m, /^build-dev > build-dev$/m],
    check: async (_r, dir) => {
      const p = planOf(await gantry(["plan", "--variable", "CI_COMMIT_BRANCH=feature"], dir));
      expect(p.jobs.find((j) => j.id === "test-job")?.needs.map((n) => n.job)).toEqual(["build-dev"]);
    },
  },
  "schema-validation#1": {
    exit: 2,
    stderr: [
      /test\.script must not be empty/,
      /test\.when must be one of .*\(found "manual2"\)/,
      /junit must be a list of strings/,
      /unknown keyword "data"/,
    ],
  },
  "schema-validation#2": {
    command: "plan",
    args: ["--variable", "CI_COMMIT_BRANCH=feature"],
    why: "preview prints jobs whatever their rules; on a feature branch the job's rule holds and it is in the Plan",
    exit: 0,
    stderr: [/my-job\.artifacts is null and is ignored/],
    check: (r) => {
      const job = planOf(r).jobs.find((j) => j.id === "my-job");
      expect(job?.cache).toEqual([
        { key: "my-key", paths: ["my-file"], policy: "pull-push", when: "on_success" },
      ]);
    },
  },
  "schema-validation#3": {
    exit: 2,
    check: (r) => expect(count(r.stderr, "variables must be a map")).toBe(4),
  },
  "schema-validation#4": {
    exit: 2,
    check: (r) => expect(count(r.stderr, "variables must be a map")).toBe(5),
  },
  "schema-validation#5": {
    exit: 2,
    check: (r) => expect(count(r.stderr, "variables must be a map")).toBe(6),
  },
  "script-multidimension#1": {
    command: "plan",
    check: (r) =>
      expect(planOf(r).jobs[0]?.steps[0]?.commands).toEqual(
        Array.from({ length: 10 }, (_, i) => `echo ${i + 1}`),
      ),
  },
  "script-multidimension#2": {
    exit: 2,
    stderr: [/test-job\.script must be a string or nested lists of strings up to 10 levels deep/],
  },
  "scripts-as-string#1": { exit: 0 },
  "stage-not-found#1": { exit: 2, stderr: [/stage "invalid" of job "test-job" is not defined in stages/] },
  "variable-escaping#1": {
    args: ["--job", "test $ character in CI/CD variable"],
    why: "the peer test names the job through a JS variable; the expected lines follow the expect: line",
    exit: 0,
    lines: [
      'test $ character in CI/CD variable > $ echo "$LS_CMD"',
      'test $ character in CI/CD variable > ls "-al" $TMP_DIR',
    ],
  },
  "when-on-failure#1": { exit: 1, notStdout: [/^deploy-job > Deploy something$/m] },
};

/** The peer's own ways of passing options from files in the case folder. */
function peerFileArgs(caseDir: string, t: PeerTest): string[] {
  const args: string[] = [];
  const envFile = path.join(caseDir, ".gitlab-ci-local-env");
  if (existsSync(envFile)) {
    for (const line of readFileSync(envFile, "utf8").split("\n")) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (!m) continue;
      const value = m[2]!.replace(/^"(.*)"$/, "$1");
      if (m[1] === "FILE" && !t.argv.file) args.push("--file", value);
      if (m[1] === "VARIABLE") for (const kv of value.split(" ")) args.push("--variable", kv);
    }
  }
  const varsFile = path.join(caseDir, ".gitlab-ci-local-variables.yml");
  if (existsSync(varsFile)) {
    const vars = parse(readFileSync(varsFile, "utf8")) as Record<string, unknown>;
    for (const [k, v] of Object.entries(vars)) {
      if (typeof v === "string") args.push("--variable", `${k}=${v}`);
      const star = (v as { values?: Record<string, unknown> }).values?.["*"];
      if (typeof star === "string") args.push("--variable", `${k}=${star}`);
    }
  }
  return args;
}

function argsFor(caseDir: string, t: PeerTest, spec: Spec): string[] {
  const args: string[] = [spec.command ?? "run"];
  if (t.argv.file) args.push("--file", t.argv.file);
  if (spec.command !== "plan") {
    for (const j of t.argv.job) args.push("--job", gitlabMatrixName(j));
    if (t.argv.needs) args.push("--needs");
    for (const m of new Set(t.argv.manual)) args.push("--manual", m);
    if (t.argv.concurrency !== undefined) args.push("--concurrency", String(t.argv.concurrency));
  }
  for (const v of t.argv.variable) args.push("--variable", v);
  args.push(...peerFileArgs(caseDir, t), ...(spec.args ?? []));
  return args;
}

const results = new Map<string, { applicable: number; passed: number }>();
let notApplicableTests = 0;

function record(caseName: string, ok: boolean | undefined): void {
  const r = results.get(caseName) ?? { applicable: 0, passed: 0 };
  if (ok !== undefined) {
    r.applicable++;
    if (ok) r.passed++;
  }
  results.set(caseName, r);
}

/** The peer's cwd can be a folder inside the case (`tests/test-cases/<case>/sub/dir`). */
function subdir(t: PeerTest): string {
  const m = /\bcwd: "tests\/test-cases\/[^/"]+\/?([^"]*)"/.exec(t.argvText);
  return m?.[1] ?? "";
}

async function runOne(caseDir: string, t: PeerTest, spec: Spec): Promise<void> {
  const dir = path.join(checkout(caseDir), subdir(t));
  const r = await gantry(argsFor(caseDir, t, spec), dir, 120_000);
  const where = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  const rejects = t.other.some((l) => /assert-rejects|expect\(true\)\.toBe\(false\)/.test(l));
  if (spec.exit !== undefined) expect(r.code, where).toBe(spec.exit);
  else if (rejects) expect(r.code, where).toBe(2);
  const lines = logLines(r.stdout);
  const wanted = spec.lines ?? t.expect;
  for (const raw of wanted) {
    const e = spec.lines ? classify(raw.replace(" > ", " {greenBright >} ")) : classify(raw);
    if (e.kind === "log") expect(lines, where).toContain(`${e.job} > ${e.text}`.trimEnd());
    else if (e.kind === "pass") {
      expect(passed(r.stdout, e.job), `${e.job} should pass\n${where}`).toBe(true);
      if (e.coverage)
        expect(r.stdout, where).toMatch(
          new RegExp(`PASS\\s+${e.job.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s.*${e.coverage}%`),
        );
    } else if (!spec.peerLines && spec.exit !== 2 && !rejects) {
      throw new Error(`unmapped expect line (add peerLines or a mapping): ${raw}`);
    }
  }
  for (const raw of t.expectNot) {
    const e = classify(raw);
    if (e.kind === "log") expect(lines, where).not.toContain(`${e.job} > ${e.text}`.trimEnd());
    else if (e.kind === "pass")
      expect(passed(r.stdout, e.job), `${e.job} should not run\n${where}`).toBe(false);
  }
  for (const re of spec.stdout ?? []) expect(lines.join("\n"), where).toMatch(re);
  for (const re of spec.notStdout ?? []) expect(lines.join("\n"), where).not.toMatch(re);
  for (const re of spec.stderr ?? []) expect(r.stderr, where).toMatch(re);
  await spec.check?.(r, dir);
}

const corpus = existsSync(corpusDir) ? readCorpus(corpusDir) : [];

describe.concurrent("gitlab conformance (gitlab-ci-local test cases)", () => {
  it("finds the corpus and a built CLI", () => {
    expect(corpus.length).toBeGreaterThan(60);
    expect(existsSync(path.join(repoRoot, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  });

  for (const c of corpus) {
    if (c.tests.length === 0) {
      record(c.name, undefined);
      continue;
    }
    describe(c.name, () => {
      for (const t of c.tests) {
        const id = `${c.name}#${t.index}`;
        const spec = SPECS[id];
        if (!spec) {
          it(`${id} ${t.title}`, () => {
            throw new Error(`no entry for ${id} in SPECS: map it or say why it does not apply`);
          });
          continue;
        }
        if (spec.na) {
          notApplicableTests++;
          record(c.name, undefined);
          it.skip(`${id} ${t.title} — not applicable: ${spec.na}`, () => {});
          continue;
        }
        const body = async () => {
          let ok = false;
          try {
            await runOne(c.dir, t, spec);
            ok = true;
          } finally {
            record(c.name, ok);
          }
        };
        if (spec.gap) it.fails(`${id} ${t.title} — known gap: ${spec.gap}`, body, 120_000);
        else it(`${id} ${t.title}`, body, 120_000);
      }
    });
  }

  afterAll(() => {
    removeCheckouts();
    const cases = [...results.entries()];
    const applicable = cases.filter(([, r]) => r.applicable > 0);
    const passing = applicable.filter(([, r]) => r.passed === r.applicable);
    const tests = applicable.reduce((n, [, r]) => n + r.applicable, 0);
    const testsPassed = applicable.reduce((n, [, r]) => n + r.passed, 0);
    console.log(
      `gitlab conformance: ${passing.length}/${applicable.length} applicable cases pass; ${cases.length - applicable.length} not applicable ` +
        `(tests: ${testsPassed}/${tests} applicable pass, ${notApplicableTests} not applicable)`,
    );
  });
});
