import { isMapValue, type Value, type YMap } from "./source.js";

const KNOWN: Record<string, readonly string[]> = {
  artifacts: ["access", "exclude", "expire_in", "expose_as", "name", "paths", "reports", "untracked", "when"],
  cache: ["fallback_keys", "key", "paths", "policy", "unprotect", "untracked", "when"],
  environment: ["name", "url", "action", "on_stop", "auto_stop_in", "kubernetes", "deployment_tier"],
  image: ["name", "entrypoint", "docker", "pull_policy"],
  services: ["name", "entrypoint", "command", "alias", "variables", "pull_policy", "docker"],
  retry: ["max", "when", "exit_codes"],
  inherit: ["default", "variables"],
  parallel: ["matrix"],
  needs: ["job", "artifacts", "optional", "parallel", "project", "ref", "pipeline"],
};

const SCALARS: Record<string, (v: Value) => boolean> = {
  interruptible: (v) => typeof v === "boolean",
  resource_group: (v) => typeof v === "string",
  coverage: (v) => typeof v === "string",
  start_in: (v) => typeof v === "string",
  stage: (v) => typeof v === "string",
};

function unknownKeys(v: Value | undefined, known: readonly string[]): boolean {
  return isMapValue(v) && Object.keys(v).some((k) => !known.includes(k));
}

function listOrOne(v: Value | undefined): Value[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/**
 * A fast structural look at the places the compiler does not read key by key. When it (or
 * the compiler) finds anything odd, the full JSON-schema validation runs to explain it; a
 * clean file never pays for loading the schema validator.
 */
export function looksOdd(jobs: Iterable<YMap>): boolean {
  for (const job of jobs) {
    for (const [key, ok] of Object.entries(SCALARS)) {
      const v = job[key];
      if (v !== undefined && v !== null && !ok(v)) return true;
    }
    if (unknownKeys(job.artifacts, KNOWN.artifacts!)) return true;
    if (listOrOne(job.cache).some((c) => unknownKeys(c, KNOWN.cache!))) return true;
    if (unknownKeys(job.environment, KNOWN.environment!)) return true;
    if (unknownKeys(job.image, KNOWN.image!)) return true;
    if (listOrOne(job.services).some((s) => unknownKeys(s, KNOWN.services!))) return true;
    if (unknownKeys(job.retry, KNOWN.retry!)) return true;
    if (unknownKeys(job.inherit, KNOWN.inherit!)) return true;
    if (unknownKeys(job.parallel, KNOWN.parallel!)) return true;
    if (listOrOne(job.needs).some((n) => unknownKeys(n, KNOWN.needs!))) return true;
  }
  return false;
}
