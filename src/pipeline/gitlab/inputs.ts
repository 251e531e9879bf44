import { isMapValue, newMap, type Value } from "./source.js";
import { posOf, type CompileState } from "./state.js";

const INPUT_EXPR = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/g;
const WHOLE_INPUT = /^\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]$/;

/**
 * `spec: inputs` with defaults: every `$[[ inputs.NAME ]]` is replaced by the input's
 * default. A string that is only the expression takes the default's type (lists included).
 * Inputs without a default are diagnostics, since `gantry run` has no way to pass them yet.
 */
export function interpolateInputs(st: CompileState, header: Value, body: Value): Value {
  const spec = isMapValue(header) ? header.spec : undefined;
  const inputs = isMapValue(spec) && isMapValue(spec.inputs) ? spec.inputs : undefined;
  const defaults = new Map<string, Value>();
  if (inputs) {
    for (const [name, def] of Object.entries(inputs)) {
      if (isMapValue(def) && def.default !== undefined) defaults.set(name, def.default);
    }
  }
  const missing = new Set<string>();
  const walk = (v: Value, depth: number): Value => {
    if (depth > 100) return v;
    if (typeof v === "string") {
      const whole = WHOLE_INPUT.exec(v);
      if (whole) {
        const d = defaults.get(whole[1]!);
        if (d !== undefined) return d;
      }
      return v.replace(INPUT_EXPR, (m, name: string) => {
        const d = defaults.get(name);
        if (d === undefined) {
          missing.add(name);
          return m;
        }
        return typeof d === "string" || typeof d === "number" || typeof d === "boolean"
          ? String(d)
          : JSON.stringify(d);
      });
    }
    if (Array.isArray(v)) {
      const out: Value[] = [];
      st.loc.copyNode(v, out);
      v.forEach((item, i) => {
        const r = walk(item, depth + 1);
        // A list input used as one list item takes the list's place, as in GitLab.
        if (Array.isArray(r) && typeof item === "string") {
          for (const x of r) {
            st.loc.copyEntry(v, out, i, out.length);
            out.push(x);
          }
          return;
        }
        st.loc.copyEntry(v, out, i, out.length);
        out.push(r);
      });
      return out;
    }
    if (isMapValue(v)) {
      const out = newMap();
      st.loc.copyNode(v, out);
      for (const k of Object.keys(v)) {
        out[k] = walk(v[k]!, depth + 1);
        st.loc.copyEntry(v, out, k);
      }
      return out;
    }
    return v;
  };
  const result = walk(body, 0);
  for (const name of missing) {
    st.bag.error(
      "GL012",
      `input "${name}" has no default and cannot be given yet`,
      posOf(st, header),
      "give the input a default in spec:inputs",
    );
  }
  return result;
}
