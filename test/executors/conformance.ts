import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type {
  ExecRequest,
  ExecResult,
  Executor,
  ExecutorJob,
  ExecutorSession,
  OutputStream,
} from "../../src/executors/executor.js";
import { ExecutorError } from "../../src/executors/executor.js";
import type { ExecutorSpec } from "../../src/pipeline/plan.js";

/** How to run the shared suite against one executor. */
export interface ConformanceOptions {
  /** Shown in the test names. */
  name: string;
  create: () => Executor;
  /** The spec every test job uses (e.g. a docker spec with a local test image). */
  spec: ExecutorSpec;
  /** When set, the whole suite is skipped with this reason (e.g. no Docker engine). */
  skip?: string;
  /**
   * What the executor still has running or existing for `job` (processes, containers,
   * networks), as human-readable strings; the suite expects none after cancel and cleanup.
   */
  leftovers: (job: ExecutorJob) => Promise<string[]>;
  /**
   * Contract tests this executor is known to fail, by id (`large-script`). They run as
   * `it.fails`, so fixing the executor turns them red until the id is removed here.
   */
  knownFailures?: string[];
  /** Called once after the suite (e.g. to wait for background removals). */
  dispose?: () => Promise<void>;
}

/** Collected output of one exec. */
interface Captured {
  result: ExecResult;
  stdout: string;
  stderr: string;
  /** When each chunk arrived, ms since the exec began. */
  chunkTimes: number[];
  elapsedMs: number;
}

/**
 * Registers the executor contract tests (see the doc comment of `Executor`) for one
 * implementation: lifecycle, exit codes, output streaming, variables, working directory,
 * timeouts and cancellation killing whole process trees, idempotent cleanup.
 */
export function executorConformance(opts: ConformanceOptions): void {
  describe.skipIf(Boolean(opts.skip))(`executor conformance: ${opts.name}`, () => {
    const sessions: ExecutorSession[] = [];
    const dirs: string[] = [];
    let counter = 0;

    afterEach(async () => {
      for (const s of sessions.splice(0)) await s.cleanup().catch(() => undefined);
      for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true }).catch(() => undefined);
    });
    afterAll(async () => {
      await opts.dispose?.();
    });

    async function newJob(env: Record<string, string> = {}): Promise<{ job: ExecutorJob; logs: string[] }> {
      const workspace = await fs.mkdtemp(path.join(os.tmpdir(), "gantry-conf-"));
      dirs.push(workspace);
      const logs: string[] = [];
      const n = ++counter;
      const job: ExecutorJob = {
        runId: `conf-${process.pid}-${n}`,
        jobId: `conformance ${n}`,
        slug: `conformance-${n}`,
        attempt: 1,
        spec: opts.spec,
        workspace,
        env,
        log: (l) => logs.push(l),
      };
      return { job, logs };
    }

    async function start(env: Record<string, string> = {}, signal = new AbortController().signal) {
      const { job, logs } = await newJob(env);
      const session = await opts.create().prepare(job, signal);
      sessions.push(session);
      return { job, logs, session };
    }

    async function run(
      session: ExecutorSession,
      script: string,
      extra: Partial<ExecRequest> = {},
    ): Promise<Captured> {
      const out: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
      const chunkTimes: number[] = [];
      const t0 = Date.now();
      const result = await session.exec({
        script,
        cwd: "",
        env: {},
        ...extra,
        onOutput: (stream, chunk) => {
          out[stream].push(chunk);
          chunkTimes.push(Date.now() - t0);
        },
      });
      return {
        result,
        stdout: Buffer.concat(out.stdout).toString("utf8"),
        stderr: Buffer.concat(out.stderr).toString("utf8"),
        chunkTimes,
        elapsedMs: Date.now() - t0,
      };
    }

    /** Polls until `check` passes or `ms` elapse: killed processes take a moment to be reaped. */
    async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await check()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return check();
    }

    it("runs a script in the workspace it shares with the host, across execs", async () => {
      const { job, session } = await start();
      await fs.writeFile(path.join(job.workspace, "from-host.txt"), "host\n");
      const first = await run(session, "cat from-host.txt; echo container > from-exec.txt");
      expect(first.result).toEqual({ exitCode: 0, timedOut: false, canceled: false });
      expect(first.stdout).toBe("host\n");
      expect(await fs.readFile(path.join(job.workspace, "from-exec.txt"), "utf8")).toBe("container\n");
      const second = await run(session, "cat from-exec.txt; pwd");
      expect(second.stdout).toBe(`container\n${session.workdir}\n`);
    });

    it("returns the script's exit code", async () => {
      const { session } = await start();
      expect((await run(session, "exit 0")).result.exitCode).toBe(0);
      expect((await run(session, "exit 7")).result.exitCode).toBe(7);
      expect((await run(session, "false")).result).toEqual({ exitCode: 1, timedOut: false, canceled: false });
      expect((await run(session, "nonexistent-command-xyz")).result.exitCode).toBe(127);
    });

    it("keeps stdout and stderr apart and streams output while the script runs", async () => {
      const { session } = await start();
      const c = await run(session, "echo out1; echo err1 >&2; sleep 1.5; echo out2; echo err2 >&2");
      expect(c.stdout).toBe("out1\nout2\n");
      expect(c.stderr).toBe("err1\nerr2\n");
      // The first line must arrive before the script ends, not all at the end.
      expect(c.chunkTimes[0]!).toBeLessThan(c.elapsedMs - 1_000);
    });

    it("with mergeStderr, sends stderr into stdout in the order the lines were written", async () => {
      const { session } = await start();
      const c = await run(session, "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3", {
        mergeStderr: true,
      });
      expect(c.stdout).toBe("out1\nerr1\nout2\nerr2\n");
      expect(c.stderr).toBe("");
      expect(c.result.exitCode).toBe(3);
      const bash = await run(session, "set -x; echo traced", { mergeStderr: true, shell: "bash" });
      expect(bash.stdout).toMatch(/^\++ echo traced\ntraced\n$/);
    });

    it("delivers large output completely", async () => {
      const { session } = await start();
      const c = await run(
        session,
        "i=0; while [ $i -lt 20000 ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz0123456789; i=$((i+1)); done",
      );
      const lines = c.stdout.split("\n").filter(Boolean);
      expect(lines.length).toBe(20_000);
      expect(lines[19_999]).toBe("line-19999-abcdefghijklmnopqrstuvwxyz0123456789");
    });

    it("passes job variables and per-exec variables, the latter winning", async () => {
      const { session } = await start({ JOB_ONLY: "job value", BOTH: "from job", SPACED: "a  b $HOME" });
      const c = await run(session, 'echo "$JOB_ONLY|$BOTH|$EXEC_ONLY|$SPACED"', {
        env: { BOTH: "from exec", EXEC_ONLY: "x=y" },
      });
      expect(c.stdout).toBe("job value|from exec|x=y|a  b $HOME\n");
      const later = await run(session, 'echo "${EXEC_ONLY:-unset}|$BOTH"');
      expect(later.stdout).toBe("unset|from job\n");
    });

    it("runs in the requested working directory under the workspace", async () => {
      const { job, session } = await start();
      await fs.mkdir(path.join(job.workspace, "sub", "dir"), { recursive: true });
      const c = await run(session, "pwd; touch made-here", { cwd: "sub/dir" });
      expect(c.stdout.trim()).toBe(path.posix.join(session.workdir, "sub/dir"));
      await expect(fs.stat(path.join(job.workspace, "sub", "dir", "made-here"))).resolves.toBeTruthy();
    });

    const known = (id: string) => (opts.knownFailures?.includes(id) ? it.fails : it);

    known("large-script")("runs a script larger than one argv string (150 KiB)", async () => {
      const { session } = await start();
      const script = `${"# padding line to make the script large\n".repeat(4_000)}echo big-script-ran`;
      expect(Buffer.byteLength(script)).toBeGreaterThan(150 * 1024);
      const c = await run(session, script);
      expect(c.result.exitCode).toBe(0);
      expect(c.stdout).toBe("big-script-ran\n");
    });

    it("kills the whole process tree on timeout and reports timedOut", async () => {
      const { session } = await start();
      const c = await run(session, "sleep 100 & echo $! > bg.pid; echo started; sleep 100", {
        timeoutMs: 1_000,
      });
      expect(c.result).toEqual({ exitCode: null, timedOut: true, canceled: false });
      expect(c.stdout).toBe("started\n");
      expect(c.elapsedMs).toBeLessThan(10_000);
      // The background sleep must be gone too, seen from inside the execution environment.
      const gone = await eventually(
        async () => (await run(session, 'kill -0 "$(cat bg.pid)" 2>/dev/null')).result.exitCode !== 0,
      );
      expect(gone).toBe(true);
      // The session is still usable after a timeout.
      expect((await run(session, "echo still-alive")).stdout).toBe("still-alive\n");
    });

    it("does not let background processes of a finished script outlive it", async () => {
      const { session } = await start();
      const c = await run(session, "sleep 100 & echo $! > bg.pid; echo done");
      expect(c.result.exitCode).toBe(0);
      expect(c.elapsedMs).toBeLessThan(10_000);
      const gone = await eventually(
        async () => (await run(session, 'kill -0 "$(cat bg.pid)" 2>/dev/null')).result.exitCode !== 0,
      );
      expect(gone).toBe(true);
    });

    it("cancels a running exec through the signal, leaves nothing running, and refuses later execs", async () => {
      const ac = new AbortController();
      const { job, session } = await start({}, ac.signal);
      const pending = run(session, "sleep 100 & echo started; sleep 100");
      setTimeout(() => ac.abort(), 1_000);
      const c = await pending;
      expect(c.result.canceled).toBe(true);
      expect(c.result.exitCode).toBeNull();
      expect(c.elapsedMs).toBeLessThan(10_000);
      const after = await run(session, "echo must-not-run");
      expect(after.result).toEqual({ exitCode: null, timedOut: false, canceled: true });
      expect(after.stdout).toBe("");
      await session.cleanup();
      expect(await eventually(async () => (await opts.leftovers(job)).length === 0)).toBe(true);
    });

    it("rejects prepare with an ExecutorError when already cancelled, leaving nothing behind", async () => {
      const { job } = await newJob();
      const ac = new AbortController();
      ac.abort();
      await expect(opts.create().prepare(job, ac.signal)).rejects.toBeInstanceOf(ExecutorError);
      expect(await opts.leftovers(job)).toEqual([]);
    });

    it("cleans up idempotently", async () => {
      const { job, session } = await start();
      expect((await run(session, "echo hi")).stdout).toBe("hi\n");
      await session.cleanup();
      await session.cleanup();
      // Removal may finish in the background (the docker executor detaches it), but promptly.
      expect(await eventually(async () => (await opts.leftovers(job)).length === 0)).toBe(true);
      await session.cleanup();
    });

    it("kills running commands on cleanup", async () => {
      const { job, session } = await start();
      const pending = run(session, "sleep 100");
      await new Promise((r) => setTimeout(r, 500));
      await session.cleanup();
      const c = await pending;
      expect(c.result.exitCode).not.toBe(0);
      expect(c.elapsedMs).toBeLessThan(10_000);
      expect(await eventually(async () => (await opts.leftovers(job)).length === 0)).toBe(true);
    });
  });
}
