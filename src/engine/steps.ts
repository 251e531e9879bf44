import { promises as fs } from "node:fs";
import path from "node:path";
import type { BuildResult, Step } from "../pipeline/plan.js";
import type { ExecutorSession, OutputStream } from "../executors/executor.js";
import { collectFiles } from "./files.js";
import { summariseJunit } from "./junit.js";
import { secretParts, writeSecretFile } from "./secrets.js";
import type { ArtifactStore, SecretResolver } from "./types.js";
import { expandVariables, shellQuote } from "./variables.js";

/** A step failed; `message` is shown in the log. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly exitCode?: number | null,
    readonly kind: "failed" | "timeout" | "canceled" = "failed",
  ) {
    super(message);
  }
}

const RANK: Record<BuildResult, number> = { SUCCESS: 0, UNSTABLE: 1, FAILURE: 2, NOT_BUILT: 3, ABORTED: 4 };

/** The worse of two results, Jenkins style. */
export function worse(a: BuildResult, b: BuildResult): BuildResult {
  return RANK[b] > RANK[a] ? b : a;
}

/** What the step interpreter needs from the job around it. */
export interface StepHost {
  session: ExecutorSession;
  /** The workspace on the host (file steps work here). */
  workspace: string;
  jobId: string;
  /** `sh` steps get `set -xe` like Jenkins (true) or `set -e` (false). */
  traceShell: boolean;
  baseEnv: Record<string, string>;
  artifacts: ArtifactStore;
  secrets: SecretResolver;
  signal: AbortSignal;
  /** Emits output of a command (raw bytes, split and masked by the host). */
  output: (stream: OutputStream, chunk: Buffer) => void;
  /** Flushes partial lines after a command. */
  flush: () => void;
  /** Writes a system line. */
  system: (line: string) => void;
  /** Writes an output line (echo). */
  print: (line: string) => void;
  addMask: (value: string) => void;
  /** Files archived with `archiveArtifacts` so far. */
  archived: Set<string>;
  /** The stage's result so far; steps like `unstable` and `catchError` lower it. */
  result: BuildResult;
  /**
   * What the job contributes to the pipeline's result; the same as `result` except after a
   * `catchError` whose `buildResult` differs from its `stageResult`.
   */
  buildResult: BuildResult;
  onStep?: (name: string, index: number, phase: "start" | "end", ok: boolean, ms: number) => void;
  runScan?: (step: Extract<Step, { kind: "scan" }>, cwd: string) => Promise<{ ok: boolean; summary: string }>;
  runDockerBuild?: (
    step: Extract<Step, { kind: "dockerBuild" }>,
    cwd: string,
    env: Record<string, string>,
  ) => Promise<void>;
}

/** Per-block state: working directory (relative to the workspace), extra variables, deadline. */
export interface Scope {
  cwd: string;
  env: Record<string, string>;
  deadline?: number;
}

let stepCounter = 0;

function stepName(step: Step): string {
  switch (step.kind) {
    case "sh":
      return step.label ?? `sh: ${firstLine(step.script)}`;
    case "script":
      return "script";
    case "echo":
      return "echo";
    default:
      return step.kind;
  }
}

function firstLine(s: string): string {
  const line = s.trim().split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** Runs steps in order; throws `StepError` at the first failure. */
export async function runSteps(steps: readonly Step[], host: StepHost, scope: Scope): Promise<void> {
  for (const step of steps) {
    if (host.signal.aborted) throw new StepError("cancelled", null, "canceled");
    const index = stepCounter++;
    const started = Date.now();
    const name = stepName(step);
    host.onStep?.(name, index, "start", true, 0);
    try {
      await runStep(step, host, scope);
      host.onStep?.(name, index, "end", true, Date.now() - started);
    } catch (err) {
      host.onStep?.(name, index, "end", false, Date.now() - started);
      throw err;
    }
  }
}

function env(host: StepHost, scope: Scope): Record<string, string> {
  return { ...host.baseEnv, ...scope.env };
}

function expand(host: StepHost, scope: Scope, s: string): string {
  const e = env(host, scope);
  return expandVariables(s, (n) => e[n]);
}

async function exec(
  host: StepHost,
  scope: Scope,
  script: string,
  shell: "sh" | "bash" = "sh",
): Promise<number | null> {
  const timeoutMs = scope.deadline === undefined ? undefined : Math.max(1, scope.deadline - Date.now());
  const r = await host.session.exec({
    script,
    shell,
    cwd: scope.cwd,
    env: env(host, scope),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    // One log, in the order the lines were written (a `set -x` trace next to its output).
    mergeStderr: true,
    onOutput: host.output,
  });
  host.flush();
  if (r.canceled) throw new StepError("cancelled", null, "canceled");
  if (r.timedOut) throw new StepError("Timeout has been exceeded", null, "timeout");
  return r.exitCode;
}

/** GitLab's script semantics: one shell, each command echoed as `$ cmd`, stop at the first failure. */
export function gitlabScript(commands: readonly string[]): string {
  // bash always has pipefail; other shells are probed in a subshell (a failing `set` would
  // end a POSIX shell), a fork bash is spared.
  const body = [
    'if [ -n "${BASH_VERSION:-}" ]; then set -o pipefail; else (set -o pipefail) 2>/dev/null && set -o pipefail; fi',
    "set -e",
  ];
  for (const cmd of commands) {
    const lines = cmd.split("\n");
    const shown = lines.length > 1 ? `${lines[0]} # collapsed multi-line command` : cmd;
    body.push(`printf '%s\\n' ${shellQuote(`$ ${shown}`)}`, cmd);
  }
  // GitLab runs scripts with bash where it exists, else sh: the executor picks (`shell: "bash"`).
  return body.join("\n");
}

async function runStep(step: Step, host: StepHost, scope: Scope): Promise<void> {
  switch (step.kind) {
    case "sh": {
      const script = step.script.startsWith("#!")
        ? step.script
        : `set ${host.traceShell ? "-xe" : "-e"}\n${step.script}`;
      const code = await exec(host, scope, script);
      if (code !== 0) throw new StepError(`script returned exit code ${code}`, code);
      return;
    }
    case "script": {
      const code = await exec(host, scope, gitlabScript(step.commands), "bash");
      if (code !== 0) throw new StepError(`script failed with exit code ${code}`, code);
      return;
    }
    case "echo":
      host.print(expand(host, scope, step.message));
      return;
    case "dir": {
      const cwd = path.join(scope.cwd, expand(host, scope, step.path));
      inside(host, cwd);
      await fs.mkdir(path.join(host.workspace, cwd), { recursive: true });
      await runSteps(step.steps, host, { ...scope, cwd });
      return;
    }
    case "withEnv": {
      const extra: Record<string, string> = {};
      for (const [k, v] of Object.entries(step.env)) extra[k] = expand(host, scope, v);
      await runSteps(step.steps, host, { ...scope, env: { ...scope.env, ...extra } });
      return;
    }
    case "withCredentials": {
      const extra: Record<string, string> = {};
      for (const b of step.bindings) {
        const secret = await host.secrets(b.credentialsId);
        if (!secret) throw new StepError(`Could not find credentials entry with ID '${b.credentialsId}'`);
        const { whole, user, pass } = secretParts(secret);
        if (b.kind === "usernamePassword") {
          host.addMask(pass);
          extra[b.usernameVariable] = user;
          extra[b.passwordVariable] = pass;
        } else if (b.kind === "file") {
          host.addMask(whole);
          extra[b.variable] = await writeSecretFile(host.workspace, b.credentialsId, whole);
        } else {
          host.addMask(whole);
          extra[b.variable] = whole;
        }
      }
      await runSteps(step.steps, host, { ...scope, env: { ...scope.env, ...extra } });
      return;
    }
    case "archiveArtifacts": {
      const files = await collectFiles(
        path.join(host.workspace, scope.cwd),
        step.paths.map((p) => expand(host, scope, p)),
        step.exclude,
      );
      if (files.length === 0 && !step.allowEmpty)
        throw new StepError(`No artifacts found that match the file pattern "${step.paths.join(",")}"`);
      for (const f of files) host.archived.add(path.join(scope.cwd, f));
      host.system(`Archived ${files.length} artifact file(s)`);
      return;
    }
    case "stash": {
      const base = path.join(host.workspace, scope.cwd);
      const files = await collectFiles(base, step.includes.length ? step.includes : ["**"], step.exclude);
      if (files.length === 0 && !step.allowEmpty)
        throw new StepError(`No files included in stash ‘${step.name}’`);
      await host.artifacts.putStash(step.name, base, files);
      host.system(`Stashed ${files.length} file(s) as ‘${step.name}’`);
      return;
    }
    case "unstash": {
      const ok = await host.artifacts.getStash(step.name, path.join(host.workspace, scope.cwd));
      if (!ok) throw new StepError(`No such saved stash ‘${step.name}’`);
      return;
    }
    case "retry": {
      let last: StepError | undefined;
      for (let i = 1; i <= Math.max(1, step.count); i++) {
        try {
          await runSteps(step.steps, host, scope);
          return;
        } catch (err) {
          if (!(err instanceof StepError) || err.kind === "canceled") throw err;
          last = err;
          if (i < step.count) host.system(`Retrying (attempt ${i + 1} of ${step.count})`);
        }
      }
      throw last ?? new StepError("retry failed");
    }
    case "timeout": {
      const deadline = Date.now() + step.ms;
      await runSteps(step.steps, host, {
        ...scope,
        deadline: scope.deadline === undefined ? deadline : Math.min(scope.deadline, deadline),
      });
      return;
    }
    case "error":
      throw new StepError(expand(host, scope, step.message));
    case "unstable":
      host.system(`WARNING: ${expand(host, scope, step.message)}`);
      host.result = worse(host.result, "UNSTABLE");
      host.buildResult = worse(host.buildResult, "UNSTABLE");
      return;
    case "writeFile": {
      const file = path.join(scope.cwd, expand(host, scope, step.file));
      inside(host, file);
      await fs.mkdir(path.dirname(path.join(host.workspace, file)), { recursive: true });
      // Like echo: `${VAR}` is the job's variable (`$$` writes a literal `$`).
      await fs.writeFile(path.join(host.workspace, file), expand(host, scope, step.text));
      return;
    }
    case "sleep":
      await sleep(step.ms, host.signal, scope.deadline);
      return;
    case "catchError": {
      try {
        await runSteps(step.steps, host, scope);
      } catch (err) {
        if (!(err instanceof StepError) || err.kind === "canceled") throw err;
        host.system(step.message ? `${step.message}: ${err.message}` : `Caught error: ${err.message}`);
        host.result = worse(host.result, step.stageResult);
        host.buildResult = worse(host.buildResult, step.buildResult);
      }
      return;
    }
    case "junit": {
      const base = path.join(host.workspace, scope.cwd);
      const files = await collectFiles(
        base,
        step.patterns.map((p) => expand(host, scope, p)),
      );
      if (files.length === 0) {
        if (step.allowEmpty) return;
        throw new StepError(`No test report files were found. Configuration error?`);
      }
      const s = await summariseJunit(base, files);
      host.system(
        `Test results: ${s.tests} tests, ${s.failures} failures, ${s.errors} errors, ${s.skipped} skipped (${files.length} report(s))`,
      );
      if (s.failures + s.errors > 0) {
        host.result = worse(host.result, "UNSTABLE");
        host.buildResult = worse(host.buildResult, "UNSTABLE");
      }
      return;
    }
    case "deleteDir": {
      const dir = path.join(host.workspace, scope.cwd);
      for (const e of await fs.readdir(dir).catch(() => []))
        await fs.rm(path.join(dir, e), { recursive: true, force: true });
      return;
    }
    case "checkout":
      host.system("checkout scm: the workspace already holds the checkout");
      return;
    case "dockerBuild":
      if (!host.runDockerBuild)
        throw new StepError("dockerBuild needs the docker executor, which is not available here");
      await host.runDockerBuild(step, scope.cwd, env(host, scope));
      return;
    case "scan": {
      if (!host.runScan) throw new StepError("the scan step is not available");
      const r = await host.runScan(step, scope.cwd);
      if (!r.ok) throw new StepError(`scan found issues at or above "${step.failOn}": ${r.summary}`);
      return;
    }
  }
}

function inside(host: StepHost, rel: string): void {
  const abs = path.resolve(host.workspace, rel);
  if (abs !== host.workspace && !abs.startsWith(`${host.workspace}${path.sep}`))
    throw new StepError(`path "${rel}" is outside the workspace`);
}

function sleep(ms: number, signal: AbortSignal, deadline?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const wait = deadline === undefined ? ms : Math.min(ms, Math.max(0, deadline - Date.now()));
    const timedOut = deadline !== undefined && deadline - Date.now() < ms;
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      if (timedOut) reject(new StepError("Timeout has been exceeded", null, "timeout"));
      else resolve();
    }, wait);
    const onAbort = () => {
      clearTimeout(t);
      reject(new StepError("cancelled", null, "canceled"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
