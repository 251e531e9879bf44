#!/usr/bin/env node
// Secrets bench: `gantry scan` against secretlint 12.0.0 (+ preset-recommend) on the shared 50 MiB
// tree with 52 planted secrets, in the same run. Scores both with the shared score.mjs and writes
// bench/results/scan-secrets.md.
//
// Usage: npm run build && node bench/scan-secrets.mjs [--runs 3] [--skip-peer]
// Needs /usr/bin/time (GNU time, Debian package `time`) for peak RSS.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const repo = path.resolve(import.meta.dirname, "..");
const shared = path.resolve(repo, "../shared/bench/secrets");
const peers = path.join(repo, "bench/peers");
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] || 3) || 3;
const skipPeer = args.includes("--skip-peer");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bench-secrets-"));
const tree = path.join(work, "tree");
const manifest = `${tree}.manifest.json`;

function sh(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
}

/** Runs a command under GNU time; returns wall seconds, CPU seconds and peak RSS (MB). */
function timed(cmd, argv, cwd) {
  const r = spawnSync("/usr/bin/time", ["-f", "GNUTIME %e %U %S %M", cmd, ...argv], {
    cwd,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const m = /GNUTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing for ${cmd}: ${r.stderr.slice(-500)}`);
  return {
    wall: Number(m[1]),
    cpu: Number(m[2]) + Number(m[3]),
    rssMB: Number(m[4]) / 1024,
    status: r.status,
    stderr: r.stderr,
  };
}

function score(findings, format) {
  return JSON.parse(sh(process.execPath, [path.join(shared, "score.mjs"), manifest, findings, format, tree]));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`generating the tree in ${tree}`);
const gen = JSON.parse(
  sh(process.execPath, [path.join(shared, "gen-tree.mjs"), tree, "50", "1"])
    .trim()
    .split("\n")
    .pop(),
);
const mib = gen.bytes / 1048576;
const loadBefore = os.loadavg();

// Gantry: the built CLI, all cores (worker threads), secrets only, SARIF out.
const gantryBin = path.join(repo, "bin/gantry");
if (!fs.existsSync(path.join(repo, "dist/cli/main.js"))) throw new Error("run `npm run build` first");
const gantryRuns = [];
for (let i = 0; i < runs; i++) {
  const out = path.join(work, `gantry-${i}.sarif`);
  gantryRuns.push({
    ...timed(
      process.execPath,
      [
        gantryBin,
        "scan",
        tree,
        "--only",
        "secrets",
        "--format",
        "sarif",
        "--output",
        out,
        "--fail-on",
        "never",
      ],
      work,
    ),
    out,
  });
}
const gantryTwo = timed(
  process.execPath,
  [
    gantryBin,
    "scan",
    tree,
    "--only",
    "secrets",
    "--format",
    "sarif",
    "--output",
    path.join(work, "gantry-2w.sarif"),
    "--fail-on",
    "never",
    "--workers",
    "2",
  ],
  work,
);
const gantryOne = timed(
  process.execPath,
  [
    gantryBin,
    "scan",
    tree,
    "--only",
    "secrets",
    "--format",
    "sarif",
    "--output",
    path.join(work, "gantry-1w.sarif"),
    "--fail-on",
    "never",
    "--workers",
    "1",
  ],
  work,
);
const gantryScore = score(gantryRuns[0].out, "sarif");

// secretlint 12.0.0 with the recommended preset, installed into bench/peers (git-ignored).
let peer;
if (!skipPeer) {
  const bin = path.join(peers, "node_modules/secretlint/bin/secretlint.js");
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(peers, { recursive: true });
    fs.writeFileSync(
      path.join(peers, "package.json"),
      JSON.stringify({ name: "gantry-bench-peers", private: true }, null, 2),
    );
    console.log("installing secretlint 12.0.0 into bench/peers");
    sh(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "secretlint@12.0.0",
        "@secretlint/secretlint-rule-preset-recommend@12.0.0",
      ],
      { cwd: peers, stdio: "inherit" },
    );
  }
  const version = JSON.parse(
    fs.readFileSync(path.join(peers, "node_modules/secretlint/package.json"), "utf8"),
  ).version;
  const out = path.join(work, "secretlint.json");
  console.log(`running secretlint ${version} (this takes a while)`);
  const t = timed(
    process.execPath,
    [
      bin,
      "**/*",
      "--secretlintrc",
      path.join(shared, ".secretlintrc.json"),
      "--format",
      "json",
      "--output",
      out,
      "--maskSecrets",
    ],
    tree,
  );
  peer = { version, ...t, score: score(out, "secretlint-json") };
}

const gWall = median(gantryRuns.map((r) => r.wall));
const gBest = Math.min(...gantryRuns.map((r) => r.wall));
const gCpu = median(gantryRuns.map((r) => r.cpu));
const gRss = Math.max(...gantryRuns.map((r) => r.rssMB));
const rows = [
  [
    "Gantry (`gantry scan --only secrets`, default: one thread per idle core)",
    gWall,
    gCpu,
    gRss,
    gantryScore,
  ],
  ["Gantry, two threads forced (`--workers 2`)", gantryTwo.wall, gantryTwo.cpu, gantryTwo.rssMB, null],
  ["Gantry, one thread (`--workers 1`)", gantryOne.wall, gantryOne.cpu, gantryOne.rssMB, null],
  ...(peer
    ? [
        [
          `secretlint ${peer.version} + preset-recommend (as shipped)`,
          peer.wall,
          peer.cpu,
          peer.rssMB,
          peer.score,
        ],
      ]
    : []),
];
const nproc = sh("nproc", []).trim();
const free = sh("free", ["-g"]).trim();
const date = new Date().toISOString();
const fmt = (n, d = 2) => n.toFixed(d);
const table = rows
  .map(
    ([name, wall, cpu, rss, sc]) =>
      `| ${name} | ${fmt(wall)} s | ${fmt(mib / wall, 1)} MiB/s | ${fmt(cpu)} s | ${fmt(mib / cpu, 1)} MiB/s | ${fmt(rss, 0)} MB | ${sc ? `${sc.found}/${sc.planted}` : "—"} | ${sc ? sc.unmatchedFindings : "—"} |`,
  )
  .join("\n");
const byType = (sc) =>
  Object.entries(sc.byType)
    .map(([t, v]) => `${t}: ${v.found}/${v.planted}`)
    .join("; ");
const md = `# Secrets scan: Gantry vs secretlint

Run: ${date} · \`node bench/scan-secrets.mjs --runs ${runs}\` · machine: ${nproc} cores, load average before the run ${loadBefore.map((x) => x.toFixed(1)).join(" / ")}

\`\`\`
${free}
\`\`\`

Input: \`../shared/bench/secrets/gen-tree.mjs tree 50 1\` — ${gen.files} files, ${fmt(mib)} MiB, ${gen.planted} planted secrets (13 types × 4).
Scored with \`../shared/bench/secrets/score.mjs\` (a finding counts when it is on a planted secret's lines).
Wall time and CPU time (user + system) from GNU time; Gantry is the median of ${runs} runs, the peer runs once.
Throughput by CPU time is the load-independent number on this shared machine (other sessions were running).

| scanner | wall | MiB/s (wall) | CPU | MiB/s per CPU-second | peak RSS | planted found | other findings |
| --- | --- | --- | --- | --- | --- | --- | --- |
${table}

${peer ? `Ratio (wall, medians): Gantry is **${fmt(peer.wall / gWall, 1)}×** faster than secretlint; by CPU time **${fmt(peer.cpu / gCpu, 1)}×**.\n` : ""}
Best Gantry run (least disturbed by the other sessions): ${fmt(gBest)} s wall = **${fmt(mib / gBest, 1)} MiB/s**.

Gantry by type: ${byType(gantryScore)}.
${peer ? `\nsecretlint by type: ${byType(peer.score)}.\n` : ""}
Targets (issue 5): ≥ 100 MiB/s, 52/52, peak RSS ≤ 200 MB.
`;
fs.mkdirSync(path.join(repo, "bench/results"), { recursive: true });
const resultFile = path.join(repo, "bench/results/scan-secrets.md");
fs.writeFileSync(resultFile, md);
// Keep the committed file in the repository's format.
spawnSync("npx", ["prettier", "--write", resultFile], { cwd: repo, stdio: "ignore" });
console.log(md);
fs.rmSync(work, { recursive: true, force: true });
