/**
 * `gantry run` against gitlab-ci-local 4.73.0 on the shared inputs (six-jobs, parallel50),
 * in the same run, interleaved, median wall time of N runs each, plus peak RSS.
 *
 * Peer set-up (once): `apt-get install rsync` and
 *   mkdir -p bench/peers/gcl && cd bench/peers/gcl && npm init -y && npm install gitlab-ci-local@4.73.0
 * Run: `npm run build && npx tsx bench/run-vs-gitlab-ci-local.ts [runs]`
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { machine, median, timed, wallMs } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const peer = path.join(root, "bench/peers/gcl/node_modules/gitlab-ci-local/dist/index.js");
const gantry = path.join(root, "bin/gantry");
const runs = Number(process.argv[2] ?? 10);

function project(input: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-bench-"));
  copyFileSync(path.join(root, "../shared/bench/gitlab", input), path.join(dir, ".gitlab-ci.yml"));
  spawnSync("git", ["init", "-q"], { cwd: dir });
  return dir;
}

const results: string[] = [];
// Gantry's default runs as many jobs at once as there are cores; gitlab-ci-local runs every
// job of a stage at once. Both are measured: defaults against defaults, and Gantry at the
// peer's parallelism.
const variants: [string, string[]][] = [
  ["six-jobs.gitlab-ci.yml", []],
  ["parallel50.gitlab-ci.yml", []],
  ["six-jobs.gitlab-ci.yml", ["--concurrency", "6"]],
  ["parallel50.gitlab-ci.yml", ["--concurrency", "50"]],
];
for (const [input, extra] of variants) {
  const gDir = project(input);
  const pDir = project(input);
  const g: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = wallMs(process.execPath, [gantry, "run", ...extra], gDir, { CI: "true" });
    if (a.code !== 0) throw new Error(`gantry failed on ${input}:\n${a.stdout}\n${a.stderr}`);
    g.push(a.ms);
    const b = wallMs(process.execPath, [peer, "--no-color"], pDir, { CI: "true" });
    if (b.code !== 0) throw new Error(`gitlab-ci-local failed on ${input}:\n${b.stdout}\n${b.stderr}`);
    p.push(b.ms);
  }
  const gRss = timed(process.execPath, [gantry, "run", ...extra], gDir, { CI: "true" }).rssMb;
  const pRss = timed(process.execPath, [peer, "--no-color"], pDir, { CI: "true" }).rssMb;
  const ratio = median(g) / median(p);
  results.push(
    `| ${input.replace(".gitlab-ci.yml", "")} | ${extra.length ? extra.join(" ") : "defaults"} | ${median(g).toFixed(0)} ms | ${median(p).toFixed(0)} ms | **${ratio.toFixed(3)}×** | ${gRss.toFixed(0)} MB | ${pRss.toFixed(0)} MB |`,
  );
  console.log(results.at(-1));
  rmSync(gDir, { recursive: true, force: true });
  rmSync(pDir, { recursive: true, force: true });
}

const report = `# gantry run vs gitlab-ci-local 4.73.0

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}.
${runs} runs of each tool per input, interleaved, median wall time (process start to exit,
\`CI=true\`, output discarded), peak RSS from \`/usr/bin/time\`. Inputs: \`../shared/bench/gitlab/\`,
each as \`.gitlab-ci.yml\` in a fresh \`git init\` folder. gitlab-ci-local runs with its
defaults (shell executor, every job of a stage at once); Gantry with its defaults (as many
jobs at once as cores) and with \`--concurrency\` matching the peer's parallelism.
Load average while measuring: ${os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(", ")} (other work
was running on the machine; both tools ran interleaved under the same load).

| input | gantry flags | gantry (median) | gitlab-ci-local (median) | ratio | gantry peak RSS | peer peak RSS |
| --- | --- | --- | --- | --- | --- | --- |
${results.join("\n")}

Targets (issue 2): ≤ 0.25× on six-jobs, ≤ 0.2× on parallel50.
`;
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(path.join(root, "bench/results/run-vs-gitlab-ci-local.md"), report);
console.log(report);
