import type { JobStatus } from "../engine/events.js";
import type { Input, JobWhen, Need, Plan } from "../pipeline/plan.js";
import type { Diagnostic } from "../pipeline/diagnostics.js";
import type { JobRow, PipelineRow } from "../store/pipelines.js";
import type { ProjectRow } from "../store/projects.js";
import type { RunnerRow } from "../store/runners.js";
import type { SecretRow } from "../store/secrets.js";
import type { TokenRow } from "../store/accounts.js";
import type {
  JobDetail,
  JobSummary,
  PipelineDetail,
  PipelineStatus,
  PipelineSummary,
  PipelineTrigger,
  Project,
  Role,
  Runner,
  Secret,
  Token,
  TokenScope,
} from "./api-types.js";

/** Database row → API shapes. */
export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();

export function projectView(p: ProjectRow, role?: Role): Project {
  return {
    name: p.name,
    repo: p.repo,
    defaultBranch: p.default_branch,
    ...(p.pipeline_file ? { pipelineFile: p.pipeline_file } : {}),
    createdAt: iso(p.created_at)!,
    ...(role ? { role } : {}),
  };
}

const duration = (a: number | null, b: number | null): number | null =>
  a !== null && b !== null ? Number(b) - Number(a) : null;

export function pipelineSummary(p: PipelineRow, project: string): PipelineSummary {
  return {
    id: Number(p.id),
    project,
    status: p.status as PipelineStatus,
    ref: p.ref,
    sha: p.sha,
    trigger: p.trigger as PipelineTrigger,
    createdBy: p.created_by,
    createdAt: iso(p.created_at)!,
    startedAt: iso(p.started_at),
    finishedAt: iso(p.finished_at),
    durationMs: duration(p.started_at, p.finished_at),
  };
}

export function jobSummary(j: JobRow, planJobs?: Map<string, Plan["jobs"][number]>): JobSummary {
  const pj = planJobs?.get(j.key);
  const input = j.status === "input" && j.input ? (JSON.parse(j.input) as Input) : undefined;
  return {
    id: Number(j.id),
    key: j.key,
    name: j.name,
    stage: j.stage,
    status: j.status as JobStatus,
    needs: (JSON.parse(j.needs) as Need[]).map((n) => n.job),
    attempt: j.attempt,
    allowFailure: j.allow_failure === 1,
    when: j.when_ as JobWhen,
    durationMs: duration(j.started_at, j.finished_at),
    startedAt: iso(j.started_at),
    finishedAt: iso(j.finished_at),
    ...(j.reason ? { reason: j.reason } : {}),
    ...(j.exit_code !== null ? { exitCode: j.exit_code } : {}),
    ...(input
      ? {
          input: {
            message: input.message,
            ok: input.ok,
            ...(input.submitter ? { submitter: input.submitter } : {}),
            parameters: input.parameters,
          },
        }
      : {}),
    ...(pj?.parents?.length ? { parents: pj.parents } : {}),
  };
}

/** Parsed plans by pipeline id: a Plan never changes once stored, and big ones are slow to parse. */
const parsedPlans = new Map<string, { plan: Plan; byKey: Map<string, Plan["jobs"][number]> }>();
function parsed(id: string, json: string | null) {
  if (!json) return undefined;
  let e = parsedPlans.get(id);
  if (!e) {
    const plan = JSON.parse(json) as Plan;
    e = { plan, byKey: new Map(plan.jobs.map((j) => [j.id, j])) };
    if (parsedPlans.size > 50) parsedPlans.delete(parsedPlans.keys().next().value!);
    parsedPlans.set(id, e);
  }
  return e;
}

export function pipelineDetail(p: PipelineRow, project: string, jobs: JobRow[]): PipelineDetail {
  const entry = parsed(`${p.id}:${p.created_at}:${p.plan?.length ?? 0}`, p.plan);
  const plan = entry?.plan;
  return {
    ...pipelineSummary(p, project),
    stages: plan?.stages ?? [],
    jobs: jobs.map((j) => jobSummary(j, entry?.byKey)),
    variables: JSON.parse(p.variables) as Record<string, string>,
    params: JSON.parse(p.params) as Record<string, string>,
    parameters: plan?.parameters ?? [],
    diagnostics: JSON.parse(p.diagnostics) as Diagnostic[],
    ...(p.error ? { error: p.error } : {}),
  };
}

export function jobDetail(j: JobRow, project: string, runner: string | null): JobDetail {
  return {
    ...jobSummary(j),
    pipelineId: Number(j.pipeline_id),
    project,
    runner,
    logSize: Number(j.log_size),
    queuedAt: iso(j.queued_at),
  };
}

/** Runners seen within this long are online. */
export const ONLINE_MS = 60_000;

export function runnerView(r: RunnerRow, jobs: number[]): Runner {
  return {
    id: Number(r.id),
    name: r.name,
    labels: JSON.parse(r.labels) as string[],
    executors: JSON.parse(r.executors) as string[],
    version: r.version,
    online: r.last_seen_at !== null && Date.now() - Number(r.last_seen_at) < ONLINE_MS,
    lastSeenAt: iso(r.last_seen_at),
    currentJobs: jobs,
    builtin: r.builtin === 1,
  };
}

export function secretView(s: SecretRow, project: string | null): Secret {
  return {
    name: s.name,
    project,
    kind: s.kind as Secret["kind"],
    protected: s.is_protected === 1,
    createdAt: iso(s.created_at)!,
    updatedAt: iso(s.updated_at)!,
  };
}

export function tokenView(t: TokenRow, user: string): Token {
  return {
    id: Number(t.id),
    user,
    name: t.name,
    scopes: JSON.parse(t.scopes) as TokenScope[],
    expiresAt: iso(t.expires_at),
    createdAt: iso(t.created_at)!,
    lastUsedAt: iso(t.last_used_at),
  };
}
