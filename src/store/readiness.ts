import type { JobStatus } from "../engine/events.js";
import type { JobWhen } from "../pipeline/plan.js";

/** What the scheduler knows about a job that waits for its needs. */
export interface WaitingJob {
  needs: string[];
  needsMode: "explicit" | "stage";
  when: JobWhen;
  hasInput: boolean;
}

/** What it knows about a needed job. */
export interface NeededJob {
  status: JobStatus;
  allowFailure: boolean;
}

/**
 * A `manual` job that may not fail (GitLab `allow_failure: false`, the default of
 * `rules: when: manual`) blocks: what needs it, and later stages, wait until it is played,
 * and the pipeline is `blocked` meanwhile. One that may fail is optional and counts as passed.
 */
export function blocks(j: NeededJob): boolean {
  return j.status === "manual" && !j.allowFailure;
}

/** The decision for a `created` job: keep waiting, or move it to a new status. */
export type Readiness =
  | { kind: "wait" }
  | { kind: "skip"; reason: string }
  | { kind: "manual" }
  | { kind: "input" }
  | { kind: "queue"; delayed: boolean };

const PENDING: ReadonlySet<JobStatus> = new Set(["created", "waiting", "running", "input"]);

/** Whether a need keeps a job waiting: it is still pending, or a blocking manual job. */
export function holdsBack(n: NeededJob): boolean {
  return PENDING.has(n.status) || blocks(n);
}

/**
 * Decides whether a job whose needs are all known may start, with the local engine's
 * semantics: `on_success` runs when no need failed (a failure that is allowed, a skipped job
 * and an unplayed optional manual job count as passed), `on_failure` only when one did,
 * `always` in any case; a cancelled need counts as failed. A blocking manual need (see
 * `blocks`) makes the job wait whatever its `when`, as in GitLab. Needs that are not in the
 * pipeline are ignored (frontends drop optional ones).
 */
export function readiness(job: WaitingJob, needs: (NeededJob | undefined)[]): Readiness {
  let failed = false;
  for (const n of needs) {
    if (!n) continue;
    if (holdsBack(n)) return { kind: "wait" };
    if (n.status === "canceled" || (n.status === "failed" && !n.allowFailure)) failed = true;
  }
  const start = (): Readiness =>
    job.when === "manual"
      ? { kind: "manual" }
      : job.hasInput
        ? { kind: "input" }
        : { kind: "queue", delayed: job.when === "delayed" };
  switch (job.when) {
    case "on_failure":
      return failed ? { kind: "queue", delayed: false } : { kind: "skip", reason: "no earlier job failed" };
    case "always":
      return job.hasInput ? { kind: "input" } : { kind: "queue", delayed: false };
    default:
      return failed ? { kind: "skip", reason: "needs failed" } : start();
  }
}

/** A pipeline's status from its jobs' statuses (`null` while jobs are still pending). */
export function pipelineResult(
  jobs: { status: JobStatus; allowFailure: boolean }[],
): "success" | "unstable" | "failed" | "canceled" | null {
  if (jobs.some((j) => PENDING.has(j.status))) return null;
  if (jobs.some((j) => j.status === "canceled")) return "canceled";
  if (jobs.some((j) => j.status === "failed" && !j.allowFailure)) return "failed";
  if (jobs.some((j) => j.status === "unstable" || (j.status === "failed" && j.allowFailure)))
    return "unstable";
  return "success";
}

/**
 * The status of a pipeline that still has work: `running` while a job is queued or running,
 * `blocked` when everything left waits for a person (an `input`, or a blocking manual job).
 */
export function unfinishedStatus(jobs: NeededJob[]): "running" | "blocked" | null {
  let person = false;
  let created = false;
  for (const j of jobs) {
    if (j.status === "waiting" || j.status === "running") return "running";
    if (j.status === "input" || blocks(j)) person = true;
    if (j.status === "created") created = true;
  }
  return person ? "blocked" : created ? "running" : null;
}
