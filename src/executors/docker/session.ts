import { randomBytes } from "node:crypto";
import path from "node:path";
import { Writable } from "node:stream";
import type Docker from "dockerode";
import type { ExecRequest, ExecResult, ExecutorSession, OutputStream } from "../executor.js";
import { ExecutorError, portableScript } from "../executor.js";
import { KILLER, MAX_INLINE_SCRIPT, WRAPPER } from "./exec-scripts.js";
import { errorMessage, statusCode } from "./images.js";
import { tarOneFile } from "./tar-one.js";

/** What a session removes in `cleanup`, filled in as `prepare` creates things. */
export interface JobResources {
  /** The job container first, then services. */
  containers: string[];
  network?: string;
  /** The network holder whose namespace the job container joined (not removed with the job: reused). */
  holder?: { runId: string; id: string };
}

/** How long a timed-out script gets to die after the in-container kill before the container is killed. */
const KILL_WAIT_MS = 5_000;

/**
 * One job's long-lived container: each `exec` is a `docker exec` of the script under the
 * wrapper from `exec-scripts.ts`, with stdout and stderr demultiplexed.
 */
export class DockerSession implements ExecutorSession {
  private cleaned: Promise<void> | undefined;
  /** Set once the container was killed (cancel, or a timeout the in-container kill could not handle). */
  private dead = false;
  private readonly running = new Set<() => void>();
  private readonly onAbort = () => {
    void this.killContainer();
    for (const stop of this.running) stop();
  };

  /**
   * @param remove Removes the job's containers and network (the executor's, so that it can
   * track removals and reuse a network holder afterwards).
   * @param detach Whether `cleanup` may resolve before that removal ends: every command has
   * finished by then, and the next job need not wait for the engine to tear the container down.
   */
  constructor(
    private readonly docker: Docker,
    readonly workdir: string,
    private readonly container: Docker.Container,
    private readonly signal: AbortSignal,
    private readonly jobEnv: Record<string, string>,
    private readonly remove: () => Promise<void>,
    private readonly detach: boolean,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    if (this.signal.aborted) return { exitCode: null, timedOut: false, canceled: true };
    if (this.dead)
      throw new ExecutorError("the job container was killed after a timeout; no more commands can run in it");
    const id = randomBytes(8).toString("hex");
    const script = portableScript(req);
    const inline = Buffer.byteLength(script) <= MAX_INLINE_SCRIPT;
    let scriptArg = script;
    if (!inline) {
      scriptArg = `/tmp/gantry-${id}.sh`;
      await this.container.putArchive(tarOneFile(scriptArg.slice(1), script), { path: "/" });
    }
    let exec: Docker.Exec;
    try {
      exec = await this.container.exec({
        Cmd: ["sh", "-c", WRAPPER, "gantry", scriptArg, id, inline ? "inline" : "file"],
        Env: Object.entries({ ...this.jobEnv, ...req.env }).map(([k, v]) => `${k}=${v}`),
        WorkingDir: path.posix.join(this.workdir, req.cwd),
        AttachStdout: true,
        AttachStderr: true,
      });
    } catch (err) {
      throw this.execError(err);
    }
    const stream = await exec.start({ hijack: true, stdin: false }).catch((err: unknown) => {
      throw this.execError(err);
    });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let stop = () => {};
    const ended = new Promise<void>((resolve) => {
      stop = () => {
        stream.destroy();
        resolve();
      };
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", resolve);
    });
    this.running.add(stop);
    void ended.then(() => this.running.delete(stop));
    this.docker.modem.demuxStream(stream, sink("stdout", req.onOutput), sink("stderr", req.onOutput));
    if (req.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        void this.killExec(id, ended);
      }, req.timeoutMs);
    }
    if (this.signal.aborted) this.onAbort();
    await ended;
    if (timer) clearTimeout(timer);
    if (this.signal.aborted) return { exitCode: null, timedOut, canceled: true };
    if (timedOut) return { exitCode: null, timedOut: true, canceled: false };
    const info = await exec.inspect().catch(() => undefined);
    const exitCode = info?.ExitCode ?? null;
    return { exitCode: exitCode === 137 && this.dead ? null : exitCode, timedOut: false, canceled: false };
  }

  /** Kills one exec's processes from inside the container; the container goes if that fails. */
  private async killExec(id: string, ended: Promise<void>): Promise<void> {
    try {
      const killer = await this.container.exec({
        Cmd: ["sh", "-c", KILLER, "gantry", id],
        AttachStdout: false,
        AttachStderr: false,
      });
      await killer.start({ Detach: true });
    } catch {
      // Falls through to the container kill below.
    }
    const gone = await Promise.race([ended.then(() => true), sleep(KILL_WAIT_MS).then(() => false)]);
    if (!gone) {
      this.dead = true;
      await this.killContainer();
    }
  }

  private async killContainer(): Promise<void> {
    this.dead = true;
    await this.container.kill().catch(() => undefined);
  }

  private execError(err: unknown): Error {
    if (statusCode(err) === 409 || statusCode(err) === 404) {
      return new ExecutorError(
        `the job container is not running (${errorMessage(err)})`,
        "the image's entrypoint must run the command it is given (Gantry keeps the container alive with `cat`); " +
          'override it with `entrypoint: [""]` (GitLab) or `args "--entrypoint="` (Jenkins)',
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  cleanup(): Promise<void> {
    this.signal.removeEventListener("abort", this.onAbort);
    // A failed removal may be retried by a later call; a successful one is not repeated.
    if (this.cleaned) return this.cleaned;
    // Nothing of the job may run once cleanup resolves: running commands end with the kill.
    for (const stop of this.running) stop();
    const removal = this.remove().catch((err: unknown) => {
      this.cleaned = undefined;
      throw err;
    });
    if (this.detach && this.running.size === 0) {
      // Failures surface through the executor (`dispose`) and the reaper, not this job.
      removal.catch(() => undefined);
      this.cleaned = Promise.resolve();
    } else {
      this.cleaned = removal;
    }
    return this.cleaned;
  }
}

/** Removes containers (with their anonymous volumes) then the network; gone is fine. */
export async function removeResources(docker: Docker, res: JobResources): Promise<void> {
  const errors: string[] = [];
  const remove = (ids: string[]) =>
    Promise.all(
      ids.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch((err: unknown) => {
            if (statusCode(err) !== 404 && !/already in progress/.test(errorMessage(err)))
              errors.push(errorMessage(err));
          }),
      ),
    );
  // The job container first: it may share the network namespace of a holder listed after it.
  const [first, ...rest] = res.containers;
  if (first) await remove([first]);
  await remove(rest);
  if (res.network) {
    await docker
      .getNetwork(res.network)
      .remove()
      .catch((err: unknown) => {
        if (statusCode(err) !== 404) errors.push(errorMessage(err));
      });
  }
  if (errors.length)
    throw new ExecutorError(
      `docker cleanup failed: ${errors.join("; ")}`,
      "leftovers are removed by the reaper on the next start",
    );
}

function sink(stream: OutputStream, onOutput: ExecRequest["onOutput"]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      onOutput(stream, chunk);
      cb();
    },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
