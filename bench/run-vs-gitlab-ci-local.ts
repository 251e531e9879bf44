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
// Both started the way users start them: their installed executables (`#!/usr/bin/env node`
// for the peer, bin/gantry's shell launcher for Gantry).
const peer = path.join(root, "bench/peers/gcl/node_modules/.bin/gitlab-ci-local");
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
// Node reads NODE_EXTRA_CA_CERTS (and then all root certificates) before any code runs: when
// the machine sets it, both tools are also measured without it.
const caCerts = process.env.NODE_EXTRA_CA_CERTS;
const withoutCa = caCerts === undefined ? undefined : { NODE_EXTRA_CA_CERTS: "" };
const variants: [string, string[], Record<string, string> | undefined][] = [
  ["six-jobs.gitlab-ci.yml", [], undefined],
  ["parallel50.gitlab-ci.yml", [], undefined],
  ["six-jobs.gitlab-ci.yml", ["--concurrency", "6"], undefined],
  ["parallel50.gitlab-ci.yml", ["--concurrency", "50"], undefined],
  ...(withoutCa
    ? ([
        ["six-jobs.gitlab-ci.yml", [], withoutCa],
        ["parallel50.gitlab-ci.yml", [], withoutCa],
      ] as [string, string[], Record<string, string>][])
    : []),
];
for (const [input, extra, extraEnv] of variants) {
  const env = { CI: "true", ...extraEnv };
  const gDir = project(input);
  const pDir = project(input);
  const g: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = wallMs(gantry, ["run", ...extra], gDir, env);
    if (a.code !== 0) throw new Error(`gantry failed on ${input}:\n${a.stdout}\n${a.stderr}`);
    g.push(a.ms);
    const b = wallMs(peer, ["--no-color"], pDir, env);
    if (b.code !== 0) throw new Error(`gitlab-ci-local failed on ${input}:\n${b.stdout}\n${b.stderr}`);
    p.push(b.ms);
  }
  const gRss = timed(gantry, ["run", ...extra], gDir, env).rssMb;
  const pRss = timed(peer, ["--no-color"], pDir, env).rssMb;
  const ratio = median(g) / median(p);
  results.push(
    `| ${input.replace(".gitlab-ci.yml", "")} | ${extra.length ? extra.join(" ") : "defaults"}${extraEnv ? ", both without NODE_EXTRA_CA_CERTS" : ""} | ${median(g).toFixed(0)} ms | ${median(p).toFixed(0)} ms | **${ratio.toFixed(3)}×** | ${gRss.toFixed(0)} MB | ${pRss.toFixed(0)} MB |`,
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
Both tools start as installed (\`bin/gantry\`; the peer's \`node_modules/.bin/gitlab-ci-local\`).
${caCerts === undefined ? "NODE_EXTRA_CA_CERTS is not set on this machine." : `This machine sets NODE_EXTRA_CA_CERTS (${caCerts}), which makes every Node process read the system's root certificates and the extra ones before any code runs; bin/gantry moves it aside for local commands (their jobs still get it). The last rows unset it for both tools.`}
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
