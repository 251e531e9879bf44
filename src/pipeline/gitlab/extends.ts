import { didYouMeanHint } from "../diagnostics.js";
import { isMapValue, type YMap } from "./source.js";
import { deepMerge, posOf, typeName, type CompileState } from "./state.js";

/** GitLab refuses deeper `extends` chains. */
const MAX_EXTENDS_DEPTH = 11;

/**
 * Resolves `extends` for every job-like entry of `root` (hidden ones included): parents are
 * deep-merged in order, then the job itself on top. Missing parents, cycles and overly deep
 * chains are diagnostics; the job then keeps what could be merged.
 */
export function resolveExtends(
  st: CompileState,
  root: YMap,
  jobNames: string[],
): { jobs: Map<string, YMap>; broken: Set<string> } {
  const done = new Map<string, YMap>();
  const broken = new Set<string>();
  const reported = new Set<string>();

  function resolve(name: string, chain: string[]): YMap | undefined {
    const hit = done.get(name);
    if (hit) return hit;
    const job = root[name];
    if (!isMapValue(job)) return undefined;
    const ext = job.extends;
    if (ext === undefined) {
      done.set(name, job);
      return job;
    }
    const parents: { name: string; idx: number | undefined }[] = [];
    if (typeof ext === "string") parents.push({ name: ext, idx: undefined });
    else if (Array.isArray(ext)) {
      ext.forEach((p, i) => {
        if (typeof p === "string") parents.push({ name: p, idx: i });
        else
          st.bag.error("GL050", `extends entries must be job names, got ${typeName(p)}`, posOf(st, ext, i));
      });
    } else {
      st.bag.error(
        "GL050",
        `extends must be a job name or a list of them, got ${typeName(ext)}`,
        posOf(st, job, "extends"),
      );
    }
    let merged: YMap | undefined;
    for (const p of parents) {
      const at = p.idx === undefined ? posOf(st, job, "extends") : posOf(st, ext, p.idx);
      if (chain.includes(p.name) || p.name === name) {
        const key = [...chain, name].join(">");
        if (!reported.has(key)) {
          reported.add(key);
          st.bag.error(
            "GL051",
            `circular extends: ${[...chain, name, p.name].join(" -> ")}`,
            at,
            "remove one of the extends so that the chain ends",
          );
        }
        broken.add(name);
        continue;
      }
      if (chain.length + 1 >= MAX_EXTENDS_DEPTH) {
        st.bag.error(
          "GL052",
          `extends nested too deeply (more than ${MAX_EXTENDS_DEPTH} levels) at "${name}"`,
          at,
        );
        continue;
      }
      if (!isMapValue(root[p.name])) {
        const hint = didYouMeanHint(
          p.name,
          Object.keys(root).filter((k) => isMapValue(root[k])),
        );
        st.bag.error(
          "GL053",
          `"${name}" extends "${p.name}", which does not exist`,
          at,
          hint ??
            (st.includeFailed
              ? "it may be defined in an include that could not be loaded (see that error)"
              : "define that job or template, or fix the name"),
        );
        broken.add(name);
        continue;
      }
      const parent = resolve(p.name, [...chain, name]);
      if (broken.has(p.name)) broken.add(name);
      if (!parent) continue;
      merged = merged ? deepMerge(st, merged, parent) : parent;
    }
    const result = merged ? deepMerge(st, merged, job) : job;
    done.set(name, result);
    return result;
  }

  for (const name of jobNames) resolve(name, []);
  return { jobs: done, broken };
}
