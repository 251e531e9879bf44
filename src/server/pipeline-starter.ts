import path from "node:path";
import type { Logger } from "pino";
import type { Db } from "../store/schema.js";
import { failPipeline, getPipeline, pendingPipelines, startPipeline } from "../store/pipelines.js";
import { projectById } from "../store/projects.js";
import { checkoutCommit, gitInfoForRef, resolveRef, updateMirror } from "../runner/git-checkout.js";
import { readGitInfo } from "../pipeline/git.js";
import { loadPipeline } from "../pipeline/load.js";
import { hasErrors } from "../pipeline/diagnostics.js";
import type { Bus } from "./bus.js";
import type { Plan } from "../pipeline/plan.js";

/**
 * Turns a `pending` pipeline into a running one: fetches the project's repository, checks
 * out the commit with real git, compiles the pipeline file with the same frontends as
 * `gantry run`, and stores the Plan and its jobs. Failures end the pipeline in `error`.
 */
export class PipelineStarter {
  private readonly inflight = new Map<number, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly onStarted: (
      pipelineId: number,
      projectId: number,
      ref: string,
      plan: Plan,
    ) => Promise<void> = async () => {},
  ) {}

  /** Starts in the background; the promise is for tests and shutdown. */
  start(pipelineId: number): Promise<void> {
    const existing = this.inflight.get(pipelineId);
    if (existing) return existing;
    const p = this.run(pipelineId).finally(() => this.inflight.delete(pipelineId));
    this.inflight.set(pipelineId, p);
    return p;
  }

  /** After a restart: pipelines that were still being prepared are prepared again. */
  async resume(): Promise<number> {
    const pending = await pendingPipelines(this.db);
    for (const p of pending) void this.start(Number(p.id));
    return pending.length;
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
  }

  private async run(id: number): Promise<void> {
    let sha = "";
    try {
      const p = await getPipeline(this.db, id);
      if (!p || p.status !== "pending") return;
      const project = await projectById(this.db, Number(p.project_id));
      if (!project) return failPipeline(this.db, id, "the project was deleted");
      const mirror = await updateMirror(this.dataDir, project.repo);
      const wanted = p.ref || project.default_branch;
      // A webhook knows whether it pushed a branch or a tag; the API's ref is looked up.
      const full =
        p.ref_kind === "tag"
          ? `refs/tags/${wanted}`
          : p.ref_kind === "branch"
            ? `refs/heads/${wanted}`
            : wanted;
      const ref = await resolveRef(mirror, full);
      sha = ref.sha;
      const dir = await checkoutCommit(this.dataDir, mirror, sha);
      const info = await readGitInfo(dir);
      const git = {
        ...gitInfoForRef(info, ref.name, ref.kind),
        defaultBranch: project.default_branch,
        remoteUrl: project.repo,
      };
      const result = await loadPipeline({
        projectDir: dir,
        ...(project.pipeline_file ? { file: project.pipeline_file } : {}),
        variables: JSON.parse(p.variables) as Record<string, string>,
        params: JSON.parse(p.params) as Record<string, string>,
        git,
        cacheDir: path.join(this.dataDir, "cache", "compile"),
        env: {},
      });
      if (!result.plan || hasErrors(result.diagnostics)) {
        const first = result.diagnostics.find((d) => d.severity === "error");
        await failPipeline(
          this.db,
          id,
          first ? `the pipeline file has errors: ${first.message}` : "no pipeline file found",
          result.diagnostics,
          sha,
        );
        return;
      }
      await startPipeline(this.db, id, result.plan, sha, result.diagnostics, ref.kind);
      await this.onStarted(id, Number(p.project_id), p.ref, result.plan);
      this.bus.workAvailable();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ pipeline: id, err: message }, "pipeline could not start");
      await failPipeline(this.db, id, message, [], sha).catch(() => undefined);
    }
  }
}
