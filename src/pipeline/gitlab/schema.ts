import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "../diagnostics.js";
import { Reference, isMapValue, type Value, type YMap } from "./source.js";
import { posOf, type CompileState } from "./state.js";

/** GitLab's JSON schema for `.gitlab-ci.yml`, shipped in the package's `schemas/` folder. */
export const SCHEMA_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../schemas/gitlab-ci.schema.json",
);

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  schemaPath: string;
}
type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

let memo: { hash: string; fn: ValidateFn } | undefined;

/** How the validator was obtained by the last call, and how many calls there were (tests, benchmarks). */
export const validatorStats = {
  last: "none" as "none" | "memory" | "disk-cache" | "compiled" | "unavailable",
  loads: 0,
};

/** Forgets the in-memory validator, so the next load shows the disk cache at work. */
export function forgetValidator(): void {
  memo = undefined;
}

/**
 * Loads the schema validator: from memory, else from a standalone module cached under
 * `cacheDir` (keyed by the schema's hash), else compiles it with ajv (about 0.4 s) and writes
 * that cache. Returns undefined when the schema is missing.
 */
export async function loadValidator(cacheDir: string): Promise<ValidateFn | undefined> {
  validatorStats.loads++;
  let text: string;
  try {
    text = readFileSync(SCHEMA_PATH, "utf8");
  } catch {
    validatorStats.last = "unavailable";
    return undefined;
  }
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  if (memo?.hash === hash) {
    validatorStats.last = "memory";
    return memo.fn;
  }
  const file = path.join(cacheDir, `gitlab-ci-schema-${hash}.cjs`);
  const req = createRequire(import.meta.url);
  if (existsSync(file)) {
    try {
      const fn = createRequire(file)(file) as ValidateFn;
      memo = { hash, fn };
      validatorStats.last = "disk-cache";
      return fn;
    } catch {
      // A damaged cache file is rebuilt below.
    }
  }
  const ajvModule = await import("ajv");
  const Ajv = ajvModule.Ajv;
  const standalone = (await import("ajv/dist/standalone/index.js")).default as unknown as (
    ajv: unknown,
    fn: unknown,
  ) => string;
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    validateFormats: false,
    logger: false,
    code: { source: true },
  });
  const fn = ajv.compile(JSON.parse(text) as object) as unknown as ValidateFn;
  memo = { hash, fn };
  validatorStats.last = "compiled";
  try {
    let code = standalone(ajv, fn);
    // The cache lives outside node_modules: point its runtime requires at ajv's real files.
    code = code.replace(
      /require\("(ajv\/dist\/runtime\/[a-z0-9_]+)"\)/g,
      (_m, mod: string) => `require(${JSON.stringify(req.resolve(mod))})`,
    );
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  } catch {
    // Caching is an optimisation; validation already works from memory.
  }
  return fn;
}

/**
 * Validates the configuration (after includes, `!reference` and `extends`) against GitLab's
 * schema. Errors are condensed to one per offending node and point at it.
 */
export async function validateSchema(
  st: CompileState,
  root: YMap,
  resolved: Map<string, YMap>,
): Promise<Diagnostic[]> {
  const validate = await loadValidator(st.ctx.cacheDir);
  if (!validate) return [];
  const originals = new Map<unknown, unknown>();
  const instance: Record<string, unknown> = {};
  for (const k of Object.keys(root)) {
    if (st.misspelt.has(k)) continue;
    const v = resolved.get(k) ?? root[k]!;
    define(instance, k, plain(v, originals, 0, isMapValue(v) && resolved.has(k)));
  }
  originals.set(instance, root);
  try {
    if (validate(instance)) return [];
  } catch {
    // ajv's deep equality calls methods such as `toString` that user keys can shadow; the
    // compiler's own diagnostics still stand, the schema just has nothing to add.
    return [];
  }
  return condense(st, validate.errors ?? [], instance, originals);
}

/** Sets an own property even for names such as `__proto__`. */
function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A JSON copy of the value for ajv; `originals` maps each copy back to the located original. */
function plain(v: Value, originals: Map<unknown, unknown>, depth: number, dropNulls = false): unknown {
  if (depth > 60) return null;
  if (v instanceof Reference) return null;
  if (Array.isArray(v)) {
    const out = v.map((x) => plain(x, originals, depth + 1));
    originals.set(out, v);
    return out;
  }
  if (isMapValue(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      // GitLab ignores job keys left empty (`artifacts:`); the compiler warns about them.
      if (dropNulls && v[k] === null) continue;
      define(out, k, plain(v[k]!, originals, depth + 1));
    }
    originals.set(out, v);
    return out;
  }
  return v;
}

function condense(
  st: CompileState,
  errors: AjvError[],
  instance: unknown,
  originals: Map<unknown, unknown>,
): Diagnostic[] {
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const paths = [...byPath.keys()];
  const out: Diagnostic[] = [];
  for (const p of paths) {
    // GitLab accepts scripts nested 10 levels deep (its schema says 2); the compiler checks them.
    if (/\/(script|before_script|after_script)\/\d+\//.test(p)) continue;
    // Errors about a node whose children have errors of their own are only noise.
    if (paths.some((q) => q !== p && q.startsWith(`${p}/`))) continue;
    const list = byPath.get(p)!;
    const segs = p
      .split("/")
      .slice(1)
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    let parent: unknown = instance;
    for (const s of segs.slice(0, -1)) parent = (parent as Record<string, unknown> | undefined)?.[s];
    const last = segs[segs.length - 1];
    const orig = originals.get(parent);
    const key = last === undefined ? undefined : Array.isArray(orig) ? Number(last) : last;
    const where = segs.join(".") || "(top level)";
    const extra = list.find((e) => e.keyword === "additionalProperties");
    if (extra) {
      const prop = String(extra.params.additionalProperty);
      const obj = originals.get((parent as Record<string, unknown> | undefined)?.[last ?? ""] ?? instance);
      const at = isMapValue(obj) ? st.loc.keyAt(obj, prop, st.file) : posOf(st, orig, key);
      out.push(diag(at, `schema: "${prop}" is not allowed in ${where}`));
      continue;
    }
    const at = posOf(st, orig, key);
    const en = list.find((e) => e.keyword === "enum");
    if (en) {
      const allowed = (en.params.allowedValues as unknown[] | undefined)?.map(String).join(", ") ?? "";
      out.push(diag(at, `schema: ${where} must be one of [${allowed}]`));
      continue;
    }
    const req = list.find((e) => e.keyword === "required");
    if (req) {
      out.push(diag(at, `schema: ${where} is missing "${String(req.params.missingProperty)}"`));
      continue;
    }
    const types = [...new Set(list.filter((e) => e.keyword === "type").map((e) => String(e.params.type)))];
    const other = list.find(
      (e) => !["type", "oneOf", "anyOf", "if", "then", "else", "not", "$ref"].includes(e.keyword),
    );
    if (other) out.push(diag(at, `schema: ${where} ${other.message ?? other.keyword}`));
    else if (types.length > 0) out.push(diag(at, `schema: ${where} must be ${types.join(" or ")}`));
    else out.push(diag(at, `schema: ${where} ${list[0]!.message ?? "is invalid"}`));
  }
  return out;
}

function diag(at: ReturnType<typeof posOf>, message: string): Diagnostic {
  return {
    severity: "error",
    code: "GL000",
    message,
    ...at,
    hint: "see GitLab's .gitlab-ci.yml reference for this keyword",
  };
}
