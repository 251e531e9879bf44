import type { Command } from "commander";
import { Option } from "commander";

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface ConvertFlags {
  to: "gantry" | "gitlab";
  output?: string;
  cwd: string;
  param: string[];
  library: string[];
}

/** Registers `gantry convert <file> --to gantry|gitlab`. */
export function register(program: Command): void {
  program
    .command("convert")
    .description(
      "convert a pipeline (gantry.yml, .gitlab-ci.yml or Jenkinsfile) to gantry.yml or .gitlab-ci.yml",
    )
    .argument("<file>", "the pipeline file to convert")
    .addOption(
      new Option("--to <format>", "target format").choices(["gantry", "gitlab"]).makeOptionMandatory(),
    )
    .option("-o, --output <file>", "write to this file instead of standard output")
    .option("-C, --cwd <dir>", "project directory", ".")
    .option("--param <K=V>", "pipeline parameter value used while compiling (repeatable)", collect, [])
    .option("--library <name=path|git-url>", "a shared library the pipeline uses (repeatable)", collect, [])
    .action(async (file: string, opts: ConvertFlags) => {
      const { convertCommand } = await import("./convert-command.js");
      process.exitCode = await convertCommand(file, opts);
    });
}
