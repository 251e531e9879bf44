import type { GitInfo } from "../pipeline/git.js";
import type { ExecutorSpec, Job, Plan } from "../pipeline/plan.js";
import type { Executor } from "../executors/executor.js";
import type { EventListener, JobStatus } from "./events.js";
import type { TreeSnapshot } from "./files.js";
import type { WorkspacePool } from "./workspace-pool.js";

/** Picks the executor for a job's `ExecutorSpec`. */
export type ExecutorRegistry = Partial<Record<ExecutorSpec["kind"], Executor>>;

export type { SecretResolver, SecretValue } from "../executors/executor.js";
import type { SecretResolver } from "../executors/executor.js";

/**
 * Where a job's outputs go and where its inputs come from. Locally a folder under
 * `.gantry/runs/<id>/`; on a runner, the server over HTTP.
 */
export interface ArtifactStore {
  /** Stores files (paths relative to `fromDir`) as the artifacts of `jobId`. */
  putArtifacts(jobId: string, fromDir: string, files: string[]): Promise<void>;
  /** Copies the artifacts of `jobId` into `toDir`; returns how many files (0 when none). */
  getArtifacts(jobId: string, toDir: string): Promise<number>;
  putStash(name: string, fromDir: string, files: string[]): Promise<void>;
  /** Returns false when no stash of that name exists. */
  getStash(name: string, toDir: string): Promise<boolean>;
  /** Dotenv report variables of a finished job (GitLab `artifacts: reports: dotenv`). */
  putDotenv(jobId: string, vars: Record<string, string>): Promise<void>;
  getDotenv(jobId: string): Promise<Record<string, string>>;
}

/** Stores and restores caches (GitLab `cache:`), keyed by the expanded key. */
export interface CacheStore {
  restore(key: string, toDir: string): Promise<boolean>;
  save(key: string, fromDir: string, files: string[]): Promise<void>;
}

export interface InputRequest {
  jobId: string;
  jobName: string;
  message: string;
  ok: string;
  submitter?: string;
  parameters: { name: string; type: string; default?: string; choices?: string[] }[];
}

export interface InputDecision {
  approved: boolean;
  by: string;
  /** Values for the input's parameters, exposed to the job as variables. */
  params: Record<string, string>;
}

/** Everything needed to run one job of a plan (the unit a runner leases from the server). */
export interface JobRunContext {
  runId: string;
  plan: Plan;
  job: Job;
  attempt: number;
  /** The source checkout the workspace is copied from. */
  projectDir: string;
  /** Where the job's workspace is created (`<workspaceRoot>/<slug>`), or the project itself with `inPlace`. */
  /** The job's folder name in this run (`jobSlugs`); default: its id's (or workspace key's) slug. */
  slug?: string;
  workspaceRoot: string;
  inPlace: boolean;
  /** Where finished workspaces of small projects are kept for the next run (local runs). */
  workspacePool?: WorkspacePool;
  executors: ExecutorRegistry;
  artifacts: ArtifactStore;
  cache: CacheStore;
  secrets: SecretResolver;
  /** Variables added by the caller (e.g. CI_PIPELINE_ID from the server); override the plan's. */
  extraEnv: Record<string, string>;
  /** Values that must be masked in every output, besides masked variables and credentials. */
  maskValues: string[];
  /** Result of the previous run of the same pipeline, for Jenkins `changed`/`fixed`/`regression`. */
  previousResult?: "SUCCESS" | "UNSTABLE" | "FAILURE" | "ABORTED";
  /** The checkout's git state, for conditions (`branch`, `changeset`) and `GIT_*` variables. */
  git?: GitInfo;
  /** The pipeline's result so far (Jenkins `currentBuild.currentResult`). */
  currentResult?: "SUCCESS" | "UNSTABLE" | "FAILURE";
  /** Files of the project to copy into a fresh workspace, when the caller already listed them. */
  projectFiles?: string[];
  /** The same files already read into memory (a small project): written instead of copied. */
  projectTree?: TreeSnapshot;
  /** Asked when the job has an `input`; absent means inputs are refused. */
  approvals?: (req: InputRequest, signal: AbortSignal) => Promise<InputDecision>;
  onEvent: EventListener;
  /** Cancels this job. Aborted with reason `"failFast"` when another parallel branch failed. */
  signal: AbortSignal;
  /** Cancels the whole run (Ctrl-C); a failFast-aborted job still runs its post blocks unless this is aborted. */
  runSignal?: AbortSignal;
}

/** How a job attempt ended. */
export interface JobOutcome {
  status: Extract<JobStatus, "success" | "unstable" | "failed" | "canceled" | "skipped">;
  exitCode?: number | null;
  reason?: string;
  durationMs: number;
  /** True when `failed` but the job may fail (`allow_failure`). */
  allowedFailure: boolean;
  /**
   * What the job contributes to the pipeline's result when it differs from its status:
   * Jenkins `catchError(buildResult: 'SUCCESS', stageResult: 'FAILURE')` fails the stage but
   * not the build (dependents still run).
   */
  buildResult?: "SUCCESS" | "UNSTABLE";
  /** Coverage percentage from the log (GitLab `coverage:`), the last match. */
  coverage?: number;
  /** Whether a retry is allowed by the job's retry policy for this failure. */
  retryable: boolean;
}
