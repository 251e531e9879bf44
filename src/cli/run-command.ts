import { closeSync, constants, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import type { RunEvent } from "../engine/events.js";
import { listProjectFiles } from "../engine/files.js";
import { LocalArtifactStore, LocalCacheStore } from "../engine/local-store.js";
import { runPlan, workspaceRootFor } from "../engine/scheduler.js";
import { selectJobs } from "../engine/select.js";
import type { ExecutorRegistry, InputDecision, InputRequest, SecretResolver } from "../engine/types.js";
import { parseAssignments } from "../engine/variables.js";
import { NoAgentExecutor } from "../executors/none.js";
import { ShellExecutor } from "../executors/shell.js";
import { removeInBackground, sharedSpawner } from "../executors/spawner.js";
import type { LibrarySource } from "../pipeline/context.js";
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from "../pipeline/diagnostics.js";
import { loadPipeline, type LoadResult } from "../pipeline/load.js";
import type { Plan } from "../pipeline/plan.js";
import { CliError, EXIT } from "./errors.js";
import { colours, LiveRenderer, PlainRenderer, TurnBuffer } from "./render.js";
import { RunFiles } from "./run-files.js";
import type { PipelineFlags, RunFlags } from "./run.js";

function assignments(pairs: string[], flag: string): Record<string, string> {
  try {
    return parseAssignments(pairs, flag);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.USAGE, `write it as ${flag} NAME=value`);
  }
}

async function libraries(flags: string[]): Promise<LibrarySource[]> {
  if (flags.length === 0) return [];
  const { parseLibraryFlag } = await import("../pipeline/libraries/config.js");
  return flags.map((f) => {
    try {
      return parseLibraryFlag(f);
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.USAGE);
    }
  });
}

async function load(
  opts: PipelineFlags,
): Promise<{ result: LoadResult; projectDir: string; variables: Record<string, string> }> {
  const projectDir = path.resolve(opts.cwd);
  const stat = statSync(projectDir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new CliError(`project directory ${projectDir} does not exist`, EXIT.USAGE);
  const variables = assignments(opts.variable, "--variable");
  const result = await loadPipeline({
    projectDir,
    ...(opts.file ? { file: opts.file } : {}),
    variables,
    params: assignments(opts.param, "--param"),
    libraries: await libraries(opts.library),
  });
  return { result, projectDir, variables };
}

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  const c = colours(process.stderr);
  for (const d of sortDiagnostics(diagnostics)) {
    const text = formatDiagnostic(d);
    const paint = d.severity === "error" ? c.red : d.severity === "warning" ? c.yellow : c.dim;
    process.stderr.write(
      `${paint(text.split("\n")[0]!)}${text.includes("\n") ? `\n${text.split("\n").slice(1).join("\n")}` : ""}\n`,
    );
  }
}

/** Compiles and prints diagnostics; returns the plan or the exit code to stop with. */
async function compiled(
  opts: PipelineFlags,
): Promise<
  { plan: Plan; result: LoadResult; projectDir: string; variables: Record<string, string> } | number
> {
  const { result, projectDir, variables } = await load(opts);
  printDiagnostics(result.diagnostics);
  if (!result.plan || hasErrors(result.diagnostics)) {
    const n = result.diagnostics.filter((d) => d.severity === "error").length;
    process.stderr.write(
      `gantry: ${result.file ?? "pipeline"} is invalid (${n} error${n === 1 ? "" : "s"}); nothing was run\n`,
    );
    return EXIT.USAGE;
  }
  return { plan: result.plan, result, projectDir, variables };
}

export async function validateCommand(opts: PipelineFlags & { format: "text" | "json" }): Promise<number> {
  const { result } = await load(opts);
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  if (opts.format === "json") {
    process.stdout.write(
      `${JSON.stringify({ file: result.file, format: result.format, valid: errors === 0, diagnostics: sortDiagnostics(result.diagnostics) }, null, 2)}\n`,
    );
  } else {
    printDiagnostics(result.diagnostics);
    if (errors === 0) {
      const jobs = result.plan?.jobs.length ?? 0;
      process.stdout.write(
        `${result.file}: valid ${result.format} pipeline, ${jobs} job${jobs === 1 ? "" : "s"}\n`,
      );
    }
  }
  return errors === 0 ? EXIT.OK : EXIT.USAGE;
}

export async function planCommand(opts: PipelineFlags): Promise<number> {
  const r = await compiled(opts);
  if (typeof r === "number") return r;
  process.stdout.write(`${JSON.stringify(r.plan, null, 2)}\n`);
  return EXIT.OK;
}

export async function listCommand(opts: PipelineFlags): Promise<number> {
  const r = await compiled(opts);
  if (typeof r === "number") return r;
  const rows = r.plan.jobs.map((j) => [
    j.stage,
    j.id,
    j.when,
    j.needsMode === "explicit" ? j.needs.map((n) => n.job).join(", ") : "(stage order)",
  ]);
  const head = ["STAGE", "JOB", "WHEN", "NEEDS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [head, ...rows])
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()}\n`,
    );
  return EXIT.OK;
}

/** Credentials for local runs: `--secret ID=VALUE` and `GANTRY_SECRET_<ID>` environment variables. */
function localSecrets(flags: Record<string, string>): { resolve: SecretResolver; values: string[] } {
  const values = Object.values(flags);
  return {
    values,
    resolve: async (id) => {
      const v = flags[id] ?? process.env[`GANTRY_SECRET_${id.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`];
      return v === undefined ? undefined : { kind: "secret", value: v };
    },
  };
}

/**
 * The next run's id; creates its folder `.gantry/runs/<id>`. The folder is made exclusively, so
 * two runs started at once get different ids even though they read the same counter.
 * Synchronously: a few tiny operations, each a thread-pool round trip otherwise.
 */
function nextRunId(stateDir: string): string {
  const runs = path.join(stateDir, "runs");
  mkdirSync(runs, { recursive: true });
  const counter = path.join(runs, "last-id");
  let text = "";
  try {
    text = readFileSync(counter, "latin1");
  } catch {
    // The first run here.
  }
  for (let id = (Number(text) || 0) + 1; ; id++) {
    try {
      mkdirSync(path.join(runs, String(id)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    // Overwritten in place, never truncated (ext4 flushes a truncated-and-rewritten file when
    // it is closed, ~0.5 ms): padded to the old length, the number reads the same.
    const fd = openSync(counter, constants.O_WRONLY | constants.O_CREAT, 0o666);
    try {
      writeSync(fd, String(id).padStart(text.length), 0);
    } finally {
      closeSync(fd);
    }
    return String(id);
  }
}

function approvals(
  flags: string[],
  plan: Plan,
): ((req: InputRequest, signal: AbortSignal) => Promise<InputDecision>) | undefined {
  const approved = new Set(flags);
  const user = os.userInfo().username;
  return async (req, signal) => {
    const job = plan.jobs.find((j) => j.id === req.jobId);
    if (approved.has(req.jobId) || approved.has(req.jobName) || (job && approved.has(job.stage))) {
      const params: Record<string, string> = {};
      for (const p of req.parameters) params[p.name] = p.default ?? "";
      return { approved: true, by: user, params };
    }
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      process.stderr.write(
        `gantry: stage "${req.jobName}" asks "${req.message}"; approve it with --approve "${req.jobName}"\n`,
      );
      return { approved: false, by: "gantry", params: {} };
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`\n${req.message}\n[${req.ok}] y/N? `, { signal });
      const params: Record<string, string> = {};
      if (/^y(es)?$/i.test(answer.trim())) {
        for (const p of req.parameters) {
          const v = await rl.question(`${p.name}${p.default !== undefined ? ` [${p.default}]` : ""}: `, {
            signal,
          });
          params[p.name] = v.trim() || p.default || "";
        }
        return { approved: true, by: user, params };
      }
      return { approved: false, by: user, params };
    } catch {
      return { approved: false, by: user, params: {} };
    } finally {
      rl.close();
    }
  };
}

async function executorsFor(plan: Plan, opts: RunFlags): Promise<ExecutorRegistry> {
  const executors: ExecutorRegistry = { shell: new ShellExecutor(), none: new NoAgentExecutor() };
  const dockerJobs = plan.jobs.filter((j) => j.executor.kind === "docker").length;
  if (dockerJobs > 0 || plan.executor.kind === "docker") {
    try {
      const m = await import("../executors/docker/index.js");
      // A pre-warmed network namespace only pays off when a second docker job can use it.
      executors.docker = m.createDockerExecutor({
        dockerSocket: opts.dockerSocket === true,
        warmNetwork: dockerJobs > 1,
      });
    } catch {
      // No docker executor in this build: jobs that need one fail with the shell executor's message.
    }
  }
  return executors;
}

export async function runCommand(opts: PipelineFlags & RunFlags): Promise<number> {
  // Started now, so that bash and git run while the pipeline compiles.
  await sharedSpawner()?.warm();
  const projectFiles = opts.inPlace ? undefined : listProjectFiles(path.resolve(opts.cwd));
  projectFiles?.catch(() => undefined); // awaited by runPlan, or not at all if nothing runs
  const r = await compiled(opts);
  if (typeof r === "number") return r;
  const { plan, projectDir, variables, result } = r;
  const selection = selectJobs(plan, { jobs: opts.job, needs: opts.needs === true, manual: opts.manual });
  if (selection.errors.length > 0) {
    for (const e of selection.errors) process.stderr.write(`gantry: ${e}\n`);
    return EXIT.USAGE;
  }
  const concurrency = opts.concurrency === undefined ? os.availableParallelism() : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new CliError(`--concurrency must be a positive integer, not "${opts.concurrency}"`);

  const stateDir = path.join(projectDir, ".gantry");
  const runId = nextRunId(stateDir); // creates the run's folder
  const runDir = path.join(stateDir, "runs", runId);
  const secretFlags = assignments(opts.secret, "--secret");
  const secrets = localSecrets(secretFlags);
  const files = new RunFiles(runDir);
  const ci = process.env.CI === "true" || process.env.CI === "1";
  const c = colours(process.stdout);
  // Lines and JSON events are written once per turn of the event loop (the live view redraws
  // at most ten times a second anyway).
  const live = process.stdout.isTTY && !ci && !opts.json;
  const out = live ? undefined : new TurnBuffer(process.stdout);
  if (out) process.once("exit", out.flush);
  const renderer = opts.json
    ? undefined
    : live
      ? new LiveRenderer(process.stdout, c)
      : new PlainRenderer(out!, c);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write("\ngantry: cancelling (Ctrl-C again to exit at once)\n");
      controller.abort();
    } else {
      out?.flush();
      process.exit(EXIT.CANCELED);
    }
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);

  const onEvent = (e: RunEvent) => {
    files.handle(e);
    if (opts.json) out!.write(`${JSON.stringify(e)}\n`);
    else renderer!.handle(e);
  };
  try {
    const executors = await executorsFor(plan, opts);
    await Promise.all(Object.values(executors).flatMap((x) => (x?.reap ? [x.reap().catch(() => 0)] : [])));
    const outcome = await runPlan({
      runId,
      plan,
      projectDir,
      workspaceRoot: workspaceRootFor(stateDir, runId),
      workspacePool: path.join(stateDir, "builds", "idle"),
      inPlace: opts.inPlace === true,
      ...(projectFiles ? { projectFiles } : {}),
      concurrency,
      executors,
      artifacts: new LocalArtifactStore(stateDir, runId),
      cache: new LocalCacheStore(stateDir),
      secrets: secrets.resolve,
      extraEnv: variables,
      maskValues: secrets.values,
      jobIds: selection.ids,
      manual: selection.manual,
      git: result.git,
      ...(approvals(opts.approve, plan) ? { approvals: approvals(opts.approve, plan)! } : {}),
      onEvent,
      signal: controller.signal,
    });
    // Not waited for: one thread-pool round trip per entry made this the slowest part of exiting.
    if (!opts.inPlace) removeInBackground(workspaceRootFor(stateDir, runId));
    if (outcome.status === "canceled") return EXIT.CANCELED;
    return outcome.status === "failed" ? EXIT.FAILED : EXIT.OK;
  } finally {
    out?.flush();
    if (out) process.off("exit", out.flush);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    try {
      files.close();
    } catch (err) {
      process.stderr.write(
        `gantry: could not write the run's logs under ${runDir}: ${(err as Error).message}\n`,
      );
    }
  }
}
