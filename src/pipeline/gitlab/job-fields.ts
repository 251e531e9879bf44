import type {
  Artifacts,
  ArtifactWhen,
  Cache,
  ExecutorSpec,
  ImageSpec,
  RetryPolicy,
  ServiceSpec,
} from "../plan.js";
import { parseDuration } from "./duration.js";
import { expandKnown } from "./expand.js";
import { isMapValue, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";

const MAX_SCRIPT_DEPTH = 10;

/** `script`-like keys: a string, or nested lists of strings (flattened, at most 10 levels). */
export function scriptLines(st: CompileState, owner: YMap, key: string, jobName: string): string[] {
  const v = owner[key];
  if (v === undefined || v === null) return [];
  if (typeof v === "string") {
    if (v === "") st.bag.error("GL080", `${jobName}.${key} must not be empty`, posOf(st, owner, key));
    return v === "" ? [] : [v];
  }
  if (!Array.isArray(v)) {
    st.bag.error(
      "GL080",
      `${jobName}.${key} must be a string or a list of strings, got ${typeName(v)}`,
      posOf(st, owner, key),
    );
    return [];
  }
  const out: string[] = [];
  let tooDeep = false;
  const walk = (list: Value[], depth: number): void => {
    list.forEach((item, i) => {
      if (Array.isArray(item)) {
        if (depth >= MAX_SCRIPT_DEPTH) {
          if (!tooDeep) {
            tooDeep = true;
            st.bag.error(
              "GL081",
              `${jobName}.${key} must be a string or nested lists of strings up to ${MAX_SCRIPT_DEPTH} levels deep`,
              posOf(st, list, i),
            );
          }
          return;
        }
        walk(item, depth + 1);
        return;
      }
      const s =
        typeof item === "string"
          ? item
          : typeof item === "number" || typeof item === "boolean"
            ? String(item)
            : undefined;
      if (s === undefined) {
        st.bag.error(
          "GL080",
          `${jobName}.${key} entries must be strings, got ${typeName(item)}`,
          posOf(st, list, i),
        );
        return;
      }
      out.push(s);
    });
  };
  walk(v, 1);
  return out;
}

function stringList(st: CompileState, owner: YMap, key: string, what: string): string[] {
  const v = owner[key];
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v)) {
    st.bag.error("GL082", `${what} must be a list of strings, got ${typeName(v)}`, posOf(st, owner, key));
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    const s = scalarString(item);
    if (s === undefined)
      st.bag.error("GL082", `${what} entries must be strings, got ${typeName(item)}`, posOf(st, v, i));
    else out.push(s);
  });
  return out;
}

const WHEN_ARTIFACTS: ArtifactWhen[] = ["on_success", "on_failure", "always"];

/** Artifact and cache paths are relative to the project; `$CI_PROJECT_DIR/` in front says the same. */
function projectPath(p: string, vars: (n: string) => string | undefined): string {
  return expandKnown(p.replace(/^\$\{?CI_PROJECT_DIR\}?\/?/, ""), vars).replace(/^\.\//, "") || ".";
}

export function compileArtifacts(
  st: CompileState,
  job: YMap,
  jobName: string,
  vars: (n: string) => string | undefined,
): Artifacts | undefined {
  const a = job.artifacts;
  if (a === undefined || a === null) return undefined;
  if (!isMapValue(a)) {
    st.bag.error(
      "GL083",
      `${jobName}.artifacts must be a map, got ${typeName(a)}`,
      posOf(st, job, "artifacts"),
    );
    return undefined;
  }
  const when = a.when === undefined ? "on_success" : a.when;
  if (typeof when !== "string" || !WHEN_ARTIFACTS.includes(when as ArtifactWhen)) {
    st.bag.error(
      "GL084",
      `${jobName}.artifacts.when must be one of on_success, on_failure, always`,
      posOf(st, a, "when"),
    );
  }
  const out: Artifacts = {
    paths: stringList(st, a, "paths", `${jobName}.artifacts.paths`).map((p) => projectPath(p, vars)),
    exclude: stringList(st, a, "exclude", `${jobName}.artifacts.exclude`).map((p) => projectPath(p, vars)),
    when: WHEN_ARTIFACTS.includes(when as ArtifactWhen) ? (when as ArtifactWhen) : "on_success",
    reports: { junit: [], dotenv: [] },
  };
  const name = scalarString(a.name);
  if (name !== undefined) out.name = name;
  if (a.untracked === true) out.untracked = true;
  const expire = scalarString(a.expire_in);
  if (expire !== undefined) {
    out.expireIn = expire;
    // A variable is only known when the job runs; anything else can be checked now.
    if (!expire.includes("$") && !/^\s*never\s*$/i.test(expire) && parseDuration(expire) === undefined)
      st.bag.warning(
        "GL125",
        `${jobName}.artifacts.expire_in "${expire}" is not a duration: the artifacts will be kept`,
        posOf(st, a, "expire_in"),
        'write e.g. "30 mins", "3 days 4 hrs", "1 week" or "never"',
      );
  }
  if (a.reports !== undefined && a.reports !== null) {
    const r = a.reports;
    if (!isMapValue(r))
      st.bag.error("GL085", `${jobName}.artifacts.reports must be a map`, posOf(st, a, "reports"));
    else {
      out.reports.junit = stringList(st, r, "junit", `${jobName}.artifacts.reports.junit`).map((p) =>
        projectPath(p, vars),
      );
      out.reports.dotenv = stringList(st, r, "dotenv", `${jobName}.artifacts.reports.dotenv`).map((p) =>
        projectPath(p, vars),
      );
      const others = Object.keys(r).filter((k) => k !== "junit" && k !== "dotenv");
      if (others.length > 0) {
        st.bag.info(
          "GL086",
          `artifacts:reports ${others.join(", ")} are kept as plain artifacts only`,
          st.loc.keyAt(r, others[0]!, st.file),
        );
        for (const k of others) out.paths.push(...reportPaths(r[k]).map((p) => projectPath(p, vars)));
      }
    }
  }
  return out;
}

/** Paths of a report Gantry does not process: a path, a list, or `{path}` (coverage_report). */
function reportPaths(v: Value | undefined): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (isMapValue(v) && typeof v.path === "string") return [v.path];
  return [];
}

export function compileCache(
  st: CompileState,
  job: YMap,
  jobName: string,
  vars: (n: string) => string | undefined,
): Cache[] {
  const c = job.cache;
  if (c === undefined || c === null) return [];
  const list: { v: Value; owner: object; key: string | number }[] = Array.isArray(c)
    ? c.map((v, i) => ({ v, owner: c, key: i }))
    : [{ v: c, owner: job, key: "cache" }];
  if (list.length > 4)
    st.bag.error("GL087", `${jobName}.cache: at most 4 caches per job`, posOf(st, job, "cache"));
  const out: Cache[] = [];
  for (const { v, owner, key } of list) {
    if (!isMapValue(v)) {
      st.bag.error(
        "GL087",
        `${jobName}.cache must be a map or a list of maps, got ${typeName(v)}`,
        posOf(st, owner, key),
      );
      continue;
    }
    let cacheKey: Cache["key"] = "default";
    if (isMapValue(v.key)) {
      const files = stringList(st, v.key, "files", `${jobName}.cache.key.files`);
      if (files.length < 1 || files.length > 2) {
        st.bag.error(
          "GL088",
          `${jobName}.cache.key.files must list 1 or 2 files, got ${files.length}`,
          posOf(st, v.key, "files"),
        );
      }
      const prefix = scalarString(v.key.prefix);
      cacheKey = prefix === undefined ? { files } : { files, prefix };
    } else if (v.key !== undefined && v.key !== null) {
      const k = scalarString(v.key);
      if (k === undefined)
        st.bag.error(
          "GL088",
          `${jobName}.cache.key must be a string or {files, prefix}`,
          posOf(st, v, "key"),
        );
      else cacheKey = k;
    }
    const policy = v.policy ?? "pull-push";
    if (policy !== "pull" && policy !== "push" && policy !== "pull-push") {
      st.bag.error(
        "GL089",
        `${jobName}.cache.policy must be pull, push or pull-push`,
        posOf(st, v, "policy"),
      );
    }
    const when = v.when ?? "on_success";
    if (typeof when !== "string" || !WHEN_ARTIFACTS.includes(when as ArtifactWhen)) {
      st.bag.error(
        "GL089",
        `${jobName}.cache.when must be on_success, on_failure or always`,
        posOf(st, v, "when"),
      );
    }
    const paths = stringList(st, v, "paths", `${jobName}.cache.paths`).map((p) => projectPath(p, vars));
    const entry: Cache = {
      key: cacheKey,
      paths,
      policy: policy === "pull" || policy === "push" ? policy : "pull-push",
      when: WHEN_ARTIFACTS.includes(when as ArtifactWhen) ? (when as ArtifactWhen) : "on_success",
    };
    if (v.untracked === true) entry.untracked = true;
    if (v.fallback_keys !== undefined)
      entry.fallbackKeys = stringList(st, v, "fallback_keys", `${jobName}.cache.fallback_keys`);
    if (paths.length === 0 && !entry.untracked) continue;
    out.push(entry);
  }
  return out;
}

const RETRY_WHEN = new Set([
  "always",
  "unknown_failure",
  "script_failure",
  "api_failure",
  "stuck_or_timeout_failure",
  "runner_system_failure",
  "runner_unsupported",
  "stale_schedule",
  "job_execution_timeout",
  "archived_failure",
  "unmet_prerequisites",
  "scheduler_failure",
  "data_integrity_failure",
]);

export function compileRetry(st: CompileState, job: YMap, jobName: string): RetryPolicy {
  const r = job.retry;
  const none: RetryPolicy = { max: 0, when: [] };
  if (r === undefined || r === null) return none;
  const maxOf = (v: Value | undefined, owner: object, key: string): number => {
    if (v === undefined) return 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 2) {
      st.bag.error("GL090", `${jobName}.retry max must be 0, 1 or 2`, posOf(st, owner, key));
      return 0;
    }
    return v;
  };
  if (typeof r === "number") return { max: maxOf(r, job, "retry"), when: [] };
  if (!isMapValue(r)) {
    st.bag.error(
      "GL090",
      `${jobName}.retry must be a number or {max, when, exit_codes}`,
      posOf(st, job, "retry"),
    );
    return none;
  }
  const out: RetryPolicy = {
    max: maxOf(r.max, r, "max"),
    when: stringList(st, r, "when", `${jobName}.retry.when`),
  };
  for (const w of out.when) {
    if (!RETRY_WHEN.has(w))
      st.bag.error("GL091", `${jobName}.retry.when: unknown failure type "${w}"`, posOf(st, r, "when"));
  }
  if (out.when.includes("always")) out.when = [];
  if (r.exit_codes !== undefined) out.exitCodes = intList(st, r, "exit_codes", `${jobName}.retry.exit_codes`);
  return out;
}

export function intList(st: CompileState, owner: YMap, key: string, what: string): number[] {
  const v = owner[key];
  const list = Array.isArray(v) ? v : [v];
  const out: number[] = [];
  for (const item of list) {
    if (typeof item === "number" && Number.isInteger(item)) out.push(item);
    else st.bag.error("GL092", `${what} must be an integer or a list of integers`, posOf(st, owner, key));
  }
  return out;
}

export function compileTimeout(st: CompileState, job: YMap, jobName: string): number | undefined {
  const t = job.timeout;
  if (t === undefined || t === null) return undefined;
  const ms = typeof t === "string" || typeof t === "number" ? parseDuration(t) : undefined;
  if (ms === undefined || ms <= 0) {
    st.bag.error(
      "GL093",
      `${jobName}.timeout ${JSON.stringify(t)} is not a duration`,
      posOf(st, job, "timeout"),
      'e.g. "1h 30m", "45 minutes", "2h"',
    );
    return undefined;
  }
  return ms;
}

function pullPolicy(st: CompileState, owner: YMap): ImageSpec["pullPolicy"] {
  const v = owner.pull_policy;
  if (v === undefined) return undefined;
  const list = stringList(st, owner, "pull_policy", "pull_policy");
  const ok = list.filter(
    (p): p is "always" | "if-not-present" | "never" =>
      p === "always" || p === "if-not-present" || p === "never",
  );
  if (ok.length !== list.length)
    st.bag.error(
      "GL094",
      "pull_policy must be always, if-not-present or never",
      posOf(st, owner, "pull_policy"),
    );
  return ok;
}

function commandList(v: Value | undefined): string[] | undefined {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.map((x) => scalarString(x) ?? "");
  return undefined;
}

function compileImage(
  st: CompileState,
  job: YMap,
  jobName: string,
  vars: (n: string) => string | undefined,
): ImageSpec | undefined {
  const v = job.image;
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return { name: expandKnown(v, vars) };
  if (!isMapValue(v) || typeof v.name !== "string") {
    st.bag.error(
      "GL095",
      `${jobName}.image must be a name or {name, entrypoint, pull_policy}`,
      posOf(st, job, "image"),
    );
    return undefined;
  }
  const img: ImageSpec = { name: expandKnown(v.name, vars) };
  const ep = commandList(v.entrypoint);
  if (ep) img.entrypoint = ep;
  const pp = pullPolicy(st, v);
  if (pp) img.pullPolicy = pp;
  if (isMapValue(v.docker)) {
    const user = scalarString(v.docker.user);
    if (user !== undefined) img.user = user;
    const platform = scalarString(v.docker.platform);
    if (platform !== undefined) img.platform = platform;
  }
  return img;
}

/** GitLab's default service aliases: `tutum/wordpress:1` → `tutum-wordpress` and `tutum__wordpress`. */
export function defaultServiceAliases(image: string): string[] {
  const base = image.replace(/[:@].*$/, "").replace(/^[^/]+\.[^/]+\//, "");
  const a = base.replace(/\//g, "-");
  const b = base.replace(/\//g, "__");
  return a === b ? [a] : [a, b];
}

function compileServices(
  st: CompileState,
  job: YMap,
  jobName: string,
  vars: (n: string) => string | undefined,
): ServiceSpec[] {
  const v = job.services;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    st.bag.error("GL096", `${jobName}.services must be a list`, posOf(st, job, "services"));
    return [];
  }
  const out: ServiceSpec[] = [];
  v.forEach((s, i) => {
    if (typeof s === "string") {
      const name = expandKnown(s, vars);
      out.push({ name, alias: defaultServiceAliases(name), variables: {} });
      return;
    }
    if (!isMapValue(s) || typeof s.name !== "string") {
      st.bag.error(
        "GL096",
        `${jobName}.services entries must be a name or {name, alias, ...}`,
        posOf(st, v, i),
      );
      return;
    }
    const name = expandKnown(s.name, vars);
    const alias = scalarString(s.alias);
    const svc: ServiceSpec = {
      name,
      alias: alias
        ? alias
            .split(",")
            .map((a) => a.trim())
            .filter(Boolean)
        : defaultServiceAliases(name),
      variables: {},
    };
    const ep = commandList(s.entrypoint);
    if (ep) svc.entrypoint = ep;
    const cmd = commandList(s.command);
    if (cmd) svc.command = cmd;
    if (isMapValue(s.variables)) {
      for (const [k, val] of Object.entries(s.variables)) {
        const str = scalarString(val) ?? (isMapValue(val) ? scalarString(val.value) : undefined);
        if (str !== undefined) svc.variables[k] = str;
      }
    }
    const pp = pullPolicy(st, s);
    if (pp) svc.pullPolicy = pp;
    out.push(svc);
  });
  return out;
}

/** `image`/`services` → a docker executor; none → the shell. `tags` select runners either way. */
export function compileExecutor(
  st: CompileState,
  job: YMap,
  jobName: string,
  vars: (n: string) => string | undefined,
): ExecutorSpec {
  const labels = stringList(st, job, "tags", `${jobName}.tags`).map((t) => expandKnown(t, vars));
  const image = compileImage(st, job, jobName, vars);
  const services = compileServices(st, job, jobName, vars);
  if (!image && services.length === 0) return { kind: "shell", labels };
  const spec: ExecutorSpec = { kind: "docker", labels, services };
  if (image) spec.image = image;
  return spec;
}
