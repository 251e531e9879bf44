import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ExecutorSpec } from "../pipeline/plan.js";
import type { ExecRequest, ExecResult, Executor, ExecutorJob, ExecutorSession } from "./executor.js";
import { ExecutorError, portableScript } from "./executor.js";
import { sharedSpawner, SpawnerUnavailableError, type Spawner } from "./spawner.js";

/** How long a process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * Runs commands with the host's `/bin/sh` in the job's workspace. Each `exec` starts a new
 * process group so that a timeout or cancel kills the whole tree, not just the shell.
 */
export class ShellExecutor implements Executor {
  readonly name = "shell" as const;

  /**
   * @param opts.spawner start commands through the shared zygote (`spawner.ts`) when the host
   *   has bash and setsid (default), or fork Gantry for each command (`false`).
   */
  constructor(private readonly opts: { spawner?: boolean } = {}) {}

  supports(spec: ExecutorSpec): true | string {
    if (spec.kind === "shell") return true;
    if (spec.kind === "docker") {
      const what = spec.image
        ? `image "${spec.image.name}"`
        : spec.build
          ? "a Dockerfile agent"
          : "a docker agent";
      return `the job needs ${what}, which the shell executor cannot provide; run it with the docker executor (--executor docker, a running Docker engine) or remove the image`;
    }
    if (spec.kind === "kubernetes")
      return "the job needs a Kubernetes agent, which the shell executor cannot provide";
    return "the job has `agent none`: give the stage an agent to run steps";
  }

  async prepare(job: ExecutorJob, signal: AbortSignal): Promise<ExecutorSession> {
    if (signal.aborted) throw new ExecutorError("cancelled before the job started");
    return new ShellSession(job, signal, this.opts.spawner !== false);
  }
}

class ShellSession implements ExecutorSession {
  readonly workdir: string;
  private readonly running = new Set<number>();
  private readonly onAbort = () => {
    for (const pid of this.running) killGroup(pid);
  };

  constructor(
    private readonly job: ExecutorJob,
    private readonly signal: AbortSignal,
    private readonly useSpawner: boolean,
  ) {
    this.workdir = job.workspace;
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  exec(req: ExecRequest): Promise<ExecResult> {
    if (this.signal.aborted) return Promise.resolve({ exitCode: null, timedOut: false, canceled: true });
    const spawner = this.useSpawner ? sharedSpawner() : undefined;
    if (spawner) return this.execViaSpawner(spawner, req);
    return this.execDirect(req);
  }

  private async execViaSpawner(spawner: Spawner, req: ExecRequest): Promise<ExecResult> {
    const sp = await spawner.run({
      cwd: path.resolve(this.workdir, req.cwd),
      env: { ...this.job.env, ...req.env },
      script: req.script,
      shell: req.shell ?? "sh",
      ...(req.mergeStderr ? { mergeStderr: true } : {}),
      onOutput: req.onOutput,
    });
    const pid = await sp.pid;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (pid !== undefined) {
      this.running.add(pid);
      if (this.signal.aborted) killGroup(pid);
      if (req.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(pid);
        }, req.timeoutMs);
      }
    }
    let code: number;
    try {
      code = await sp.exit;
    } catch (err) {
      // The zygote could not start it (the command did not run): fork for it instead.
      if (err instanceof SpawnerUnavailableError) return this.execDirect(req);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      if (pid !== undefined) this.running.delete(pid);
    }
    const canceled = this.signal.aborted;
    return { exitCode: timedOut || canceled ? null : code, timedOut, canceled };
  }

  private async execDirect(req: ExecRequest): Promise<ExecResult> {
    // One argv string is limited to 128 KiB on Linux: larger scripts go through a file.
    let file: string | undefined;
    const script = portableScript(req);
    if (Buffer.byteLength(script) > 64 * 1024) {
      file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "gantry-script-")), "script.sh");
      await fs.writeFile(file, script, { mode: 0o600 });
    }
    try {
      return await this.spawnDirect(req, file ? [file] : ["-c", script]);
    } finally {
      if (file) await fs.rm(path.dirname(file), { recursive: true, force: true });
    }
  }

  private spawnDirect(req: ExecRequest, args: string[]): Promise<ExecResult> {
    return new Promise((resolve) => {
      const cwd = path.resolve(this.workdir, req.cwd);
      const child = spawn("/bin/sh", args, {
        cwd,
        env: { ...baseEnv(), ...this.job.env, ...req.env },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      const pid = child.pid;
      if (pid !== undefined) this.running.add(pid);
      if (req.timeoutMs !== undefined && pid !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(pid);
        }, req.timeoutMs);
      }
      child.stdout.on("data", (b: Buffer) => req.onOutput("stdout", b));
      child.stderr.on("data", (b: Buffer) => req.onOutput("stderr", b));
      child.on("error", (err) => {
        req.onOutput("stderr", Buffer.from(`gantry: cannot start /bin/sh in ${cwd}: ${err.message}\n`));
      });
      let exitCode: number | null = null;
      child.on("exit", (code) => {
        exitCode = code;
        // Background children of the script (`cmd &`) must not outlive the step; they would
        // also hold the output pipes open.
        if (pid !== undefined) signalGroup(pid, "SIGKILL");
      });
      child.on("close", (code) => {
        if (timer) clearTimeout(timer);
        if (pid !== undefined) this.running.delete(pid);
        resolve({ exitCode: exitCode ?? code, timedOut, canceled: this.signal.aborted });
      });
    });
  }

  async cleanup(): Promise<void> {
    this.signal.removeEventListener("abort", this.onAbort);
    for (const pid of this.running) killGroup(pid);
  }
}

/**
 * The host environment a job inherits: everything but npm's variables and Gantry's own
 * (`GANTRY_SECRET_KEY`, `GANTRY_DATABASE_URL`, tokens, `GANTRY_SECRET_<ID>` credentials),
 * which a job must never see unless its pipeline asks for a credential. The zygote
 * (`spawner.ts`) drops the same names.
 */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("npm_") && !k.startsWith("GANTRY_")) env[k] = v;
  }
  return env;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is already gone.
  }
}

/** SIGTERM the whole process group, then SIGKILL what is left after a grace period. */
function killGroup(pid: number): void {
  signalGroup(pid, "SIGTERM");
  setTimeout(() => signalGroup(pid, "SIGKILL"), KILL_GRACE_MS).unref();
}
