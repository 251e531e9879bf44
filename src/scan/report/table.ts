import type { ScanReport } from "../scanner.js";
import { LEVELS, type Level } from "../types.js";

const COLOR: Record<Level, string> = {
  critical: "\x1b[1;31m",
  high: "\x1b[31m",
  medium: "\x1b[33m",
  low: "\x1b[36m",
  info: "\x1b[2m",
};

/** A summary line: counts per severity and what was skipped. */
export function summaryLine(report: ScanReport): string {
  const counts = LEVELS.map(
    (l) => [l, report.findings.filter((f) => f.severity === l).length] as const,
  ).filter(([, n]) => n > 0);
  const mib = report.stats.bytes / 1048576;
  const sk = report.stats.skipped;
  const parts = [
    `${report.findings.length} finding${report.findings.length === 1 ? "" : "s"}${
      counts.length
        ? ` (${[...counts]
            .reverse()
            .map(([l, n]) => `${n} ${l}`)
            .join(", ")})`
        : ""
    }`,
    `${report.stats.files} files, ${mib.toFixed(1)} MiB in ${(report.stats.durationMs / 1000).toFixed(2)} s`,
  ];
  if (report.stats.commits !== undefined) parts.push(`${report.stats.commits} commits`);
  const skipped = [
    sk.binary && `${sk.binary} binary`,
    sk.huge && `${sk.huge} too large`,
    sk.ignored && `${sk.ignored} ignored`,
    sk.unreadable && `${sk.unreadable} unreadable`,
  ].filter(Boolean);
  if (skipped.length) parts.push(`skipped ${skipped.join(", ")}`);
  if (report.suppressed.length) parts.push(`${report.suppressed.length} allowed inline`);
  if (report.baselined) parts.push(`${report.baselined} in baseline`);
  return parts.join("; ");
}

/** Human-readable findings, one per line, grouped by file; colours only on a TTY. */
export function toTable(report: ScanReport, color: boolean): string {
  const lines: string[] = [];
  let file = "";
  for (const f of report.findings) {
    if (f.file !== file) {
      file = f.file;
      lines.push("", color ? `\x1b[1m${file}\x1b[0m` : file);
    }
    const sev = f.severity.toUpperCase().padEnd(8);
    const where = `${f.line}:${f.column}`.padEnd(8);
    const commit = f.commit ? ` (${f.commit.slice(0, 8)})` : "";
    lines.push(
      `  ${where} ${color ? `${COLOR[f.severity]}${sev}\x1b[0m` : sev} ${f.message}${commit}  ${color ? `\x1b[2m${f.ruleId}\x1b[0m` : f.ruleId}`,
    );
  }
  lines.push("", summaryLine(report));
  return `${lines.join("\n").replace(/^\n/, "")}\n`;
}
