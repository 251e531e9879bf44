import type { CompileContext } from "../context.js";
import type { DiagnosticBag, Position } from "../diagnostics.js";
import { isMapValue, newMap, type Locator, type Value, type YMap } from "./source.js";

/** What every compile step shares: where things are, what went wrong, and the caller's context. */
export interface CompileState {
  ctx: CompileContext & { source: string };
  loc: Locator;
  bag: DiagnosticBag;
  /** The pipeline file, relative to the project directory. */
  file: string;
  /** Top-level keys already reported as misspelt keywords: the schema need not explain them again. */
  misspelt: Set<string>;
  /** Some include could not be loaded: templates and stages may be defined in it. */
  includeFailed?: boolean;
}

/** Position of `obj[key]` (or of `obj`), falling back to the pipeline file. */
export function posOf(st: CompileState, obj: unknown, key?: string | number): Position {
  return st.loc.at(obj, key, st.file);
}

/**
 * GitLab's deep merge (used by `extends`, `include` and `default`): maps merge key by key,
 * everything else (lists included) is replaced by the overriding side.
 */
export function deepMerge(st: CompileState, base: YMap, over: YMap): YMap {
  const out = newMap();
  st.loc.copyNode(over, out);
  st.loc.copyNode(base, out);
  for (const k of Object.keys(base)) {
    out[k] = base[k]!;
    st.loc.copyEntry(base, out, k);
  }
  for (const k of Object.keys(over)) {
    const a = out[k];
    const b = over[k]!;
    out[k] = isMapValue(a) && isMapValue(b) ? deepMerge(st, a, b) : b;
    st.loc.copyEntry(over, out, k);
  }
  return out;
}

/** A short description of a value's type, for "must be a list, got a map" messages. */
export function typeName(v: Value | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (isMapValue(v)) return "a map";
  if (typeof v === "object") return "a !reference";
  return `a ${typeof v}`;
}

/** A scalar as GitLab reads it in a string context. */
export function scalarString(v: Value | undefined): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}
