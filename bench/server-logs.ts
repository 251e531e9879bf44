/**
 * Log ingestion: a runner streams log batches (256 KiB of 100-character lines each, 4 jobs
 * at once, as `gantry runner` ships them) into the server until 256 MiB are stored; MB/s
 * from the first batch to the last answer, and the server's peak RSS. Peer in the same run:
 * appending the same batches to a file with `fs.appendFileSync` (the disk's pace, no HTTP or
 * database). Writes bench/results/server-logs.md.
 */
import fs from "node:fs";
import path from "node:path";
import { machine } from "./lib.js";
import { api, gitRepo, peakRssMb, repoRoot, server, tmp } from "./server-lib.js";
import { RunnerClient } from "../src/runner/client.js";
import { PROTOCOL_VERSION, type LeaseResponse } from "../src/runner/protocol.js";

const TOTAL = 256 * 1024 * 1024;
const BATCH = 256 * 1024;
const JOBS = 4;
const PG = process.env.GANTRY_TEST_PG_URL;

const line = "x".repeat(99) + "\n";
/** Exactly BATCH bytes of 100-byte lines, the first naming the batch. */
const batchText = (seq: number) =>
  (
    `batch ${String(seq).padStart(8, "0")} `.padEnd(99, "-") +
    "\n" +
    line.repeat(Math.ceil(BATCH / 100))
  ).slice(0, BATCH - 1) + "\n";

async function ingest(
  db: "sqlite" | "postgres",
  port: number,
): Promise<{ mbps: number; rss: number; stored: number }> {
  let databaseUrl: string | undefined;
  let drop = () => {};
  if (db === "postgres") {
    const { execFileSync } = await import("node:child_process");
    const name = `gantry_bench_logs_${Date.now()}`;
    execFileSync("psql", [PG!, "-qc", `create database ${name}`]);
    const u = new URL(PG!);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    drop = () => execFileSync("psql", [PG!, "-qc", `drop database if exists ${name} with (force)`]);
  }
  const s = await server({
    dataDir: tmp("gantry-bench-logs-"),
    port,
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  try {
    const call = api(s.url);
    const stages = Array.from(
      { length: JOBS },
      (_, i) => `        - stage: l${i}\n          steps:\n            - echo: x\n`,
    ).join("");
    await call("POST", "/api/v1/projects", {
      name: "logs",
      repo: gitRepo({
        "gantry.yml": `pipeline:\n  agent: any\n  stages:\n    - stage: L\n      parallel:\n${stages}`,
      }),
    });
    const { token } = await call<{ token: string }>("POST", "/api/v1/runners", { name: "log-bench" });
    const c = new RunnerClient(s.url, token);
    await c.json("POST", "/api/v1/runner/register", {
      protocolVersion: PROTOCOL_VERSION,
      name: "log-bench",
      labels: [],
      executors: ["shell"],
      concurrency: JOBS,
      version: "bench",
    });
    await call("POST", "/api/v1/projects/logs/pipelines", {});
    const jobs: LeaseResponse["jobs"] = [];
    for (let i = 0; i < 100 && jobs.length < JOBS; i++)
      jobs.push(
        ...(
          await c.json<LeaseResponse>("POST", "/api/v1/runner/lease", {
            slots: JOBS - jobs.length,
            waitMs: 1_000,
          })
        ).jobs,
      );
    const perJob = TOTAL / JOBS / BATCH;
    const t0 = performance.now();
    await Promise.all(
      jobs.map(async (j) => {
        for (let seq = 1; seq <= perJob; seq++)
          await c.json("POST", `/api/v1/runner/jobs/${j.id}/logs`, {
            attempt: j.attempt,
            seq,
            text: batchText(seq),
          });
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const rss = peakRssMb(s.proc.pid!);
    let stored = 0;
    for (const j of jobs) stored += (await call<{ logSize: number }>("GET", `/api/v1/jobs/${j.id}`)).logSize;
    // Spot-check: a byte range from the middle of the log is the batch that was sent there.
    const mid = await fetch(`${s.url}/api/v1/jobs/${jobs[0]!.id}/log`, {
      headers: {
        authorization: `Bearer ${(await import("./server-lib.js")).ADMIN}`,
        range: `bytes=${BATCH * 7}-${BATCH * 7 + 99}`,
      },
    }).then((r) => r.text());
    if (!mid.startsWith("batch 00000008"))
      throw new Error(`range read returned ${JSON.stringify(mid.slice(0, 40))}`);
    return { mbps: TOTAL / 1024 / 1024 / secs, rss, stored };
  } finally {
    s.kill();
    await new Promise((r) => setTimeout(r, 500));
    drop();
  }
}

function peer(): number {
  const file = path.join(tmp("gantry-bench-peer-"), "log");
  const t0 = performance.now();
  for (let seq = 1; seq <= TOTAL / BATCH; seq++) fs.appendFileSync(file, batchText(seq));
  const secs = (performance.now() - t0) / 1000;
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return TOTAL / 1024 / 1024 / secs;
}

const rows: string[] = [];
let port = 18_900;
for (const db of PG ? (["sqlite", "postgres"] as const) : (["sqlite"] as const)) {
  const r = await ingest(db, port++);
  if (r.stored !== TOTAL) throw new Error(`stored ${r.stored} bytes, sent ${TOTAL}`);
  process.stdout.write(`${db}: ${r.mbps.toFixed(1)} MB/s, server peak RSS ${r.rss.toFixed(0)} MB\n`);
  rows.push(`| Gantry, ${db} | **${r.mbps.toFixed(1)}** | ${r.rss.toFixed(0)} |`);
}
const p = peer();
rows.push(`| peer: appendFileSync to one file | ${p.toFixed(1)} | |`);

const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md = `# Server log ingestion

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} (load average at the end: ${load}; the 2 cores are shared).
\`bench/server-logs.ts\`: ${JOBS} leased jobs each stream ${TOTAL / JOBS / 1024 / 1024} MiB of log in ${BATCH / 1024} KiB batches
(\`POST /api/v1/runner/jobs/{id}/logs\`, JSON, sequential per job, the jobs in parallel) to a server compiled
to JavaScript; every byte is checked stored (\`logSize\`) and a byte range read back.

| ingestion | MB/s | server peak RSS MB |
| --- | --- | --- |
${rows.join("\n")}

Target (issue 6): ≥ 50 MB/s with server RSS ≤ 200 MB.
`;
fs.writeFileSync(path.join(repoRoot, "bench/results/server-logs.md"), md);
process.stdout.write(md);
