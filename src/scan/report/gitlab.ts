import type { ScanReport } from "../scanner.js";
import type { Level, RuleMeta } from "../types.js";

const GITLAB_SEVERITY: Record<Level, string> = {
  critical: "Critical",
  high: "High",
  medium: "Medium",
  low: "Low",
  info: "Info",
};

/**
 * GitLab's security report format (schema 15.x: no per-vulnerability `category`, `message`,
 * `cve`, `confidence` or `scanner`). Secrets use the `secret_detection` report type
 * that the merge request widget shows; Dockerfile and Kubernetes findings are reported as SAST
 * vulnerabilities in the same file, which GitLab accepts in `artifacts:reports:sast`.
 */
export function toGitlab(
  report: ScanReport,
  rules: readonly RuleMeta[],
  version: string,
  started: Date,
): object {
  const onlySecrets = report.scanners.length === 1 && report.scanners[0] === "secrets";
  const time = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "");
  return {
    version: "15.0.7",
    scan: {
      type: onlySecrets ? "secret_detection" : "sast",
      status: "success",
      start_time: time(started),
      end_time: time(new Date(started.getTime() + report.stats.durationMs)),
      analyzer: { id: "gantry", name: "Gantry", version, vendor: { name: "Gantry" } },
      scanner: { id: "gantry", name: "Gantry", version, vendor: { name: "Gantry" } },
    },
    vulnerabilities: report.findings.map((f) => {
      const rule = rules.find((r) => r.id === f.ruleId);
      return {
        // Stable across runs, so GitLab tracks the same vulnerability from pipeline to pipeline.
        id: f.commit ? `${f.fingerprint}-${f.commit.slice(0, 12)}` : f.fingerprint,
        name: rule?.title ?? f.ruleId,
        description: rule ? `${f.message}. ${rule.help}` : f.message,
        severity: GITLAB_SEVERITY[f.severity],
        location: {
          file: f.file,
          start_line: f.line,
          end_line: f.endLine,
          ...(f.commit ? { commit: { sha: f.commit } } : {}),
        },
        identifiers: [
          { type: "gantry_rule_id", name: f.ruleId, value: f.ruleId },
          ...(rule?.equivalents ?? []).map((e) => {
            const [tool, ...rest] = e.split(":");
            return { type: `${tool}_rule_id`, name: e, value: rest.join(":") };
          }),
        ],
        ...(f.scanner === "secrets" ? { raw_source_code_extract: f.redacted ?? "" } : {}),
      };
    }),
    remediations: [],
  };
}
