/**
 * Dispatch throughput: one pipeline of N no-op jobs, 8 runner processes, on SQLite and (when
 * GANTRY_TEST_PG_URL is set) PostgreSQL. Two kinds of runners:
 * - protocol: lease → finish at once (the server's queue and HTTP path alone);
 * - gantry runner: real `gantry runner` processes running each job with the engine (an
 *   `echo` step: workspace, engine, log batch, finish).
 * Writes bench/results/server-dispatch.md.
 */
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { machine } from "./lib.js";
import {
  api,
  compiled,
  echoJobs,
  finish,
  gantryMain,
  gitRepo,
  node,
  repoRoot,
  server,
  tmp,
} from "./server-lib.js";

const N = Number(process.env.BENCH_JOBS ?? 2000);
const RUNNERS = 8;
const PG = process.env.GANTRY_TEST_PG_URL;

async function pgDb(): Promise<{ url: string; drop: () => void }> {
  const name = `gantry_bench_${Date.now()}`;
  execFileSync("psql", [PG!, "-qc", `create database ${name}`]);
  const u = new URL(PG!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: () => execFileSync("psql", [PG!, "-qc", `drop database if exists ${name} with (force)`]),
  };
}

async function once(
  db: "sqlite" | "postgres",
  kind: "protocol" | "gantry runner",
  port: number,
): Promise<{ jobsPerSec: number; ms: number }> {
  const pg = db === "postgres" ? await pgDb() : undefined;
  const s = await server({ dataDir: tmp("gantry-bench-d-"), port, ...(pg ? { databaseUrl: pg.url } : {}) });
  const call = api(s.url);
  const runners = [];
  try {
    await call("POST", "/api/v1/projects", { name: "bench", repo: gitRepo({ "gantry.yml": echoJobs(N) }) });
    for (let i = 0; i < RUNNERS; i++) {
      const { token } = await call<{ token: string }>("POST", "/api/v1/runners", { name: `r${i}` });
      runners.push(
        kind === "protocol"
          ? node(path.join(repoRoot, "bench/server-noop-runner.ts"), [s.url, token, "8"])
          : node(gantryMain(), [
              "runner",
              "--server",
              s.url,
              "--token",
              token,
              "--concurrency",
              "4",
              "--work-dir",
              tmp("gantry-bench-w-"),
            ]),
      );
    }
    await new Promise((r) => setTimeout(r, 3_000)); // runners registered and polling
    const { id } = await call<{ id: number }>("POST", "/api/v1/projects/bench/pipelines", {});
    await compiled(s.url, id);
    const t0 = Date.now();
    const r = await finish(s.url, id, t0);
    if (r.status !== "success") throw new Error(`pipeline ${r.status}`);
    return { jobsPerSec: N / (r.ms / 1000), ms: r.ms };
  } finally {
    for (const r of runners) r.kill();
    s.kill();
    await new Promise((r) => setTimeout(r, 500));
    pg?.drop();
  }
}

const rows: string[] = [];
let port = 18_700;
for (const db of PG ? (["sqlite", "postgres"] as const) : (["sqlite"] as const))
  for (const kind of ["protocol", "gantry runner"] as const) {
    const r = await once(db, kind, port++);
    process.stdout.write(
      `${db} ${kind}: ${r.jobsPerSec.toFixed(0)} jobs/s (${N} jobs in ${(r.ms / 1000).toFixed(1)} s)\n`,
    );
    rows.push(`| ${db} | ${kind} | ${N} | ${(r.ms / 1000).toFixed(1)} s | **${r.jobsPerSec.toFixed(0)}** |`);
  }

const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md = `# Server dispatch throughput

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} (load average at the end: ${load}; the 2 cores are shared with other work).
\`bench/server-dispatch.ts\`: one pipeline of ${N} independent jobs (one \`echo\` step each), ${RUNNERS} runner
processes on the same machine as the server, timed from the pipeline's jobs being queued to the pipeline finishing.

- **protocol**: each runner process leases up to 8 jobs per long-poll and reports them done at once
  (the server's queue, leases and HTTP path alone).
- **gantry runner**: real \`gantry runner --concurrency 4\` processes; each job runs in the engine
  (workspace copy, the step, a log batch, the result).

| database | runners | jobs | wall | jobs/s |
| --- | --- | --- | --- | --- |
${rows.join("\n")}

Target (issue 6): ≥ 500 jobs/s. No peer was run: no other CI server is installable here
(network limited to npm and Debian); the protocol row is the ceiling the runner rows approach.
`;
fs.writeFileSync(path.join(repoRoot, "bench/results/server-dispatch.md"), md);
process.stdout.write(md);
