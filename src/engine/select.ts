import type { Job, Plan } from "../pipeline/plan.js";

export interface Selection {
  /** Job names or ids given with `--job`; empty means every job. */
  jobs: readonly string[];
  /** `--needs`: also run what the selected jobs need, transitively. */
  needs: boolean;
  /** `--manual`: manual jobs to play. */
  manual: readonly string[];
}

export interface SelectionResult {
  /** Ids of the jobs to run, in plan order. */
  ids: string[];
  /** Ids of manual jobs that are played. */
  manual: Set<string>;
  errors: string[];
}

function find(plan: Plan, name: string): Job[] {
  const byId = plan.jobs.filter((j) => j.id === name);
  if (byId.length > 0) return byId;
  // A matrix/parallel job's base name selects all its instances (`test` → `test: [a]`, `test 1/2`).
  return plan.jobs.filter(
    (j) =>
      j.name === name ||
      j.id.startsWith(`${name}: [`) ||
      new RegExp(`^${escape(name)} \\d+/\\d+$`).test(j.id),
  );
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Resolves `--job`, `--needs` and `--manual` against a plan, with errors for unknown names. */
export function selectJobs(plan: Plan, sel: Selection): SelectionResult {
  const errors: string[] = [];
  const manual = new Set<string>();
  for (const name of sel.manual) {
    const found = find(plan, name);
    if (found.length === 0) errors.push(`${name} could not be found (--manual)`);
    for (const j of found) manual.add(j.id);
  }
  const byId = new Map(plan.jobs.map((j) => [j.id, j]));
  let chosen: Set<string>;
  if (sel.jobs.length === 0) {
    chosen = new Set(plan.jobs.map((j) => j.id));
  } else {
    chosen = new Set();
    for (const name of sel.jobs) {
      const found = find(plan, name);
      if (found.length === 0) errors.push(`${name} could not be found`);
      for (const j of found) {
        chosen.add(j.id);
        // Naming a manual job with --job is asking to play it.
        if (j.when === "manual") manual.add(j.id);
      }
    }
    if (sel.needs) {
      const stack = [...chosen];
      while (stack.length > 0) {
        const j = byId.get(stack.pop()!);
        for (const n of j?.needs ?? []) {
          if (!chosen.has(n.job) && byId.has(n.job)) {
            chosen.add(n.job);
            stack.push(n.job);
          }
        }
      }
    }
  }
  // A job that explicitly needs a manual job that will not be played can never start.
  for (const id of chosen) {
    const j = byId.get(id)!;
    if (j.needsMode !== "explicit") continue;
    for (const n of j.needs) {
      const dep = byId.get(n.job);
      if (dep && dep.when === "manual" && chosen.has(dep.id) && !manual.has(dep.id) && !dep.allowFailure)
        errors.push(`${dep.id} is when:manual, its needed by ${j.id}, and not specified in --manual`);
    }
  }
  return { ids: plan.jobs.filter((j) => chosen.has(j.id)).map((j) => j.id), manual, errors };
}
