import type { Generated, Kysely } from "kysely";

/**
 * Table types of Gantry's database. Dialect-neutral on purpose: times are integer
 * milliseconds since the epoch, booleans are 0/1 integers, structured values are JSON text.
 */
export interface Schema {
  migrations: { version: number; name: string; applied_at: number };
  users: { id: Generated<number>; name: string; is_admin: number; created_at: number };
  tokens: {
    id: Generated<number>;
    user_id: number;
    name: string;
    hash: string;
    /** JSON array of scopes. */
    scopes: string;
    expires_at: number | null;
    created_at: number;
    last_used_at: number | null;
  };
  projects: {
    id: Generated<number>;
    name: string;
    repo: string;
    default_branch: string;
    pipeline_file: string | null;
    webhook_secret: string | null;
    created_at: number;
  };
  members: { project_id: number; user_id: number; role: string };
  pipelines: {
    id: Generated<number>;
    project_id: number;
    status: string;
    ref: string;
    sha: string;
    trigger: string;
    /** JSON objects. */
    variables: string;
    params: string;
    /** The compiled Plan as JSON; null while pending or on a compile error. */
    plan: string | null;
    diagnostics: string;
    error: string | null;
    created_by: string;
    created_at: number;
    started_at: number | null;
    finished_at: number | null;
    /** How `ref` resolved: `branch`, `tag` or `commit`; null while pending (and before schema 3). */
    ref_kind: string | null;
  };
  jobs: {
    id: Generated<number>;
    pipeline_id: number;
    project_id: number;
    /** `Plan.jobs[].id`. */
    key: string;
    name: string;
    stage: string;
    /** Position in the plan, for stable ordering. */
    idx: number;
    /** JSON array of `Need`. */
    needs: string;
    needs_mode: string;
    when_: string;
    allow_failure: number;
    max_retries: number;
    /** JSON array of GitLab `retry: when` values. */
    retry_when: string;
    executor: string;
    /** Sorted runner labels the job requires, JSON array. */
    labels: string;
    status: string;
    attempt: number;
    /** A queued job may not be leased before this time (delayed jobs). */
    available_at: number;
    runner_id: number | null;
    lease_expires_at: number | null;
    cancel_requested: number;
    queued_at: number | null;
    started_at: number | null;
    finished_at: number | null;
    exit_code: number | null;
    reason: string | null;
    /** JSON of `Input` while waiting for approval; JSON of the decision once given. */
    input: string | null;
    decision: string | null;
    dotenv: string | null;
    log_size: number;
  };
  job_logs: {
    job_id: number;
    attempt: number;
    seq: number;
    offset: number;
    size: number;
    data: string;
    created_at: number;
  };
  artifacts: {
    id: Generated<number>;
    job_id: number;
    path: string;
    size: number;
    created_at: number;
    /** When the artifact expires (`artifacts: expire_in`); null: kept. */
    expires_at: number | null;
    /** When the expiry sweep deleted its file; null while the file exists. */
    purged_at: number | null;
  };
  runners: {
    id: Generated<number>;
    name: string;
    token_hash: string;
    labels: string;
    executors: string;
    version: string;
    builtin: number;
    last_seen_at: number | null;
    created_at: number;
  };
  secrets: {
    id: Generated<number>;
    /** 0 for a global secret (a real 0, not NULL, so the unique index works on both databases). */
    project_id: number;
    name: string;
    kind: string;
    is_protected: number;
    /** base64 of iv(12) | tag(16) | ciphertext. */
    ciphertext: string;
    created_at: number;
    updated_at: number;
  };
  schedules: {
    id: Generated<number>;
    project_id: number;
    spec: string;
    ref: string;
    last_fired_at: number | null;
  };
  audit: {
    id: Generated<number>;
    at: number;
    actor: string;
    action: string;
    target: string;
    details: string;
  };
}

export type Dialect = "sqlite" | "postgres";

/** An open database: the Kysely instance and which dialect it speaks. */
export interface Db {
  k: Kysely<Schema>;
  dialect: Dialect;
  close(): Promise<void>;
}
