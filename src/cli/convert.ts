import type { Command } from "commander";
import { Option } from "commander";
import type { ConvertTarget } from "../pipeline/convert/index.js";
import { CliError, EXIT } from "./errors.js";

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface ConvertFlags {
  to: ConvertTarget;
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
      process.exitCode = await convertCommand(file, opts);
    });
}

function pairs(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new CliError(`${flag} "${p}" must be NAME=value`, EXIT.USAGE);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Compiles `file` and renders it in the target format; exit 2 when it does not compile. */
async function convertCommand(file: string, opts: ConvertFlags): Promise<number> {
  // Loaded here so that other commands do not pay for the compilers.
  const path = await import("node:path");
  const { writeFile } = await import("node:fs/promises");
  const { convertPlan, LOSSY } = await import("../pipeline/convert/index.js");
  const { formatDiagnostic, hasErrors, sortDiagnostics } = await import("../pipeline/diagnostics.js");
  const { parseLibraryFlag } = await import("../pipeline/libraries/config.js");
  const { loadPipeline } = await import("../pipeline/load.js");
  const projectDir = path.resolve(opts.cwd);
  const libraries = opts.library.map((f) => {
    try {
      return parseLibraryFlag(f);
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.USAGE);
    }
  });
  const result = await loadPipeline({ projectDir, file, params: pairs(opts.param, "--param"), libraries });
  for (const d of sortDiagnostics(result.diagnostics)) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!result.plan || hasErrors(result.diagnostics)) {
    process.stderr.write(`gantry: ${result.file ?? file} does not compile, so it cannot be converted\n`);
    return EXIT.USAGE;
  }
  const text = convertPlan(result.plan, opts.to);
  const lossy = text.split("\n").filter((l) => l.includes(LOSSY)).length;
  const summary = `${lossy} item${lossy === 1 ? "" : "s"} could not be carried over; see the "# ${LOSSY}" comments`;
  if (opts.output) {
    await writeFile(path.resolve(projectDir, opts.output), text);
    process.stderr.write(`gantry: wrote ${opts.output} (${summary})\n`);
  } else {
    process.stdout.write(text);
    if (lossy) process.stderr.write(`gantry: ${summary}\n`);
  }
  return EXIT.OK;
}
