import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/schema.js";
import { getPipeline, pipelineJobs } from "../../src/store/pipelines.js";
import { advancePipeline, cancelPipeline, decideInput, playJob } from "../../src/store/queue.js";
import { writeTx } from "../../src/store/tx.js";
import type { Job, Plan } from "../../src/pipeline/plan.js";
import { databases, freshDb, job, needs, plan, startPlan } from "./helpers.js";

const start = startPlan;

const jobs = async (db: Db, id: number) =>
  Object.fromEntries((await pipelineJobs(db, id)).map((j) => [j.key, j.status]));
const idOf = async (db: Db, id: number, key: string) =>
  Number((await pipelineJobs(db, id)).find((j) => j.key === key)!.id);
const pipelineStatus = async (db: Db, id: number) => (await getPipeline(db, id))?.status;

/** Plays the runner's part for every queued job: each ends `success`, then the pipeline advances. */
async function runQueued(db: Db, id: number): Promise<string[]> {
  const queued = (await pipelineJobs(db, id)).filter((j) => j.status === "waiting");
  for (const j of queued)
    await writeTx(db, async (trx) => {
      await trx
        .updateTable("jobs")
        .set({ status: "success", finished_at: Date.now() })
        .where("id", "=", Number(j.id))
        .execute();
      await advancePipeline(trx, db.dialect, id);
    });
  return queued.map((j) => j.key);
}

/** GitLab stages build → deploy → verify, where verify has no `needs` (it waits for the stages before). */
function staged(deploy: Partial<Job>): Plan {
  const p = plan([
    job("build", { stage: "build" }),
    job("deploy", { stage: "deploy", needsMode: "stage", needs: needs("build"), when: "manual", ...deploy }),
    job("verify", { stage: "verify", needsMode: "stage", needs: needs("build", "deploy") }),
  ]);
  return { ...p, format: "gitlab" };
}

for (const kind of databases()) {
  describe(`manual jobs that block, on ${kind}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      const f = await freshDb(kind);
      db = f.db;
      drop = f.drop;
    });
    afterEach(async () => drop());

    it("a manual job that may not fail holds later stages and the pipeline is blocked until played", async () => {
      const id = await start(db, staged({ allowFailure: false }));
      expect(await runQueued(db, id)).toEqual(["build"]);
      expect(await jobs(db, id)).toEqual({ build: "success", deploy: "manual", verify: "created" });
      expect(await pipelineStatus(db, id)).toBe("blocked");
      expect((await getPipeline(db, id))?.finished_at).toBeNull();
      expect(await runQueued(db, id)).toEqual([]); // nothing to lease while blocked

      expect(await playJob(db, await idOf(db, id, "deploy"))).toBe(true);
      expect(await pipelineStatus(db, id)).toBe("running");
      expect(await runQueued(db, id)).toEqual(["deploy"]);
      expect(await jobs(db, id)).toMatchObject({ deploy: "success", verify: "waiting" });
      expect(await runQueued(db, id)).toEqual(["verify"]);
      expect(await pipelineStatus(db, id)).toBe("success");
    });

    it("an optional manual job (allow_failure: true) lets later stages run and the pipeline finish", async () => {
      const id = await start(db, staged({ allowFailure: true }));
      expect(await runQueued(db, id)).toEqual(["build"]);
      expect(await jobs(db, id)).toEqual({ build: "success", deploy: "manual", verify: "waiting" });
      expect(await pipelineStatus(db, id)).toBe("running");
      expect(await runQueued(db, id)).toEqual(["verify"]);
      expect(await pipelineStatus(db, id)).toBe("success");
    });

    it("a blocking manual job with no dependents still keeps the pipeline blocked; cancel ends it", async () => {
      const id = await start(
        db,
        plan([job("test"), job("release", { when: "manual", allowFailure: false, needs: needs("test") })]),
      );
      expect(await runQueued(db, id)).toEqual(["test"]);
      expect(await pipelineStatus(db, id)).toBe("blocked");
      expect(await cancelPipeline(db, id)).toBe(true);
      expect(await jobs(db, id)).toEqual({ test: "success", release: "canceled" });
      expect(await pipelineStatus(db, id)).toBe("canceled");
    });

    it("a job waiting for an input blocks the pipeline while nothing else runs; approving resumes it", async () => {
      const id = await start(
        db,
        plan([
          job("build"),
          job("ship", {
            needs: needs("build"),
            input: { message: "Ship?", ok: "Ship", parameters: [] },
          }),
        ]),
      );
      expect(await pipelineStatus(db, id)).toBe("running"); // build is queued
      expect(await runQueued(db, id)).toEqual(["build"]);
      expect(await jobs(db, id)).toEqual({ build: "success", ship: "input" });
      expect(await pipelineStatus(db, id)).toBe("blocked");
      expect(await decideInput(db, await idOf(db, id, "ship"), true, "alice", {})).toBe(true);
      expect(await pipelineStatus(db, id)).toBe("running");
      expect(await runQueued(db, id)).toEqual(["ship"]);
      expect(await pipelineStatus(db, id)).toBe("success");
    });

    it("a running job keeps the pipeline running even while a manual job blocks another branch", async () => {
      const id = await start(
        db,
        plan([
          job("gate", { when: "manual", allowFailure: false }),
          job("after-gate", { needs: needs("gate") }),
          job("long"),
        ]),
      );
      expect(await jobs(db, id)).toEqual({ gate: "manual", "after-gate": "created", long: "waiting" });
      expect(await pipelineStatus(db, id)).toBe("running");
      expect(await runQueued(db, id)).toEqual(["long"]);
      expect(await pipelineStatus(db, id)).toBe("blocked");
    });
  });
}
