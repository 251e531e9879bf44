import { fingerprint } from "../fingerprint.js";
import type { Finding } from "../types.js";
import { get, locate, loadManifests, str, type K8sObject } from "./load.js";
import type { K8sHit } from "./rule.js";
import { K8S_RULES } from "./rules.js";
import { SCHEMA_RULE, checkSchemas } from "./schema.js";

/** A manifest file's text and its path relative to the scan root. */
export interface ManifestFile {
  file: string;
  text: string;
}

/**
 * Checks a set of manifest files together: cross-object rules (Service→Pod, Ingress→Service,
 * claims, StatefulSet→Service) see every object of the set. Objects annotated with
 * `gantry.dev/ignore: "<rule-id>,…"` skip those rules.
 */
export async function checkManifests(
  files: readonly ManifestFile[],
  opts: { schema?: boolean } = {},
): Promise<Finding[]> {
  const objects: K8sObject[] = [];
  const out: Finding[] = [];
  for (const f of files) {
    const { objects: objs, errors } = loadManifests(f.text, f.file);
    objects.push(...objs);
    for (const e of errors)
      out.push({
        ruleId: SCHEMA_RULE.id,
        scanner: "kubernetes",
        severity: "high",
        message: `Invalid YAML: ${e.message}`,
        file: f.file,
        line: e.line,
        column: e.column,
        endLine: e.line,
        endColumn: e.column + 1,
        fingerprint: fingerprint(SCHEMA_RULE.id, f.file, e.message),
      });
  }
  const byRule: { id: string; severity: Finding["severity"]; hits: K8sHit[] }[] = K8S_RULES.filter(
    (r) => r !== SCHEMA_RULE,
  ).map((r) => ({ id: r.id, severity: r.severity, hits: r.check(objects) }));
  if (opts.schema !== false)
    byRule.unshift({ id: SCHEMA_RULE.id, severity: SCHEMA_RULE.severity, hits: await checkSchemas(objects) });
  for (const { id, severity, hits } of byRule)
    for (const h of hits) {
      const ignored = str(get(h.obj.raw, "metadata", "annotations", "gantry.dev/ignore"));
      if (
        ignored
          .split(",")
          .map((s) => s.trim())
          .some((s) => s === id || `k8s/${s}` === id)
      )
        continue;
      const at = locate(h.obj, h.path);
      out.push({
        ruleId: id,
        scanner: "kubernetes",
        severity,
        message: h.message ?? id,
        file: h.obj.file,
        ...at,
        fingerprint: fingerprint(
          id,
          h.obj.file,
          h.obj.kind,
          h.obj.namespace,
          h.obj.name,
          h.path.join("/"),
          h.message ?? "",
        ),
      });
    }
  return out.sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId),
  );
}
