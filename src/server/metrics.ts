import client from "prom-client";
import type { Db } from "../store/schema.js";
import { jobCounts } from "../store/queue.js";

/** Gantry's Prometheus metrics (`gantry_` prefix), in a registry of their own. */
export class Metrics {
  readonly registry = new client.Registry();
  readonly http: client.Histogram<"method" | "route" | "status">;
  readonly queueWait: client.Histogram;
  readonly jobDuration: client.Histogram<"status">;
  readonly pipelines: client.Counter<"status">;
  readonly logBytes: client.Counter;

  constructor(db: Db, onlineRunners: () => Promise<number>) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: "gantry_process_" });
    this.http = new client.Histogram({
      name: "gantry_http_request_duration_seconds",
      help: "HTTP request durations",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [r],
    });
    this.queueWait = new client.Histogram({
      name: "gantry_queue_wait_seconds",
      help: "Time from a job being queued to being leased by a runner",
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers: [r],
    });
    this.jobDuration = new client.Histogram({
      name: "gantry_job_duration_seconds",
      help: "Job attempt durations by result",
      labelNames: ["status"],
      buckets: [0.1, 1, 5, 15, 60, 300, 900, 3600],
      registers: [r],
    });
    this.pipelines = new client.Counter({
      name: "gantry_pipelines_total",
      help: "Finished pipelines by result",
      labelNames: ["status"],
      registers: [r],
    });
    this.logBytes = new client.Counter({
      name: "gantry_log_bytes_total",
      help: "Log bytes stored",
      registers: [r],
    });
    new client.Gauge({
      name: "gantry_jobs",
      help: "Jobs not finished, by state",
      labelNames: ["state"],
      registers: [r],
      async collect() {
        const counts = await jobCounts(db);
        for (const s of ["created", "waiting", "running", "input", "manual"])
          this.set({ state: s }, counts[s] ?? 0);
      },
    });
    new client.Gauge({
      name: "gantry_queue_depth",
      help: "Jobs waiting for a runner",
      registers: [r],
      async collect() {
        this.set((await jobCounts(db)).waiting ?? 0);
      },
    });
    new client.Gauge({
      name: "gantry_runners_online",
      help: "Runners seen within the last minute",
      registers: [r],
      async collect() {
        this.set(await onlineRunners());
      },
    });
  }
}
