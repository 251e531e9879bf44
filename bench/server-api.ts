/**
 * API latency: `GET /api/v1/projects/{name}/pipelines` (a page of 20) with 10,000 pipelines
 * stored, measured with wrk (saturation, 4 connections) and with a fixed 500 req/s load
 * (p50/p99). Peer in the same run: a bare Fastify server answering the same JSON page with
 * no database, the ceiling of the HTTP stack on this machine. Writes bench/results/server-api.md.
 */
import fs from "node:fs";
import path from "node:path";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import Fastify from "fastify";
import { machine, percentile } from "./lib.js";
import { ADMIN, repoRoot, server, tmp } from "./server-lib.js";
import { openDb } from "../src/store/db.js";
import { createProject } from "../src/store/projects.js";

const PIPELINES = 10_000;
const PG = process.env.GANTRY_TEST_PG_URL;

async function seed(where: { sqlite: string } | { url: string }): Promise<void> {
  const db = await openDb(where);
  const projectId = await createProject(db, {
    name: "bench",
    repo: "/nonexistent",
    defaultBranch: "main",
    pipelineFile: null,
    webhookSecret: null,
  });
  const now = Date.now();
  for (let i = 0; i < PIPELINES; i += 500) {
    const rows = Array.from({ length: Math.min(500, PIPELINES - i) }, (_, k) => ({
      project_id: projectId,
      status: ["success", "failed", "success", "canceled"][(i + k) % 4]!,
      ref: (i + k) % 3 ? "main" : "feature",
      sha: "f".repeat(40),
      trigger: "push",
      variables: "{}",
      params: "{}",
      plan: null,
      diagnostics: "[]",
      error: null,
      created_by: "bench",
      created_at: now - (PIPELINES - i - k) * 1000,
      started_at: now - (PIPELINES - i - k) * 1000,
      finished_at: now - (PIPELINES - i - k) * 1000 + 30_000,
    }));
    await db.k.insertInto("pipelines").values(rows).execute();
  }
  await db.close();
}

async function wrk(url: string, headers: string[]): Promise<{ rps: number; p50: number; p99: number }> {
  // Asynchronous: the peer server answers from this very process.
  const { stdout: out } = await promisify(execFile)(
    "wrk",
    ["-t2", "-c4", "-d10s", "--latency", ...headers.flatMap((h) => ["-H", h]), url],
    { encoding: "utf8" },
  );
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), p50: ms("50"), p99: ms("99") };
}

/** Open-loop load at a fixed rate: one request every 1/rate s, whatever the answers do. */
async function fixedRate(
  url: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; errors: number; sent: number }> {
  const lat: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      fetch(url, { headers })
        .then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) errors++;
          // Measured from when the request was due (no coordinated omission).
          lat.push(performance.now() - due);
        })
        .catch(() => void errors++),
    );
  }
  await Promise.all(inflight);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), errors, sent: total };
}

const rows: string[] = [];
let page = "";
let port = 18_800;
for (const db of PG ? (["sqlite", "postgres"] as const) : (["sqlite"] as const)) {
  const dataDir = tmp("gantry-bench-api-");
  let databaseUrl: string | undefined;
  let drop = () => {};
  if (db === "postgres") {
    const name = `gantry_bench_api_${Date.now()}`;
    execFileSync("psql", [PG!, "-qc", `create database ${name}`]);
    const u = new URL(PG!);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    drop = () => execFileSync("psql", [PG!, "-qc", `drop database if exists ${name} with (force)`]);
  }
  await seed(databaseUrl ? { url: databaseUrl } : { sqlite: path.join(dataDir, "gantry.db") });
  const s = await server({ dataDir, port: port++, ...(databaseUrl ? { databaseUrl } : {}) });
  try {
    const url = `${s.url}/api/v1/projects/bench/pipelines?limit=20`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } });
    page = await res.text();
    const parsed = JSON.parse(page) as { items: unknown[]; nextCursor: string };
    if (parsed.items.length !== 20) throw new Error(`unexpected page: ${page.slice(0, 200)}`);
    // A deep page too: keyset pagination keeps it as cheap as the first.
    const deep = `${s.url}/api/v1/projects/bench/pipelines?limit=20&cursor=${Math.floor(PIPELINES / 2)}&status=success`;
    await wrk(url, [`Authorization: Bearer ${ADMIN}`]); // warm-up (JIT, caches)
    const w = await wrk(url, [`Authorization: Bearer ${ADMIN}`]);
    const wd = await wrk(deep, [`Authorization: Bearer ${ADMIN}`]);
    const f = await fixedRate(url, { authorization: `Bearer ${ADMIN}` }, 500, 10);
    const rss =
      Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s.proc.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    process.stdout.write(
      `${db}: wrk ${w.rps} req/s p50 ${w.p50} p99 ${w.p99}; deep ${wd.rps}; 500 req/s p50 ${f.p50.toFixed(2)} p99 ${f.p99.toFixed(2)} errors ${f.errors}\n`,
    );
    rows.push(
      `| Gantry, ${db} | first page | ${w.rps.toFixed(0)} | ${w.p50.toFixed(2)} | ${w.p99.toFixed(2)} | ${f.p50.toFixed(2)} | **${f.p99.toFixed(2)}** | ${f.errors} | ${rss.toFixed(0)} |`,
    );
    rows.push(
      `| Gantry, ${db} | page at id 5,000, status=success | ${wd.rps.toFixed(0)} | ${wd.p50.toFixed(2)} | ${wd.p99.toFixed(2)} | | | | |`,
    );
  } finally {
    s.kill();
    await new Promise((r) => setTimeout(r, 500));
    drop();
  }
}

// Peer: the same answer from a bare Fastify route (no auth, no database).
const peer = Fastify();
peer.get("/page", async (_req, reply) => reply.header("content-type", "application/json").send(page));
await peer.listen({ port: port, host: "127.0.0.1" });
const pw = await wrk(`http://127.0.0.1:${port}/page`, []);
const pf = await fixedRate(`http://127.0.0.1:${port}/page`, {}, 500, 10);
await peer.close();
rows.push(
  `| peer: bare Fastify, same JSON | first page | ${pw.rps.toFixed(0)} | ${pw.p50.toFixed(2)} | ${pw.p99.toFixed(2)} | ${pf.p50.toFixed(2)} | ${pf.p99.toFixed(2)} | ${pf.errors} | |`,
);

const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md = `# Server API latency

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} (load average at the end: ${load}; the 2 cores are shared).
\`bench/server-api.ts\`: ${PIPELINES.toLocaleString("en")} pipelines stored, \`GET /api/v1/projects/bench/pipelines?limit=20\`
with a bearer token (authentication, role lookup, keyset query, JSON). wrk: 2 threads, 4 connections, 10 s
(saturation). Fixed rate: 500 req/s for 10 s from one Node client, latency counted from when each request
was due. Peer: a bare Fastify route answering the same bytes.

| server | request | wrk req/s | wrk p50 ms | wrk p99 ms | 500 req/s p50 ms | 500 req/s p99 ms | errors | server peak RSS MB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Target (issue 6): p99 < 25 ms at 500 req/s.
`;
fs.writeFileSync(path.join(repoRoot, "bench/results/server-api.md"), md);
process.stdout.write(md);
