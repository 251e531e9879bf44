import type { K8sObject } from "./load.js";
import { k8sRule, label, type K8sHit, type K8sRule } from "./rule.js";

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const cache = new Map<string, ModelClass | null>();

/** The kubernetes-models class for a built-in kind, or null for kinds it does not know (CRDs). */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const key = `${apiVersion}/${kind}`;
  if (cache.has(key)) return cache.get(key) ?? null;
  let found: ModelClass | null = null;
  if (/^[\w.]*\/?v\w+$/.test(apiVersion) && /^[A-Z]\w+$/.test(kind)) {
    try {
      const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
      const cls = mod[kind] ?? mod.default;
      if (typeof cls === "function") found = cls as ModelClass;
    } catch {
      found = null;
    }
  }
  cache.set(key, found);
  return found;
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
}

/** Validates built-in kinds against the Kubernetes OpenAPI schemas shipped in kubernetes-models. */
export const SCHEMA_RULE: K8sRule = k8sRule(
  "schema",
  "high",
  "Manifest does not match the Kubernetes schema",
  "Fix the field type or name; the API server would reject this object.",
  ["kube-linter:schema-validation"],
  () => [],
);

/** Async because the schema for each kind is loaded on first use. */
export async function checkSchemas(objects: readonly K8sObject[]): Promise<K8sHit[]> {
  const hits: K8sHit[] = [];
  for (const obj of objects) {
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model) continue;
    try {
      new Model(obj.raw).validate();
    } catch (err) {
      const errors = (err as { errors?: AjvLikeError[] }).errors ?? [];
      const first = errors[0];
      const path = (first?.instancePath ?? "")
        .split("/")
        .filter(Boolean)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const detail = errors
        .slice(0, 3)
        .map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`)
        .join("; ");
      hits.push({
        obj,
        path,
        message: `${label(obj)}: ${detail || (err instanceof Error ? err.message : String(err))}`,
      });
    }
  }
  return hits;
}
