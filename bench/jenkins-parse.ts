/**
 * Parse + compile time of every Jenkinsfile in ../shared/corpus/jenkins (samples and errors/),
 * in process: median and p95 per file and over all files, for the parser alone and for the
 * whole compile to a Plan. Side by side, in the same run: the same pipelines converted to
 * .gitlab-ci.yml and compiled by Gantry's GitLab frontend (no JVM peer can run here: Jenkins'
 * own validator needs a running Jenkins). Run: npx tsx bench/jenkins-parse.ts
 * Writes bench/results/jenkins-parse.md.
 */
import { execSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { convertPlan } from "../src/pipeline/convert/index.js";
import { emptyGitInfo } from "../src/pipeline/git.js";
import { compileJenkinsfileDetailed, parseGroovy } from "../src/pipeline/jenkins/index.js";
import type { Frontend } from "../src/pipeline/context.js";
import { machine, median, percentile } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const corpus = path.resolve(root, "../shared/corpus/jenkins");
const WARMUP = 5;
const RUNS = Number(process.env.RUNS ?? 40);
const files = [
  ...readdirSync(corpus).filter((f) => /\.(groovy|Jenkinsfile)$/.test(f)),
  ...readdirSync(path.join(corpus, "errors"))
    .filter((f) => f.endsWith(".groovy"))
    .map((f) => `errors/${f}`),
];
const projectDir = mkdtempSync(path.join(tmpdir(), "gantry-bench-jk-"));
const ctx = (file: string, source: string) => ({
  projectDir,
  file,
  source,
  variables: {},
  params: {},
  git: emptyGitInfo(projectDir),
  libraries: [],
  cacheDir: path.join(projectDir, ".cache"),
  env: {},
});
const gitlabModule = "../src/pipeline/gitlab/index.js";
const { compileGitlab } = (await import(gitlabModule)) as { compileGitlab: Frontend };

async function time(fn: () => unknown): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

interface Row {
  file: string;
  bytes: number;
  jobs: number;
  parse: number[];
  compile: number[];
  gitlab?: number[];
}
const rows: Row[] = [];
for (const file of files) {
  const source = readFileSync(path.join(corpus, file), "utf8");
  const parse = await time(() => parseGroovy(source, file));
  const compile = await time(() => compileJenkinsfileDetailed(ctx(file, source)));
  const { plan, diagnostics } = await compileJenkinsfileDetailed(ctx(file, source));
  const row: Row = { file, bytes: source.length, jobs: plan.jobs.length, parse, compile };
  if (!diagnostics.some((d) => d.severity === "error")) {
    const yml = convertPlan(plan, "gitlab");
    row.gitlab = await time(() => compileGitlab({ ...ctx(".gitlab-ci.yml", yml), file: ".gitlab-ci.yml" }));
  }
  rows.push(row);
}

const fmt = (ms: number): string => (ms < 1 ? ms.toFixed(3) : ms.toFixed(2));
const all = (k: "parse" | "compile"): number[] => rows.flatMap((r) => r[k]);
const perFileMedians = (k: "parse" | "compile"): number[] => rows.map((r) => median(r[k]));
const paired = rows.filter((r) => r.gitlab);
const ratio = median(paired.map((r) => median(r.compile) / median(r.gitlab!)));
const sh = (cmd: string): string => {
  try {
    return execSync(cmd, { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};

const lines = [
  "# Jenkinsfile parse + compile time",
  "",
  `Date: ${new Date().toISOString()}. Machine: ${machine()}; \`nproc\` = ${sh("nproc")}; \`free -g\`: ${sh("free -g | sed -n 2p").replace(/\s+/g, " ")}.`,
  `Command: \`npx tsx bench/jenkins-parse.ts\` (in process, ${WARMUP} warm-up runs, then ${RUNS} timed runs per file).`,
  "",
  `Corpus: ${files.length} files from \`../shared/corpus/jenkins\` (60 samples, 22 errors/ cases).`,
  "",
  "| | median | p95 | max |",
  "| --- | ---: | ---: | ---: |",
  `| parse only, all runs of all files (ms) | ${fmt(median(all("parse")))} | ${fmt(percentile(all("parse"), 95))} | ${fmt(Math.max(...all("parse")))} |`,
  `| parse + compile to a Plan, all runs of all files (ms) | ${fmt(median(all("compile")))} | ${fmt(percentile(all("compile"), 95))} | ${fmt(Math.max(...all("compile")))} |`,
  `| parse + compile, per-file medians (ms) | ${fmt(median(perFileMedians("compile")))} | ${fmt(percentile(perFileMedians("compile"), 95))} | ${fmt(Math.max(...perFileMedians("compile")))} |`,
  "",
  `Side by side: the same ${paired.length} compilable pipelines converted to .gitlab-ci.yml and compiled by Gantry's GitLab frontend in the same run:`,
  `median of per-file ratios Jenkinsfile compile / GitLab compile = ${ratio.toFixed(2)}×. No external peer: Jenkins' own validator (declarative-linter) needs a running Jenkins (a JVM), which this machine cannot fetch.`,
  "",
  "## Per file (ms)",
  "",
  "| file | bytes | jobs | parse median | parse p95 | compile median | compile p95 | GitLab-frontend median |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    (r) =>
      `| ${r.file} | ${r.bytes} | ${r.jobs} | ${fmt(median(r.parse))} | ${fmt(percentile(r.parse, 95))} | ${fmt(median(r.compile))} | ${fmt(percentile(r.compile, 95))} | ${r.gitlab ? fmt(median(r.gitlab)) : "–"} |`,
  ),
  "",
];
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(path.join(root, "bench/results/jenkins-parse.md"), lines.join("\n"));
console.log(lines.slice(0, 16).join("\n"));
