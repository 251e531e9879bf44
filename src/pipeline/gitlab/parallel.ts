import { isMapValue, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";

/** GitLab refuses more than this many jobs from one `parallel`. */
export const MAX_PARALLEL = 200;

export interface Instance {
  /** The job's name in the pipeline: `build 1/3`, `test: [linux, 18]`, or the job name. */
  name: string;
  matrix?: Record<string, string>;
  node?: { index: number; total: number };
}

/** Expands `parallel: N` and `parallel: matrix` into job instances, GitLab's way and names. */
export function expandParallel(
  st: CompileState,
  job: YMap,
  jobName: string,
): { instances: Instance[]; isMatrix: boolean } {
  const p = job.parallel;
  const single = { instances: [{ name: jobName }], isMatrix: false };
  if (p === undefined || p === null) return single;
  if (typeof p === "number") {
    if (!Number.isInteger(p) || p < 1 || p > MAX_PARALLEL) {
      st.bag.error(
        "GL100",
        `${jobName}.parallel must be a whole number from 1 to ${MAX_PARALLEL}`,
        posOf(st, job, "parallel"),
      );
      return single;
    }
    return {
      instances: Array.from({ length: p }, (_, i) => ({
        name: `${jobName} ${i + 1}/${p}`,
        node: { index: i + 1, total: p },
      })),
      isMatrix: false,
    };
  }
  if (!isMapValue(p) || !Array.isArray(p.matrix)) {
    st.bag.error(
      "GL100",
      `${jobName}.parallel must be a number or {matrix: [...]}, got ${typeName(p)}`,
      posOf(st, job, "parallel"),
    );
    return single;
  }
  const cells: Record<string, string>[] = [];
  let overflow = false;
  for (let i = 0; i < p.matrix.length && !overflow; i++) {
    const entry = p.matrix[i];
    if (!isMapValue(entry) || Object.keys(entry).length === 0) {
      st.bag.error(
        "GL101",
        `${jobName}.parallel.matrix entries must be maps of VARIABLE: value(s)`,
        posOf(st, p.matrix, i),
      );
      continue;
    }
    let combos: Record<string, string>[] = [Object.create(null) as Record<string, string>];
    for (const key of Object.keys(entry)) {
      const values = matrixValues(st, entry, key, jobName);
      const next: Record<string, string>[] = [];
      for (const c of combos) {
        for (const v of values) {
          next.push({ ...c, [key]: v });
          if (cells.length + next.length > MAX_PARALLEL) overflow = true;
          if (overflow) break;
        }
        if (overflow) break;
      }
      combos = next;
      if (overflow) break;
    }
    cells.push(...combos);
  }
  const total = cells.length;
  if (overflow || total > MAX_PARALLEL) {
    st.bag.error(
      "GL102",
      `${jobName}.parallel.matrix makes more than ${MAX_PARALLEL} jobs`,
      posOf(st, job, "parallel"),
      `GitLab allows at most ${MAX_PARALLEL} jobs per parallel:matrix; split the matrix`,
    );
    return { instances: [], isMatrix: true };
  }
  return {
    instances: cells.map((m, i) => ({
      name: matrixJobName(jobName, Object.values(m)),
      matrix: m,
      node: { index: i + 1, total },
    })),
    isMatrix: true,
  };
}

export function matrixJobName(jobName: string, values: string[]): string {
  return `${jobName}: [${values.join(", ")}]`;
}

function matrixValues(st: CompileState, entry: YMap, key: string, jobName: string): string[] {
  const v: Value = entry[key]!;
  const list = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  list.forEach((item) => {
    const s = scalarString(item);
    if (s === undefined) {
      st.bag.error(
        "GL101",
        `${jobName}.parallel.matrix.${key} values must be strings or numbers`,
        posOf(st, entry, key),
      );
    } else out.push(s);
  });
  return out;
}
