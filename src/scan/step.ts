import fs from "node:fs";
import path from "node:path";
import type { Step } from "../pipeline/plan.js";
import { renderReport } from "./render.js";
import { summaryLine } from "./report/table.js";
import { scan } from "./scanner.js";
import { reaches, SCANNERS, type ScannerKind } from "./types.js";

/** The Plan's scan step. */
export type ScanStep = Extract<Step, { kind: "scan" }>;

/**
 * Runs a `scan` step of the Plan: scans `step.path` in the workspace, writes the report to
 * `step.output` (relative to the workspace; the engine keeps it as an artifact), logs a short
 * summary, and returns `ok: false` when a finding reaches `failOn`.
 */
export async function runScanStep(
  step: ScanStep,
  ctx: { workspace: string; log: (line: string) => void },
): Promise<{ ok: boolean; reportPath: string; summary: string }> {
  const target = path.resolve(ctx.workspace, step.path || ".");
  const only = (step.only ?? []).filter((s): s is ScannerKind => (SCANNERS as readonly string[]).includes(s));
  const started = new Date();
  const report = await scan({ path: target, only });
  const reportPath = path.resolve(ctx.workspace, step.output);
  fs.mkdirSync(path.dirname(reportPath), { recursive: true });
  fs.writeFileSync(reportPath, await renderReport(report, step.format, { started }));
  const blocking = report.findings.filter((f) => reaches(f.severity, step.failOn));
  const summary = summaryLine(report);
  ctx.log(`gantry scan ${step.path || "."}: ${summary}`);
  for (const f of blocking.slice(0, 20))
    ctx.log(`  ${f.severity.toUpperCase()} ${f.file}:${f.line}:${f.column} ${f.message} [${f.ruleId}]`);
  if (blocking.length > 20) ctx.log(`  … and ${blocking.length - 20} more`);
  ctx.log(
    blocking.length > 0
      ? `${blocking.length} finding(s) at or above '${step.failOn}': failing the step (report: ${step.output})`
      : `no finding at or above '${step.failOn}' (report: ${step.output})`,
  );
  return { ok: blocking.length === 0, reportPath, summary };
}
