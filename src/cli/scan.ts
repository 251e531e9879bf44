import type { Command } from "commander";
import { CliError, EXIT } from "./errors.js";

const collect = (v: string, prev: string[]) => [...prev, v];

/** Options of `gantry scan`, as commander parses them. */
export interface ScanFlags {
  format?: string;
  output?: string;
  failOn: string;
  only?: string;
  staged?: boolean;
  git?: string;
  baseline?: string;
  writeBaseline?: string;
  inlineAllow: boolean;
  maxFileSize?: string;
  exclude: string[];
  workers?: string;
  listRules?: boolean;
}

/** Registers `gantry scan`. */
export function register(program: Command): void {
  program
    .command("scan")
    .description(
      "scan for secrets, Dockerfile and Kubernetes manifest problems; exit 1 when a finding reaches --fail-on",
    )
    .argument("[path]", "file or folder to scan", ".")
    .option("--format <format>", "table, json, sarif or gitlab (default: table)")
    .option("-o, --output <file>", "write the report to a file (a summary still goes to stderr)")
    .option(
      "--fail-on <level>",
      "exit 1 when a finding is at or above: info, low, medium, high, critical or never",
      "high",
    )
    .option("--only <scanners>", "comma-separated: secrets, dockerfile, kubernetes")
    .option("--staged", "scan the staged version of staged files (secrets; for pre-commit hooks)")
    .option(
      "--git <range>",
      "scan lines added in a git range, e.g. origin/main..HEAD, or `all` for every branch (secrets)",
    )
    .option("--baseline <file>", "leave out findings listed in this baseline file")
    .option("--write-baseline <file>", "write all current findings to a baseline file and exit 0")
    .option("--no-inline-allow", "ignore `gantry:allow <reason>` comments (policy: no inline suppression)")
    .option("--max-file-size <MiB>", "skip (and count) files larger than this", "10")
    .option(
      "--exclude <pattern>",
      "ignore paths matching this .gitignore-style pattern (repeatable)",
      collect,
      [],
    )
    .option("--workers <n>", "threads for the secrets scan (default: one per idle core, at most 4)")
    .option("--list-rules", "print every rule with its severity and equivalents in other tools, then exit")
    .action(async (target: string, opts: ScanFlags) => {
      process.exitCode = await scanCommand(target, opts);
    });
}

async function scanCommand(target: string, opts: ScanFlags): Promise<number> {
  const [
    { scan },
    { renderReport, listRules, FORMATS },
    { parseLevel, reaches, SCANNERS },
    { summaryLine },
    { writeBaseline },
    { GitSourceError },
    fs,
  ] = await Promise.all([
    import("../scan/scanner.js"),
    import("../scan/render.js"),
    import("../scan/types.js"),
    import("../scan/report/table.js"),
    import("../scan/baseline.js"),
    import("../scan/git-source.js"),
    import("node:fs"),
  ]);
  const format = opts.format ?? "table";
  if (opts.listRules) {
    if (format !== "table" && format !== "json")
      throw new CliError(`--list-rules prints table or json, not '${format}'`, EXIT.USAGE);
    process.stdout.write(await listRules(format));
    return EXIT.OK;
  }
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(`unknown --format '${format}'`, EXIT.USAGE, `use one of: ${FORMATS.join(", ")}`);
  const gate = parseLevel(opts.failOn);
  if (gate === undefined)
    throw new CliError(
      `unknown --fail-on level '${opts.failOn}'`,
      EXIT.USAGE,
      "use info, low, medium, high, critical or never",
    );
  const only =
    opts.only
      ?.split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean) ?? [];
  const unknown = only.filter((s) => !(SCANNERS as readonly string[]).includes(s));
  if (unknown.length)
    throw new CliError(
      `unknown scanner in --only: ${unknown.join(", ")}`,
      EXIT.USAGE,
      `use ${SCANNERS.join(", ")}`,
    );
  const maxMiB = Number(opts.maxFileSize ?? "10");
  if (!Number.isFinite(maxMiB) || maxMiB <= 0)
    throw new CliError(
      `--max-file-size must be a positive number of MiB, not '${opts.maxFileSize}'`,
      EXIT.USAGE,
    );
  if (!fs.existsSync(target))
    throw new CliError(
      `${target}: no such file or folder`,
      EXIT.USAGE,
      "pass the folder to scan, e.g. `gantry scan .`",
    );
  if (opts.baseline && !fs.existsSync(opts.baseline))
    throw new CliError(
      `${opts.baseline}: baseline file not found`,
      EXIT.USAGE,
      "create one with --write-baseline <file>",
    );
  const started = new Date();
  let report;
  try {
    report = await scan({
      path: target,
      only: only as ("secrets" | "dockerfile" | "kubernetes")[],
      staged: opts.staged,
      gitRange: opts.git,
      baseline: opts.baseline,
      allowInline: opts.inlineAllow,
      maxFileBytes: Math.round(maxMiB * 1024 * 1024),
      exclude: opts.exclude,
      workers: opts.workers !== undefined ? Number(opts.workers) : undefined,
    });
  } catch (err) {
    if (err instanceof GitSourceError)
      throw new CliError(
        `git: ${err.message}`,
        EXIT.USAGE,
        "--staged and --git need a git repository (and --git a valid range such as origin/main..HEAD)",
      );
    if (err instanceof SyntaxError || (err instanceof Error && /baseline/.test(err.message)))
      throw new CliError(err.message, EXIT.USAGE);
    throw err;
  }
  if (opts.writeBaseline) {
    writeBaseline(opts.writeBaseline, report.findings);
    process.stderr.write(`wrote ${report.findings.length} finding(s) to ${opts.writeBaseline}\n`);
    return EXIT.OK;
  }
  const text = await renderReport(report, format as "table", {
    color: format === "table" && !opts.output && process.stdout.isTTY === true,
    started,
  });
  if (opts.output) {
    fs.writeFileSync(opts.output, text);
    process.stderr.write(`${summaryLine(report)}\nreport written to ${opts.output}\n`);
  } else process.stdout.write(text);
  return report.findings.some((f) => reaches(f.severity, gate)) ? EXIT.FAILED : EXIT.OK;
}
