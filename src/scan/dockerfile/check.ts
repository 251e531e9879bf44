import { fingerprint } from "../fingerprint.js";
import type { Finding } from "../types.js";
import { parseDockerfile } from "./model.js";
import { DOCKERIGNORE_RULE, DOCKER_RULES } from "./rules.js";

/** Options for linting one Dockerfile. */
export interface DockerCheckOptions {
  /** False when the folder has no `.dockerignore` (undefined: not checked, e.g. a snippet). */
  hasDockerignore?: boolean;
}

/**
 * Lints one Dockerfile. Honours `# hadolint ignore=DL3008,…` (hadolint codes or Gantry ids) on
 * the lines above an instruction and `# hadolint global ignore=…` anywhere.
 */
export function checkDockerfile(text: string, file: string, opts: DockerCheckOptions = {}): Finding[] {
  const model = parseDockerfile(text);
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const rule of DOCKER_RULES) {
    const codes = [
      rule.id,
      rule.id.replace(/^dockerfile\//, ""),
      ...rule.equivalents.filter((e) => e.startsWith("hadolint:")).map((e) => e.slice(9)),
    ];
    if (codes.some((c) => model.globalIgnored.has(c))) continue;
    for (const hit of rule.check(model)) {
      if (codes.some((c) => hit.at.ignored.has(c))) continue;
      const key = `${rule.id}:${hit.at.line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const instrText = (model.lines[hit.at.line - 1] ?? "").trim();
      out.push({
        ruleId: rule.id,
        scanner: "dockerfile",
        severity: rule.severity,
        message: hit.message ?? rule.title,
        file,
        line: hit.at.line,
        column: hit.at.column,
        endLine: hit.at.endLine,
        endColumn: hit.at.endColumn,
        fingerprint: fingerprint(rule.id, file, instrText, String(hit.at.stage.index)),
      });
    }
  }
  if (opts.hasDockerignore === false && model.stages.length > 0)
    out.push({
      ruleId: DOCKERIGNORE_RULE.id,
      scanner: "dockerfile",
      severity: DOCKERIGNORE_RULE.severity,
      message: DOCKERIGNORE_RULE.title,
      file,
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: (model.lines[0]?.length ?? 0) + 1,
      fingerprint: fingerprint(DOCKERIGNORE_RULE.id, file),
    });
  return out.sort((a, b) => a.line - b.line || a.ruleId.localeCompare(b.ruleId));
}
