import type { Diagnostic } from "../pipeline/diagnostics.js";

/** A job's status. Terminal: success, unstable, failed, canceled, skipped, manual. */
export type JobStatus =
  | "created"
  | "waiting"
  | "running"
  | "input"
  | "success"
  | "unstable"
  | "failed"
  | "canceled"
  | "skipped"
  | "manual";

export type RunStatus = "running" | "success" | "unstable" | "failed" | "canceled";

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set([
  "success",
  "unstable",
  "failed",
  "canceled",
  "skipped",
  "manual",
]);

export type LogStream = "stdout" | "stderr" | "system";

/**
 * The one typed event stream of a run. Every consumer (terminal renderer, `--json`, log
 * files, the server's store, SSE, metrics) subscribes to it. Log text is already masked.
 * Events of one job arrive in order; `seq` numbers a job attempt's log lines from 1.
 */
export type RunEvent =
  | { type: "run.started"; runId: string; time: number; jobs: { id: string; name: string; stage: string }[] }
  | {
      type: "job.status";
      runId: string;
      jobId: string;
      attempt: number;
      status: JobStatus;
      time: number;
      /** Why it is in this state: "needs failed", "condition false", "runner lost", an error... */
      reason?: string;
      exitCode?: number | null;
      durationMs?: number;
      allowedFailure?: boolean;
      /** Coverage percentage found in the log with the job's `coverage` regex. */
      coverage?: number;
    }
  | {
      type: "step.started";
      runId: string;
      jobId: string;
      attempt: number;
      index: number;
      name: string;
      time: number;
    }
  | {
      type: "step.finished";
      runId: string;
      jobId: string;
      attempt: number;
      index: number;
      name: string;
      time: number;
      ok: boolean;
      durationMs: number;
    }
  | {
      type: "log";
      runId: string;
      jobId: string;
      attempt: number;
      seq: number;
      stream: LogStream;
      text: string;
      time: number;
    }
  | {
      type: "artifact";
      runId: string;
      jobId: string;
      attempt: number;
      name: string;
      path: string;
      size: number;
    }
  | {
      type: "input.requested";
      runId: string;
      jobId: string;
      message: string;
      ok: string;
      submitter?: string;
      parameters: { name: string; type: string; default?: string; choices?: string[] }[];
    }
  | { type: "input.resolved"; runId: string; jobId: string; approved: boolean; by: string }
  | { type: "diagnostic"; runId: string; diagnostic: Diagnostic }
  | { type: "run.finished"; runId: string; status: RunStatus; time: number; durationMs: number };

export type EventListener = (event: RunEvent) => void;
