import { Reference, isMapValue, newMap, type Value, type YMap } from "./source.js";
import { posOf, type CompileState } from "./state.js";

/** Keys whose lists take the items of a referenced list in place (GitLab flattens them). */
const FLATTEN_KEYS = new Set([
  "rules",
  "needs",
  "dependencies",
  "tags",
  "services",
  "cache",
  "extends",
  "exists",
  "changes",
]);

/**
 * Replaces every `!reference [a, b, ...]` with the value it points at in the merged
 * configuration (after includes), following references inside the target. Circular chains and
 * missing targets are diagnostics; the reference then becomes `null`.
 */
export function resolveReferences(st: CompileState, root: YMap): YMap {
  const resolving: string[] = [];
  const memo = new Map<string, Value>();

  function target(ref: Reference): Value {
    const id = ref.path.join("\0");
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    if (resolving.includes(id)) {
      st.bag.error(
        "GL040",
        `!reference circular chain detected [${ref.path.join(",")}]`,
        posOf(st, ref),
        "a !reference must not point at itself, directly or through other references",
      );
      return null;
    }
    let cur: Value | undefined = root;
    for (const part of ref.path) {
      cur = isMapValue(cur) ? cur[part] : undefined;
      if (cur instanceof Reference) cur = resolveOne(cur);
      if (cur === undefined) break;
    }
    if (cur === undefined) {
      st.bag.error(
        "GL041",
        `!reference [${ref.path.join(", ")}] points at nothing`,
        posOf(st, ref),
        "check the job and key names",
      );
      memo.set(id, null);
      return null;
    }
    resolving.push(id);
    const out = walk(cur, undefined, 0);
    resolving.pop();
    memo.set(id, out);
    return out;
  }

  function resolveOne(ref: Reference): Value {
    return target(ref);
  }

  function walk(v: Value, parentKey: string | undefined, depth: number): Value {
    if (depth > 100) return v;
    if (v instanceof Reference) return resolveOne(v);
    if (Array.isArray(v)) {
      const out: Value[] = [];
      st.loc.copyNode(v, out);
      v.forEach((item, i) => {
        const r = walk(item, undefined, depth + 1);
        if (
          item instanceof Reference &&
          Array.isArray(r) &&
          parentKey !== undefined &&
          FLATTEN_KEYS.has(parentKey)
        ) {
          for (let j = 0; j < r.length; j++) {
            st.loc.copyEntry(r, out, j, out.length);
            out.push(r[j]!);
          }
          return;
        }
        st.loc.copyEntry(v, out, i, out.length);
        out.push(r);
      });
      return out;
    }
    if (isMapValue(v)) {
      let changed = false;
      const out = newMap();
      st.loc.copyNode(v, out);
      for (const k of Object.keys(v)) {
        const r = walk(v[k]!, k, depth + 1);
        if (r !== v[k]) changed = true;
        out[k] = r;
        st.loc.copyEntry(v, out, k);
      }
      return changed ? out : v;
    }
    return v;
  }

  return walk(root, undefined, 0) as YMap;
}
