import { promises as fs } from "node:fs";
import path from "node:path";
import { convertPlan, LOSSY, type ConvertTarget } from "../pipeline/convert/index.js";
import { formatDiagnostic, hasErrors, sortDiagnostics } from "../pipeline/diagnostics.js";
import { parseLibraryFlag } from "../pipeline/libraries/config.js";
import { loadPipeline } from "../pipeline/load.js";
import { CliError, EXIT } from "./errors.js";

function pairs(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new CliError(`${flag} "${p}" must be NAME=value`, EXIT.USAGE);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** `gantry convert`: compile `file`, render it in the target format; exit 2 when it does not compile. */
export async function convertCommand(
  file: string,
  opts: { to: ConvertTarget; output?: string; cwd: string; param: string[]; library: string[] },
): Promise<number> {
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
  if (opts.output) {
    await fs.writeFile(path.resolve(projectDir, opts.output), text);
    process.stderr.write(
      `gantry: wrote ${opts.output} (${lossy} item${lossy === 1 ? "" : "s"} could not be carried over; see the "# ${LOSSY}" comments)\n`,
    );
  } else {
    process.stdout.write(text);
    if (lossy)
      process.stderr.write(
        `gantry: ${lossy} item${lossy === 1 ? "" : "s"} could not be carried over; see the "# ${LOSSY}" comments\n`,
      );
  }
  return EXIT.OK;
}
