import { didYouMeanHint } from "../diagnostics.js";
import type { Need } from "../plan.js";
import { matrixJobName } from "./parallel.js";
import { isMapValue, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";

/** One compiled job instance, as needs resolution sees it. */
export interface NeedsNode {
  id: string;
  /** The job name it was expanded from. */
  base: string;
  stageIndex: number;
  matrix?: Record<string, string>;
  /** The `needs` value after rules (undefined: stage order). */
  needs: Value | undefined;
  needsOwner: YMap;
  dependencies: Value | undefined;
  depsOwner: YMap;
}

/** What the needs resolver knows about the whole pipeline. */
export interface NeedsIndex {
  /** Instances in the pipeline, by base job name. */
  byBase: Map<string, NeedsNode[]>;
  byId: Map<string, NeedsNode>;
  /** Job names defined in the file but left out of the pipeline (rules, when: never, only/except). */
  excluded: Set<string>;
  /** Whether each base job uses `parallel: matrix`. */
  isMatrix: Map<string, boolean>;
  stages: string[];
}

export interface ResolvedNeeds {
  needsMode: "explicit" | "stage";
  needs: Need[];
  artifactsFrom: string[];
}

const MATRIX_EXPR = /\$\[\[\s*matrix\.([A-Za-z0-9_-]+)\s*\]\]/g;

/** Resolves one job instance's `needs` and `dependencies` into Plan needs and artifact sources. */
export function resolveNeeds(st: CompileState, node: NeedsNode, index: NeedsIndex): ResolvedNeeds {
  const earlier = (): NeedsNode[] => {
    const out: NeedsNode[] = [];
    for (const list of index.byBase.values())
      for (const n of list) if (n.stageIndex < node.stageIndex) out.push(n);
    return out;
  };
  const deps = dependencyNames(st, node, index);
  if (node.needs === undefined) {
    const prior = earlier();
    const artifactsFrom =
      deps === undefined ? prior.map((n) => n.id) : deps.filter((id) => prior.some((n) => n.id === id));
    if (deps) {
      for (const id of deps) {
        if (!prior.some((n) => n.id === id)) {
          const target = index.byId.get(id);
          if (target) {
            st.bag.error(
              "GL114",
              `${node.id}: dependency "${target.base}" is not in an earlier stage`,
              posOf(st, node.depsOwner, "dependencies"),
              "dependencies may only name jobs of earlier stages (or use needs)",
            );
          }
        }
      }
    }
    return { needsMode: "stage", needs: prior.map((n) => ({ job: n.id, artifacts: true })), artifactsFrom };
  }
  const needs: Need[] = [];
  const list = node.needs;
  if (!Array.isArray(list)) {
    st.bag.error(
      "GL110",
      `${node.base}: needs must be a list, got ${typeName(list)}`,
      posOf(st, node.needsOwner, "needs"),
      "write needs: [job-a, job-b]",
    );
    return { needsMode: "explicit", needs, artifactsFrom: [] };
  }
  list.forEach((entry, i) => {
    for (const n of needEntry(st, node, index, list, i, entry)) {
      const prev = needs.find((x) => x.job === n.job);
      if (prev) prev.artifacts ||= n.artifacts;
      else needs.push(n);
    }
  });
  let artifactsFrom = needs.filter((n) => n.artifacts).map((n) => n.job);
  if (deps !== undefined) {
    if (needs.length > 0) {
      const missing = deps.filter((d) => !needs.some((n) => n.job === d));
      if (missing.length > 0) {
        st.bag.error(
          "GL115",
          `${node.base}: dependencies ${missing.join(", ")} must also be listed in needs`,
          posOf(st, node.depsOwner, "dependencies"),
          "add them to needs, or drop them from dependencies",
        );
      }
    }
    artifactsFrom = artifactsFrom.filter((id) => deps.includes(id));
  }
  return { needsMode: "explicit", needs, artifactsFrom };
}

/** `dependencies:` as instance ids, or undefined when the job has none. */
function dependencyNames(st: CompileState, node: NeedsNode, index: NeedsIndex): string[] | undefined {
  const d = node.dependencies;
  if (d === undefined || d === null) return undefined;
  if (!Array.isArray(d)) {
    st.bag.error(
      "GL116",
      `${node.base}: dependencies must be a list of job names`,
      posOf(st, node.depsOwner, "dependencies"),
    );
    return [];
  }
  const out: string[] = [];
  d.forEach((item, i) => {
    const name = scalarString(item);
    if (name === undefined) {
      st.bag.error("GL116", `${node.base}: dependencies entries must be job names`, posOf(st, d, i));
      return;
    }
    const targets = index.byBase.get(name) ?? (index.byId.has(name) ? [index.byId.get(name)!] : undefined);
    if (targets) out.push(...targets.map((t) => t.id));
    else if (!index.excluded.has(name)) {
      st.bag.error(
        "GL117",
        `${node.base}: dependency "${name}" is not a job of this pipeline`,
        posOf(st, d, i),
        didYouMeanHint(name, index.byBase.keys()) ?? "fix the job name",
      );
    }
  });
  return out;
}

function needEntry(
  st: CompileState,
  node: NeedsNode,
  index: NeedsIndex,
  list: Value[],
  i: number,
  entry: Value,
): Need[] {
  const at = posOf(st, list, i);
  let name: string | undefined;
  let artifacts = true;
  let optional = false;
  let selector: Value | undefined;
  if (entry === null) {
    st.bag.error("GL111", `${node.base}: needs entries cannot be empty`, at);
    return [];
  }
  if (typeof entry === "string") name = entry;
  else if (isMapValue(entry)) {
    if (entry.project !== undefined || entry.pipeline !== undefined) {
      const key = entry.project !== undefined ? "project" : "pipeline";
      st.bag.warning(
        "GL118",
        `${node.base}.needs[${i}]: needs from another ${key} are ignored, ${key} key not supported`,
        posOf(st, entry, key),
      );
      return [];
    }
    name = scalarString(entry.job);
    if (name === undefined) {
      st.bag.error("GL111", `${node.base}.needs[${i}] must name a job (job: NAME)`, at);
      return [];
    }
    if (entry.artifacts === false) artifacts = false;
    if (entry.optional === true) optional = true;
    if (isMapValue(entry.parallel)) selector = entry.parallel.matrix;
  } else {
    st.bag.error(
      "GL111",
      `${node.base}.needs[${i}] must be a job name or {job, artifacts, optional}, got ${typeName(entry)}`,
      at,
    );
    return [];
  }
  let targets = index.byBase.get(name) ?? (index.byId.has(name) ? [index.byId.get(name)!] : undefined);
  if (!targets) {
    if (optional) return [];
    if (index.excluded.has(name)) {
      st.bag.error(
        "GL112",
        `${node.base} needs "${name}", but "${name}" is not in the pipeline (its rules, when: never or only/except leave it out)`,
        at,
        "mark the need optional: true, or change the rules of the needed job",
      );
    } else {
      st.bag.error(
        "GL113",
        `${node.base} needs "${name}", which is not defined`,
        at,
        didYouMeanHint(name, index.byBase.keys()) ?? "fix the job name or define the job",
      );
    }
    return [];
  }
  if (selector !== undefined) {
    const picked = selectMatrix(st, node, index, name, targets, selector, at);
    if (!picked) return [];
    targets = picked;
  }
  const out: Need[] = [];
  for (const t of targets) {
    if (t.stageIndex > node.stageIndex) {
      st.bag.error(
        "GL119",
        `${node.base} needs "${t.id}" of the later stage "${index.stages[t.stageIndex]}"`,
        at,
        "a job can only need jobs of its own or earlier stages",
      );
      continue;
    }
    const need: Need = { job: t.id, artifacts };
    if (optional) need.optional = true;
    out.push(need);
  }
  return out;
}

function selectMatrix(
  st: CompileState,
  node: NeedsNode,
  index: NeedsIndex,
  name: string,
  targets: NeedsNode[],
  selector: Value,
  at: ReturnType<typeof posOf>,
): NeedsNode[] | undefined {
  if (!index.isMatrix.get(name)) {
    st.bag.error(
      "GL120",
      `${node.base} uses needs:parallel:matrix on "${name}", which has no parallel:matrix`,
      at,
    );
    return undefined;
  }
  if (!Array.isArray(selector)) {
    st.bag.error(
      "GL121",
      `${node.base}: needs:parallel:matrix must be a list of VARIABLE: value(s) maps`,
      at,
    );
    return undefined;
  }
  let usesExpr = false;
  const sub = (s: string): string =>
    s.replace(MATRIX_EXPR, (_m, id: string) => {
      usesExpr = true;
      return node.matrix?.[id] ?? "";
    });
  const wanted: Record<string, string[]>[] = [];
  for (const entry of selector) {
    if (!isMapValue(entry)) continue;
    const w: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(entry)) {
      const vals = (Array.isArray(v) ? v : [v]).map((x) => scalarString(x) ?? "");
      w[k] = vals.map(sub);
    }
    wanted.push(w);
  }
  if (usesExpr && !node.matrix) {
    st.bag.error(
      "GL122",
      `${node.base} uses $[[ matrix.X ]] in needs:parallel:matrix but has no parallel:matrix itself`,
      at,
      "matrix expressions can only refer to the job's own parallel:matrix variables",
    );
    return undefined;
  }
  const picked = targets.filter((t) =>
    wanted.some((w) =>
      Object.entries(w).every(([k, vals]) => t.matrix !== undefined && vals.includes(t.matrix[k] ?? "\0")),
    ),
  );
  if (picked.length === 0) {
    const example = wanted[0]
      ? matrixJobName(
          name,
          Object.values(wanted[0]).map((v) => v.join("|")),
        )
      : name;
    st.bag.error(
      "GL123",
      `${node.base}: needs:parallel:matrix selects no job of "${name}" (looked for ${example})`,
      at,
    );
    return undefined;
  }
  return picked;
}

/** Reports every cycle in the explicit needs graph once. */
export function checkCycles(
  st: CompileState,
  jobs: { id: string; needs: Need[]; at: ReturnType<typeof posOf> }[],
): boolean {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const state = new Map<string, 1 | 2>();
  let found = false;
  const stack: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 1);
    stack.push(id);
    for (const n of byId.get(id)?.needs ?? []) {
      const s = state.get(n.job);
      if (s === 1) {
        found = true;
        const cycle = [...stack.slice(stack.indexOf(n.job)), n.job];
        st.bag.error(
          "GL124",
          `needs cycle: ${cycle.join(" -> ")}`,
          byId.get(id)!.at,
          "remove one of these needs",
        );
      } else if (s === undefined && byId.has(n.job)) visit(n.job);
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const j of jobs) if (!state.has(j.id)) visit(j.id);
  return found;
}
