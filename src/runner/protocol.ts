/**
 * The runner protocol: HTTP+JSON under `/api/v1/runner`, authenticated with a runner token
 * (`Authorization: Bearer gtr_...`), never a user token. Every request carries the
 * `Gantry-Protocol` header; the server answers 426 with both versions when they differ.
 *
 * Flow: `register` once → loop { `lease` (long poll, up to `slots` jobs at once, carrying the
 * results of the jobs that ended since the last lease) → for each job: `logs` batches and
 * `heartbeat`s while it runs, artifacts/cache/stash/dotenv transfers }. A result that ends
 * while a lease request is waiting for work goes by `finish` instead. Either way several
 * results share one request and one transaction, each with its last log batch.
 * A job is leased for {@link LeaseInfo.leaseMs}; each heartbeat extends it. When the lease
 * expires (the runner died or lost the network) the server retries the job as a new attempt
 * or fails it with "runner lost"; anything the old attempt sends afterwards is refused (409).
 */
import type { Plan } from "../pipeline/plan.js";
import type { JobOutcome } from "../engine/types.js";

/**
 * Bumped whenever a runner and a server of different versions could misunderstand each other.
 * 2: results are reported in batches, with their last log batch, on `lease` or `finish`.
 */
export const PROTOCOL_VERSION = 2;

export const PROTOCOL_HEADER = "gantry-protocol";

export interface RegisterRequest {
  protocolVersion: number;
  name: string;
  labels: string[];
  /** Executor kinds this runner provides: `shell`, `docker`... */
  executors: string[];
  concurrency: number;
  version: string;
}

export interface LeaseInfo {
  runnerId: number;
  protocolVersion: number;
  /** How long a lease lasts without a heartbeat. */
  leaseMs: number;
  /** How often to heartbeat (a third of the lease). */
  heartbeatMs: number;
}

export interface LeaseRequest {
  /** Free slots: the server hands out at most this many jobs. */
  slots: number;
  /** Long-poll: wait up to this long for work (capped by the server). */
  waitMs: number;
  /**
   * Results of jobs that ended since the last request, stored first exactly as by `finish`.
   * A lease that carries results does not wait: it answers at once with the jobs there are.
   */
  results?: JobResult[];
}

/** One job to run, with everything the engine needs. */
export interface LeasedJob {
  /** Server job id; all job endpoints use it. */
  id: number;
  /** Unique name of the pipeline run (shared workspaces of one pipeline are keyed by it). */
  runId: string;
  attempt: number;
  pipelineId: number;
  project: string;
  /** Git URL or path to clone, and the commit to check out. */
  repo: string;
  sha: string;
  ref: string;
  /** What `ref` is; absent means a branch (and servers before it was sent). */
  refKind?: "tag" | "commit";
  /** The pipeline's Plan with only this job in `jobs` (the rest is not the runner's business). */
  plan: Plan;
  /** `Plan.jobs[].id`. */
  jobKey: string;
  /** `CI_*`, `GIT_*`, `BRANCH_NAME`, ... set by the server; they override the plan's. */
  extraEnv: Record<string, string>;
  maskValues: string[];
  /** Decision of the job's `input`, already given on the server. */
  decision?: { approved: boolean; by: string; params: Record<string, string> };
  previousResult?: "SUCCESS" | "UNSTABLE" | "FAILURE" | "ABORTED";
  /** The pipeline's result so far, from its other jobs (for the pipeline-level post job). */
  currentResult?: "SUCCESS" | "UNSTABLE" | "FAILURE";
  leaseExpiresAt: number;
}

export interface LeaseResponse {
  jobs: LeasedJob[];
  /** One answer per result the request carried, in order (as `finish` answers). */
  results?: JobResultAnswer[];
}

export interface HeartbeatRequest {
  attempt: number;
}

export interface HeartbeatResponse {
  leaseExpiresAt: number;
  /** The job was canceled: abort it and report `canceled`. */
  cancel: boolean;
}

/** One ordered batch of log text; `seq` counts a job attempt's batches from 1. */
export interface LogBatch {
  attempt: number;
  seq: number;
  text: string;
}

export interface FinishRequest {
  attempt: number;
  outcome: JobOutcome;
}

/** One job attempt's result in a batch, with the attempt's log batches not sent yet. */
export interface JobResult {
  /** Server job id. */
  id: number;
  attempt: number;
  outcome: JobOutcome;
  /** The last log batches (`seq` goes on from the `logs` requests); stored with the result. */
  logs?: { seq: number; text: string }[];
}

/** `POST /api/v1/runner/finish`: results of several jobs (at most 64), stored in one transaction. */
export interface FinishBatchRequest {
  results: JobResult[];
}

/**
 * One answer per result, in order. `error.code` `lease_lost`: the runner no longer holds that
 * attempt (it expired and was retried or failed, or the job was canceled); its result was
 * dropped. A result reported again (a retried request) answers `duplicate: true`.
 */
export type JobResultAnswer =
  | { id: number; status: string; retried: boolean; duplicate?: boolean }
  | { id: number; error: { code: "lease_lost"; message: string } };

export interface FinishBatchResponse {
  results: JobResultAnswer[];
}
