/**
 * Dispatch throughput: one pipeline of N no-op jobs, 8 runner processes, on SQLite and (when
 * GANTRY_TEST_PG_URL is set) PostgreSQL. Two kinds of runners:
 * - protocol: lease, and report the results on the next lease (the server's queue and HTTP
 *   path alone);
 * - gantry runner: real `gantry runner` processes running each job with the engine (an
 *   `echo` step: workspace, engine, the result with its log).
 * Also records CPU time per job of the server, the runners and PostgreSQL, and runner
 * requests per job. Writes bench/results/server-dispatch.md.
 */
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { machine } from "./lib.js";
import {
  api,
  compiled,
  echoJobs,
  twoStageJobs,
  finish,
  gantryMain,
  gitRepo,
  node,
  type Proc,
  repoRoot,
  server,
  tmp,
} from "./server-lib.js";

const N = Number(process.env.BENCH_JOBS ?? 2000);
const RUNNERS = 8;
const PG = process.env.GANTRY_TEST_PG_URL;
const TWO_STAGES = "gantry runner, 2 stages";
type Kind = "protocol" | "gantry runner" | typeof TWO_STAGES;

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

/** CPU time (user + system) a process has used so far, ms. */
function cpuMs(pid: number | undefined): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU time of every PostgreSQL process (shared with anything else using the cluster). */
function pgCpuMs(): number {
  let pids: string[] = [];
  try {
    pids = execFileSync("pgrep", ["-x", "postgres"]).toString().split(/\s+/).filter(Boolean);
  } catch {
    // none
  }
  return pids.reduce((a, p) => a + cpuMs(Number(p)), 0);
}

/** Runner requests the server answered, from its metrics. */
async function runnerRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n"))
    if (
      line.startsWith("gantry_http_request_duration_seconds_count") &&
      line.includes('route="/api/v1/runner/')
    )
      n += Number(line.split(" ").pop());
  return n;
}

interface Result {
  jobsPerSec: number;
  ms: number;
  /** CPU ms per job: server, runners (all 8), PostgreSQL. */
  cpu: { server: number; runners: number; pg: number };
  requestsPerJob: number;
}

async function once(db: "sqlite" | "postgres", kind: Kind, port: number): Promise<Result> {
  const pg = db === "postgres" ? await pgDb() : undefined;
  const s = await server({ dataDir: tmp("gantry-bench-d-"), port, ...(pg ? { databaseUrl: pg.url } : {}) });
  const call = api(s.url);
  const runners: Proc[] = [];
  try {
    await call("POST", "/api/v1/projects", {
      name: "bench",
      repo: gitRepo({ "gantry.yml": kind === TWO_STAGES ? twoStageJobs(N) : echoJobs(N) }),
    });
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
    const cpu = () => ({
      server: cpuMs(s.proc.pid),
      runners: runners.reduce((a, r) => a + cpuMs(r.proc.pid), 0),
      pg: db === "postgres" ? pgCpuMs() : 0,
    });
    const req0 = await runnerRequests(s.url);
    const c0 = cpu();
    const t0 = Date.now();
    const r = await finish(s.url, id, t0, 600_000, "bench");
    const c1 = cpu();
    const req1 = await runnerRequests(s.url);
    if (r.status !== "success") throw new Error(`pipeline ${r.status}`);
    return {
      jobsPerSec: N / (r.ms / 1000),
      ms: r.ms,
      cpu: {
        server: (c1.server - c0.server) / N,
        runners: (c1.runners - c0.runners) / N,
        pg: (c1.pg - c0.pg) / N,
      },
      requestsPerJob: (req1 - req0) / N,
    };
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
  for (const kind of ["protocol", "gantry runner", TWO_STAGES] as const) {
    const r = await once(db, kind, port++);
    const c = r.cpu;
    process.stdout.write(
      `${db} ${kind}: ${r.jobsPerSec.toFixed(0)} jobs/s (${N} jobs in ${(r.ms / 1000).toFixed(1)} s); CPU ms/job server ${c.server.toFixed(2)}, runners ${c.runners.toFixed(2)}, postgres ${c.pg.toFixed(2)}; ${r.requestsPerJob.toFixed(2)} runner requests/job\n`,
    );
    rows.push(
      `| ${db} | ${kind} | ${N} | ${(r.ms / 1000).toFixed(1)} s | **${r.jobsPerSec.toFixed(0)}** | ${c.server.toFixed(2)} | ${c.runners.toFixed(2)} | ${db === "postgres" ? c.pg.toFixed(2) : "–"} | ${r.requestsPerJob.toFixed(2)} |`,
    );
  }

const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md = `# Server dispatch throughput

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} (load average at the end: ${load}; the 2 cores are shared with other work).
\`bench/server-dispatch.ts\`: one pipeline of ${N} independent jobs (one \`echo\` step each), ${RUNNERS} runner
processes on the same machine as the server, timed from the pipeline's jobs being queued to the pipeline finishing
(seen by polling the project's pipeline list every 50 ms; that poll's small cost is in the server's CPU).

- **protocol**: each runner process leases up to 8 jobs per long-poll and reports them done on
  its next lease (the server's queue, leases and HTTP path alone).
- **gantry runner**: real \`gantry runner --concurrency 4\` processes; each job runs in the engine
  (workspace copy, the step, the result with its log, carried by the runner's next lease).
- **gantry runner, 2 stages**: the same runners; two stages of ${N / 2} jobs, every job of the
  second needing every job of the first (GitLab stages).
- CPU columns: CPU time (user + system, from \`/proc\`) per job while the pipeline ran, of the
  server, of all 8 runners, and of every PostgreSQL process (shared with anything else using
  the cluster); requests: runner protocol requests the server answered, per job.

| database | runners | jobs | wall | jobs/s | server CPU ms/job | runners CPU ms/job | PostgreSQL CPU ms/job | requests/job |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Before the batched protocol (runner protocol 1, same machine, same bench, 2026-11-26 morning): protocol SQLite 634–789,
PostgreSQL 279–286; gantry runner SQLite 240–294, PostgreSQL 123–130 jobs/s; two stages (measured with the
profiling harness): SQLite 35, PostgreSQL 18 jobs/s.

Target (issue 6): ≥ 500 jobs/s. No peer was run: no other CI server is installable here
(network limited to npm and Debian); the protocol row is the ceiling the runner rows approach.
`;
fs.writeFileSync(path.join(repoRoot, "bench/results/server-dispatch.md"), md);
process.stdout.write(md);
