/**
 * A 100-job DAG with uneven job durations (deterministic), run by `gantry run`, against its
 * critical-path lower bound (the longest chain of durations through the needs). Measures the
 * pipeline's duration from Gantry's own `run.finished` event and the process wall time.
 *
 * Run: `npm run build && npx tsx bench/dag-critical-path.ts [runs]`
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { machine, median, timed } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const runs = Number(process.argv[2] ?? 5);
const N = 100;

// A small deterministic PRNG so every run measures the same graph.
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

const durations: number[] = [];
const needs: number[][] = [];
for (let i = 0; i < N; i++) {
  durations.push(Math.round(50 + rand() * 450)); // 50–500 ms
  const k = i === 0 ? 0 : Math.floor(rand() * 4); // 0–3 needs on earlier jobs
  needs.push([...new Set(Array.from({ length: k }, () => Math.floor(rand() * i)))]);
}
const finish: number[] = [];
for (let i = 0; i < N; i++) finish.push(durations[i]! + Math.max(0, ...needs[i]!.map((d) => finish[d]!)));
const bound = Math.max(...finish);

const yaml = [
  "pipeline:",
  "  agent: any",
  "  stages:",
  ...durations.flatMap((d, i) => [
    `    - stage: job-${i}`,
    `      needs: [${needs[i]!.map((n) => `job-${n}`).join(", ")}]`,
    `      steps: ["sleep ${(d / 1000).toFixed(3)}"]`,
  ]),
].join("\n");
const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-dag-"));
writeFileSync(path.join(dir, "gantry.yml"), `${yaml}\n`);
spawnSync("git", ["init", "-q"], { cwd: dir });

const pipelineMs: number[] = [];
const wallMs: number[] = [];
let rss = 0;
for (let i = 0; i < runs; i++) {
  const r = timed(path.join(root, "bin/gantry"), ["run", "--json", "--concurrency", String(N)], dir, {
    CI: "true",
  });
  if (r.code !== 0) throw new Error(`gantry failed:\n${r.stdout.slice(-2000)}`);
  const fin = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; durationMs?: number })
    .find((e) => e.type === "run.finished");
  pipelineMs.push(fin!.durationMs!);
  wallMs.push(r.wall * 1000);
  rss = Math.max(rss, r.rssMb);
}
const over = median(pipelineMs) / bound - 1;
const report = `# 100-job DAG against its critical path

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}.
${N} jobs, each \`sleep\` 50–500 ms, each needing 0–3 earlier jobs (deterministic graph),
\`gantry run --concurrency ${N}\` (jobs sleep, so the limit is the graph, not the cores),
${runs} runs.

| measure | value |
| --- | --- |
| critical-path lower bound | ${bound} ms |
| pipeline duration (median, from \`run.finished\`) | ${median(pipelineMs).toFixed(0)} ms |
| over the bound | **${(over * 100).toFixed(1)} %** |
| process wall time (median) | ${median(wallMs).toFixed(0)} ms |
| peak RSS | ${rss.toFixed(0)} MB |

Target (issue 2): within 10 % of the bound.
`;
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(path.join(root, "bench/results/dag-critical-path.md"), report);
console.log(report);
