import type { ScanReport } from "../scanner.js";

/** Gantry's own JSON report: findings, suppressed findings with reasons, and totals. */
export function toJson(report: ScanReport, version: string): object {
  return {
    tool: "gantry",
    version,
    root: report.root,
    scanners: report.scanners,
    findings: report.findings,
    suppressed: report.suppressed,
    baselined: report.baselined,
    stats: report.stats,
  };
}
