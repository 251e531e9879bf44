import type { Diagnostic } from "./diagnostics.js";
import type { Plan } from "./plan.js";

/** Largest number of jobs one matrix may expand to. */
export const MAX_MATRIX_JOBS = 200;

/**
 * Checks every frontend's output against the Plan's invariants: unique ids, needs that
 * exist, no cycles, stages that exist. Frontends report these with better positions first;
 * this is the safety net that keeps a bad Plan from reaching the engine.
 */
export function validatePlan(plan: Plan): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ids = new Map<string, number>();
  for (const j of plan.jobs) ids.set(j.id, (ids.get(j.id) ?? 0) + 1);
  const stages = new Set(plan.stages);
  const at = (j: Plan["jobs"][number]) => ({ file: j.loc.file, line: j.loc.line, column: j.loc.column });
  for (const j of plan.jobs) {
    if ((ids.get(j.id) ?? 0) > 1) {
      out.push({
        severity: "error",
        code: "duplicate-job",
        message: `job "${j.id}" is defined more than once`,
        ...at(j),
        hint: "give each job a unique name",
      });
      ids.set(j.id, 1);
    }
    if (!stages.has(j.stage))
      out.push({
        severity: "error",
        code: "unknown-stage",
        message: `job "${j.id}" uses stage "${j.stage}", which is not defined`,
        ...at(j),
        hint: `add "${j.stage}" to stages`,
      });
    for (const n of j.needs) {
      if (!ids.has(n.job))
        out.push({
          severity: "error",
          code: "unknown-need",
          message: `job "${j.id}" needs "${n.job}", which does not exist`,
          ...at(j),
          hint: "fix the name, or mark the need optional",
        });
    }
  }
  const byId = new Map(plan.jobs.map((j) => [j.id, j]));
  const state = new Map<string, 1 | 2>();
  const visit = (id: string, stack: string[]): void => {
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      const j = byId.get(id)!;
      out.push({
        severity: "error",
        code: "needs-cycle",
        message: `needs form a cycle: ${cycle.join(" → ")}`,
        ...at(j),
        hint: "remove one of these needs",
      });
      return;
    }
    state.set(id, 1);
    for (const n of byId.get(id)?.needs ?? []) if (byId.has(n.job)) visit(n.job, [...stack, id]);
    state.set(id, 2);
  };
  for (const j of plan.jobs) visit(j.id, []);
  return out;
}
