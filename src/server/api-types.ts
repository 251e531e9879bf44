/**
 * Request and response types of Gantry's REST API (`/api/v1`). The web UI imports these
 * (`import type`), so they are the contract between the server and the UI: add optional
 * fields freely, never change or remove existing ones. Times are ISO-8601 strings in UTC;
 * durations are milliseconds. The OpenAPI document at `/api/openapi.json` describes the same
 * shapes.
 */
import type { Diagnostic } from "../pipeline/diagnostics.js";
import type { JobStatus, LogStream } from "../engine/events.js";
import type { JobWhen, Parameter } from "../pipeline/plan.js";

export type { Diagnostic, JobStatus, JobWhen, LogStream, Parameter };

/** Every error answer has this shape (HTTP 4xx/5xx). */
export interface ApiError {
  error: {
    /** Stable, machine-readable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `payload_too_large`, `internal`... */
    code: string;
    message: string;
    /** For validation errors: `[{path: "variables.FOO", message}]`. */
    details?: unknown;
  };
}

/** A page of a list, newest first. Pass `nextCursor` as `?cursor=` to get the next page; `null` at the end. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Roles per project, weakest first. A global admin has `admin` on every project. */
export type Role = "viewer" | "developer" | "maintainer" | "admin";
export const ROLES: readonly Role[] = ["viewer", "developer", "maintainer", "admin"];

// ---------------------------------------------------------------- projects

export interface Project {
  name: string;
  /** A git URL or a path on the server's machine. */
  repo: string;
  defaultBranch: string;
  /** Pipeline file relative to the repository root; absent = auto-detect (gantry.yml, .gitlab-ci.yml, Jenkinsfile). */
  pipelineFile?: string;
  createdAt: string;
  /** The caller's role on this project. */
  role?: Role;
  /** Status of the newest pipeline, if any. */
  lastPipeline?: { id: number; status: PipelineStatus; ref: string; createdAt: string };
}

export interface CreateProjectRequest {
  name: string;
  repo: string;
  defaultBranch?: string;
  pipelineFile?: string;
  /** Shared secret for push webhooks (GitHub/Gitea HMAC key, GitLab token). */
  webhookSecret?: string;
}

export type UpdateProjectRequest = Partial<Omit<CreateProjectRequest, "name">>;

export interface ProjectMember {
  user: string;
  role: Role;
}

// ---------------------------------------------------------------- pipelines

/**
 * `pending`: compiling/checking out; `blocked`: nothing runs and what is left waits for a person
 * (a manual job with `allow_failure: false`, or an `input`); `error`: the pipeline file did not
 * compile (see `diagnostics`).
 */
export type PipelineStatus =
  "pending" | "running" | "blocked" | "success" | "unstable" | "failed" | "canceled" | "error";

export type PipelineTrigger = "api" | "push" | "schedule" | "manual" | "retry";

export interface CreatePipelineRequest {
  /** Branch, tag or commit; default: the project's default branch. */
  ref?: string;
  /** `--variable K=V` equivalents: highest precedence. */
  variables?: Record<string, string>;
  /** Pipeline parameters (Jenkins `parameters`, gantry.yml `parameters`). */
  params?: Record<string, string>;
}

export interface CreatePipelineResponse {
  id: number;
}

export interface PipelineSummary {
  id: number;
  project: string;
  status: PipelineStatus;
  ref: string;
  /** Empty while `pending`. */
  sha: string;
  trigger: PipelineTrigger;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

/** A job waiting for approval (`status: "input"`). */
export interface JobInput {
  message: string;
  ok: string;
  submitter?: string;
  parameters: Parameter[];
}

export interface JobSummary {
  /** Database id: use it for `/api/v1/jobs/{id}`. */
  id: number;
  /** The Plan's job id; `needs` refers to these. */
  key: string;
  name: string;
  stage: string;
  status: JobStatus;
  /** Plan job ids (`key`s) this job waits for. */
  needs: string[];
  /** 1-based; grows with each retry. */
  attempt: number;
  allowFailure: boolean;
  when: JobWhen;
  durationMs: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why it is in this state: "needs failed", "runner lost", an error... */
  reason?: string;
  exitCode?: number | null;
  /** Present while the job waits for approval. */
  input?: JobInput;
  /** Display path of enclosing stages (Jenkins), outermost first. */
  parents?: string[];
}

export interface PipelineDetail extends PipelineSummary {
  /** Ordered stage names. */
  stages: string[];
  jobs: JobSummary[];
  variables: Record<string, string>;
  params: Record<string, string>;
  /** Pipeline parameters declared by the pipeline file (to offer a "run with parameters" form). */
  parameters: Parameter[];
  /** Compile diagnostics (errors when `status` is `error`). */
  diagnostics: Diagnostic[];
  /** Why the pipeline is in an error state. */
  error?: string;
}

export interface ListPipelinesQuery {
  cursor?: string;
  /** 1..100, default 20. */
  limit?: number;
  status?: PipelineStatus;
  ref?: string;
}

// ---------------------------------------------------------------- jobs

export interface JobDetail extends JobSummary {
  pipelineId: number;
  project: string;
  /** Name of the runner that holds or held the job. */
  runner: string | null;
  /** Bytes of log stored for the current attempt. */
  logSize: number;
  queuedAt: string | null;
}

/** `POST /api/v1/jobs/{id}/approve` body: values for the input's parameters. */
export interface ApproveRequest {
  params?: Record<string, string>;
}

/**
 * Server-sent events of `GET /api/v1/jobs/{id}/log/stream?offset=N`:
 * - `event: log` — `data` is a JSON {@link LogStreamChunk}
 * - `event: status` — `data` is a JSON {@link LogStreamStatus}
 * - `event: end` — the job is finished and all its log was sent; the server closes the stream.
 */
export interface LogStreamChunk {
  /** Byte offset of `text` in the log. */
  offset: number;
  text: string;
}
export interface LogStreamStatus {
  status: JobStatus;
  attempt: number;
}

// ---------------------------------------------------------------- artifacts and tests

export interface Artifact {
  /** Path inside the job's workspace, e.g. `dist/app.js`. */
  path: string;
  size: number;
  createdAt: string;
  /** When it expires (`artifacts: expire_in`); null: kept. */
  expiresAt: string | null;
  /** The expiry has passed: downloading answers 410 and the file is (or will soon be) deleted. */
  expired: boolean;
  /** Relative URL to download it. */
  url: string;
}

export type TestCaseStatus = "passed" | "failed" | "error" | "skipped";

export interface TestCase {
  name: string;
  classname: string;
  status: TestCaseStatus;
  durationMs: number;
  message?: string;
}

export interface TestSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  durationMs: number;
  cases: TestCase[];
}

/** JUnit reports of a job (its `artifacts.reports.junit` files), summed. */
export interface TestSummary {
  total: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  durationMs: number;
  suites: TestSuite[];
}

// ---------------------------------------------------------------- runners

export interface Runner {
  id: number;
  name: string;
  labels: string[];
  executors: string[];
  version: string;
  online: boolean;
  lastSeenAt: string | null;
  /** Jobs it holds right now. */
  currentJobs: number[];
  builtin: boolean;
}

export interface CreateRunnerRequest {
  name: string;
  labels?: string[];
}

/** The runner token is shown once. */
export interface CreateRunnerResponse {
  runner: Runner;
  token: string;
}

// ---------------------------------------------------------------- secrets

/** A secret's metadata; values are write-only and never returned. */
export interface Secret {
  name: string;
  /** `null`: a global secret, visible to every project's jobs. */
  project: string | null;
  kind: "secret" | "usernamePassword" | "file";
  /** Only injected into pipelines on the default branch or a tag. */
  protected: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PutSecretRequest {
  kind?: "secret" | "usernamePassword" | "file";
  /** For `secret` and `file`. */
  value?: string;
  /** For `usernamePassword`. */
  username?: string;
  password?: string;
  protected?: boolean;
}

// ---------------------------------------------------------------- users and tokens

export interface User {
  name: string;
  admin: boolean;
  createdAt: string;
  /** Project roles. */
  roles: { project: string; role: Role }[];
}

export interface CreateUserRequest {
  name: string;
  admin?: boolean;
}

/** `read`: GET only; `write`: everything the user's roles allow. */
export type TokenScope = "read" | "write";

export interface Token {
  id: number;
  user: string;
  name: string;
  scopes: TokenScope[];
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface CreateTokenRequest {
  name: string;
  scopes?: TokenScope[];
  /** Lifetime in days; absent = never expires. */
  expiresInDays?: number;
  /** Admins may create tokens for other users. Default: the caller. */
  user?: string;
}

/** The token value is shown once. */
export interface CreateTokenResponse {
  token: string;
  info: Token;
}

/** `GET /api/v1/me`. */
export interface Me {
  user: string;
  admin: boolean;
  scopes: TokenScope[];
  roles: { project: string; role: Role }[];
}

// ---------------------------------------------------------------- webhooks

/** `POST /api/v1/webhooks/{github|gitlab|gitea}/{project}` answer. */
export interface WebhookResponse {
  /** The pipeline started, or null when the event was ignored (not a push, a deleted branch). */
  pipelineId: number | null;
  ignored?: string;
}
