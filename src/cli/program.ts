import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EXIT, CliError } from "./errors.js";

/**
 * Each command lives in its own module that exports `register(program)`. Modules keep their
 * heavy imports inside the action so that `gantry run` does not pay for the server or scanner.
 * To add a command: create `src/cli/<name>.ts` and add it to this list.
 */
const COMMANDS: (() => Promise<{ register: (program: Command) => void }>)[] = [
  () => import("./run.js"),
  () => import("./scan.js"),
  () => import("./server.js"),
  () => import("./runner.js"),
  () => import("./convert.js"),
];

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return "unknown";
  }
}

/** Runs the CLI with `argv` (`process.argv` shape) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("gantry")
    .description("Run gantry.yml, .gitlab-ci.yml and Jenkinsfile pipelines locally or on a Gantry server")
    .version(packageVersion(), "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();
  for (const load of COMMANDS) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT.OK : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      )
        return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`gantry: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ""}`);
      return err.exitCode;
    }
    process.stderr.write(
      `gantry: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT.INTERNAL;
  }
}

/** Runs the CLI as the process: its exit code becomes the process's. */
export async function start(argv: string[]): Promise<void> {
  // A closed pipe (`gantry run | head`) must not crash a running pipeline: its logs still go
  // to .gantry/runs/; further terminal output is dropped.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  process.exitCode = await main(argv);
}
