import { allRules, rulesFor } from "./catalog.js";
import { toGitlab } from "./report/gitlab.js";
import { toJson } from "./report/json.js";
import { toSarif } from "./report/sarif.js";
import { toTable } from "./report/table.js";
import type { ScanReport } from "./scanner.js";
import type { RuleMeta } from "./types.js";

/** Output formats of `gantry scan`. */
export type ScanFormat = "table" | "json" | "sarif" | "gitlab";

/** Every format name, for validation and help. */
export const FORMATS: readonly ScanFormat[] = ["table", "json", "sarif", "gitlab"];

/** The Gantry version written into reports. */
export const GANTRY_VERSION = process.env.npm_package_version ?? "0.1.0";

/** Formats a report; every format carries only redacted secrets. */
export async function renderReport(
  report: ScanReport,
  format: ScanFormat,
  opts: { color?: boolean; started?: Date } = {},
): Promise<string> {
  // Only the metadata of the scanners that reported something is loaded.
  const rules = (): Promise<RuleMeta[]> =>
    rulesFor(new Set([...report.findings, ...report.suppressed].map((f) => f.scanner)));
  switch (format) {
    case "table":
      return toTable(report, opts.color === true);
    case "json":
      return `${JSON.stringify(toJson(report, GANTRY_VERSION), null, 2)}\n`;
    case "sarif":
      return `${JSON.stringify(toSarif(report, await rules(), GANTRY_VERSION), null, 2)}\n`;
    case "gitlab":
      return `${JSON.stringify(toGitlab(report, await rules(), GANTRY_VERSION, opts.started ?? new Date(Date.now() - report.stats.durationMs)), null, 2)}\n`;
  }
}

/** `--list-rules` as a table: id, severity, title, equivalents. */
export async function listRules(format: "table" | "json"): Promise<string> {
  const rules = await allRules();
  if (format === "json") return `${JSON.stringify(rules, null, 2)}\n`;
  const w = Math.max(...rules.map((r) => r.id.length));
  return `${rules.map((r) => `${r.id.padEnd(w)}  ${r.severity.padEnd(8)}  ${r.title}${r.equivalents.length ? `  [${r.equivalents.join(", ")}]` : ""}`).join("\n")}\n${rules.length} rules\n`;
}
