import { pathToFileURL } from "node:url";
import type { ScanReport } from "../scanner.js";
import type { Finding, Level, RuleMeta } from "../types.js";

const SARIF_LEVEL: Record<Level, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};
/** GitHub code scanning sorts security alerts by this (0–10). */
const SECURITY_SEVERITY: Record<Level, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  info: "1.0",
};

/** Percent-encodes a relative path for a SARIF URI, keeping `/`. */
function uri(file: string): string {
  return file.split("/").map(encodeURIComponent).join("/");
}

/**
 * SARIF 2.1.0 as GitHub code scanning accepts it: relative URIs against `%SRCROOT%`, regions
 * with end positions, `partialFingerprints`, and each rule's equivalents in `properties`.
 */
export function toSarif(report: ScanReport, rules: readonly RuleMeta[], version: string): object {
  const used = [...new Set([...report.findings, ...report.suppressed].map((f) => f.ruleId))];
  const ruleList = used
    .map((id) => rules.find((r) => r.id === id))
    .filter((r): r is RuleMeta => r !== undefined);
  const index = new Map(ruleList.map((r, i) => [r.id, i]));
  const result = (f: Finding, suppressedReason?: string): object => ({
    ruleId: f.ruleId,
    ...(index.has(f.ruleId) ? { ruleIndex: index.get(f.ruleId) } : {}),
    level: SARIF_LEVEL[f.severity],
    message: { text: f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uri(f.file), uriBaseId: "%SRCROOT%" },
          region: {
            startLine: Math.max(1, f.line),
            startColumn: Math.max(1, f.column),
            endLine: Math.max(1, f.endLine),
            endColumn: Math.max(1, f.endColumn),
          },
        },
      },
    ],
    partialFingerprints: { "gantryFingerprint/v1": f.fingerprint },
    ...(f.commit ? { properties: { commit: f.commit } } : {}),
    ...(suppressedReason !== undefined
      ? { suppressions: [{ kind: "inSource", justification: suppressedReason }] }
      : {}),
  });
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "Gantry",
            informationUri: "https://github.com/gantry-ci/gantry",
            semanticVersion: version,
            rules: ruleList.map((r) => ({
              id: r.id,
              name: r.id
                .replace(/^[a-z0-9]+\//, "")
                .replace(/(?:^|-)(\w)/g, (_m, c: string) => c.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: r.title },
              help: { text: r.help, markdown: r.help },
              defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
              properties: {
                tags: ["security", r.scanner],
                precision: r.scanner === "secrets" ? "high" : "very-high",
                "security-severity": SECURITY_SEVERITY[r.severity],
                severity: r.severity,
                equivalents: r.equivalents,
              },
            })),
          },
        },
        originalUriBaseIds: {
          "%SRCROOT%": {
            uri: pathToFileURL(report.root.endsWith("/") ? report.root : `${report.root}/`).href,
          },
        },
        results: [
          ...report.findings.map((f) => result(f)),
          ...report.suppressed.map((f) => result(f, f.reason)),
        ],
        properties: { stats: report.stats },
      },
    ],
  };
}
