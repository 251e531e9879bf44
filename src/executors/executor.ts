import type { ExecutorSpec } from "../pipeline/plan.js";

/** Output of a command, as raw bytes; the engine splits lines and masks secrets. */
export type OutputStream = "stdout" | "stderr";

/** What an executor needs to know about the job it prepares. */
export interface ExecutorJob {
  runId: string;
  /** `Plan.jobs[].id`. */
  jobId: string;
  /** Safe for file and container names: `[a-z0-9-]`. */
  slug: string;
  attempt: number;
  spec: ExecutorSpec;
  /** The job's workspace on the host; it already holds the checkout and received artifacts. */
  workspace: string;
  /** Variables visible to every command of the job (already expanded). */
  env: Record<string, string>;
  /** Writes a system line (e.g. "Pulling image busybox") into the job's log. */
  log: (line: string) => void;
}

export interface ExecRequest {
  /** A POSIX shell script, run with `sh -e`-like semantics chosen by the engine (it is the whole script). */
  script: string;
  /**
   * `"bash"`: run the script with bash where the environment has it, else with sh (GitLab's
   * rule). Default `"sh"`. Executors that cannot pick the shell themselves run
   * `portableScript(req)` with sh.
   */
  shell?: "sh" | "bash";
  /** Working directory relative to the workspace root ("" for the root). */
  cwd: string;
  /** Variables for this command on top of `ExecutorJob.env` (withEnv, credentials). */
  env: Record<string, string>;
  /** Kill the command's whole process tree (or container exec) after this long. */
  timeoutMs?: number;
  /**
   * Send the script's stderr into its stdout: one stream, in the order the lines were written
   * (what a job's log shows, as GitLab and Jenkins show it), reported as `stdout`. Default:
   * kept apart (for output that is captured).
   */
  mergeStderr?: boolean;
  onOutput: (stream: OutputStream, chunk: Buffer) => void;
}

export interface ExecResult {
  /** Exit code of the script; `null` when it was killed. */
  exitCode: number | null;
  timedOut: boolean;
  canceled: boolean;
}

/**
 * Runs one job's commands in an environment: a local shell, a container, a pod.
 *
 * Lifecycle: `prepare(job)` once per job attempt → `session.exec(...)` any number of times,
 * sequentially → `session.cleanup()` exactly once at the end, whatever happened before
 * (including a failed or cancelled `prepare`, which must clean up after itself before
 * rejecting).
 *
 * Cancellation: the `signal` given to `prepare` covers the whole session. When it aborts,
 * a running `exec` kills its process tree / container process and resolves with
 * `{canceled: true}`; later `exec` calls resolve the same way at once. `prepare` rejects with
 * an `ExecutorError`. Timeouts in `ExecRequest` kill the command and resolve with
 * `{timedOut: true}`.
 *
 * Idempotency: `cleanup()` may be called more than once and after a partial `prepare`; it
 * never throws for resources that are already gone. Everything an executor creates outside
 * the workspace (containers, networks, volumes, pods) carries the labels
 * `gantry.run=<runId>` and `gantry.job=<slug>` so a reaper can remove it after a crash.
 *
 * Files: the workspace is a host directory shared with the execution environment (bind
 * mount or the directory itself); the engine reads and writes it for artifacts, stash and
 * `writeFile`. `session.workdir` is the same directory as seen by the commands.
 */
export interface Executor {
  readonly name: ExecutorSpec["kind"];
  /** Whether this executor can run the job at all; a string explains why not (shown to the user). */
  supports(spec: ExecutorSpec): true | string;
  prepare(job: ExecutorJob, signal: AbortSignal): Promise<ExecutorSession>;
  /** Removes leftovers of earlier crashed runs (containers, networks...). Optional. */
  reap?(): Promise<number>;
}

export interface ExecutorSession {
  /** The workspace path as seen by the commands. */
  readonly workdir: string;
  exec(req: ExecRequest): Promise<ExecResult>;
  cleanup(): Promise<void>;
}

/** A secret as stored by Gantry: a plain secret, a username/password pair, or a file's bytes. */
export type SecretValue =
  | { kind: "secret"; value: string }
  | { kind: "usernamePassword"; username: string; password: string }
  | { kind: "file"; value: string };

/** Resolves a credential id to its value; undefined when unknown. */
export type SecretResolver = (id: string) => Promise<SecretValue | undefined>;

/** The request's script as one sh script that switches to bash itself when asked and available. */
export function portableScript(req: Pick<ExecRequest, "script" | "shell" | "mergeStderr">): string {
  // Before everything, so that it holds for the bash started below too.
  const merge = req.mergeStderr ? "exec 2>&1\n" : "";
  if (req.shell !== "bash") return `${merge}${req.script}`;
  const quoted = `'${req.script.replace(/'/g, `'\\''`)}'`;
  return `${merge}if command -v bash >/dev/null 2>&1; then exec bash -c ${quoted} gantry-job; fi\n${req.script}`;
}

/** An executor failure that is the user's to fix (missing image, bad spec): shown without a stack. */
export class ExecutorError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ExecutorError";
  }
}
