import type { Command } from "commander";
import { Option } from "commander";
import { CliError, EXIT } from "./errors.js";

const collect = (v: string, prev: string[]) => [...prev, v];

/** Flags every command that compiles a pipeline understands. */
function pipelineFlags(cmd: Command): Command {
  return cmd
    .option(
      "-f, --file <file>",
      "pipeline file (default: gantry.yml, .gitlab-ci.yml or Jenkinsfile in the current folder)",
    )
    .option("-C, --cwd <dir>", "project directory", ".")
    .option("--variable <K=V>", "set a variable (highest precedence; repeatable)", collect, [])
    .option("--param <K=V>", "set a pipeline parameter (repeatable)", collect, [])
    .option(
      "--library <name=path|git-url>",
      "a shared library for Jenkinsfiles and uses: steps (repeatable)",
      collect,
      [],
    );
}

interface PipelineFlags {
  file?: string;
  cwd: string;
  variable: string[];
  param: string[];
  library: string[];
}

/** Registers `gantry run`, `validate`, `plan` and `list`. */
export function register(program: Command): void {
  pipelineFlags(
    program
      .command("run")
      .description("run a pipeline locally, with no server")
      .option("-j, --job <name>", "run only this job (repeatable)", collect, [])
      .option("--needs", "with --job: also run the jobs it needs, transitively")
      .option("--manual <name>", "play this manual job (repeatable)", collect, [])
      .option("--approve <stage>", "approve this stage's input without asking (repeatable)", collect, [])
      .option(
        "--secret <ID=VALUE>",
        "define a credential for this run (repeatable; also GANTRY_SECRET_<ID>)",
        collect,
        [],
      )
      .option("-c, --concurrency <n>", "jobs at a time (default: number of cores)")
      .option("--in-place", "run jobs in the project folder instead of a copy")
      .option("--docker-socket", "give docker jobs the engine's socket (for docker build inside scripts)")
      .option("--json", "print the event stream, one JSON event per line"),
  ).action(async (opts: PipelineFlags & RunFlags) => {
    const { runCommand } = await import("./run-command.js");
    process.exitCode = await runCommand(opts);
  });

  pipelineFlags(
    program
      .command("validate")
      .description("check a pipeline file and print every problem found")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(async (opts: PipelineFlags & { format: "text" | "json" }) => {
    const { validateCommand } = await import("./run-command.js");
    process.exitCode = await validateCommand(opts);
  });

  pipelineFlags(program.command("plan").description("print the compiled Plan as JSON")).action(
    async (opts: PipelineFlags) => {
      const { planCommand } = await import("./run-command.js");
      process.exitCode = await planCommand(opts);
    },
  );

  pipelineFlags(
    program.command("list").description("list the pipeline's jobs: stage, name, when, needs"),
  ).action(async (opts: PipelineFlags) => {
    const { listCommand } = await import("./run-command.js");
    process.exitCode = await listCommand(opts);
  });
}

export interface RunFlags {
  job: string[];
  needs?: boolean;
  manual: string[];
  approve: string[];
  secret: string[];
  concurrency?: string;
  inPlace?: boolean;
  dockerSocket?: boolean;
  json?: boolean;
}

export type { PipelineFlags };
export { CliError, EXIT };
