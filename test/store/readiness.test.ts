import { describe, expect, it } from "vitest";
import {
  pipelineResult,
  readiness,
  unfinishedStatus,
  type NeededJob,
  type WaitingJob,
} from "../../src/store/readiness.js";

const j = (w: Partial<WaitingJob> = {}): WaitingJob => ({
  needs: [],
  needsMode: "explicit",
  when: "on_success",
  hasInput: false,
  ...w,
});
const n = (status: NeededJob["status"], allowFailure = false): NeededJob => ({ status, allowFailure });

describe("readiness", () => {
  const table: {
    name: string;
    job: WaitingJob;
    needs: (NeededJob | undefined)[];
    expected: ReturnType<typeof readiness>;
  }[] = [
    { name: "no needs", job: j(), needs: [], expected: { kind: "queue", delayed: false } },
    {
      name: "a need still running",
      job: j(),
      needs: [n("success"), n("running")],
      expected: { kind: "wait" },
    },
    {
      name: "a need waiting for input",
      job: j({ when: "always" }),
      needs: [n("input")],
      expected: { kind: "wait" },
    },
    {
      name: "needs failed",
      job: j(),
      needs: [n("failed")],
      expected: { kind: "skip", reason: "needs failed" },
    },
    {
      name: "allowed failure passes",
      job: j(),
      needs: [n("failed", true)],
      expected: { kind: "queue", delayed: false },
    },
    {
      name: "skipped and optional manual needs pass",
      job: j(),
      needs: [n("skipped"), n("manual", true)],
      expected: { kind: "queue", delayed: false },
    },
    {
      name: "a blocking manual need (allow_failure false) makes the job wait",
      job: j(),
      needs: [n("success"), n("manual", false)],
      expected: { kind: "wait" },
    },
    {
      name: "a blocking manual need holds even always and on_failure jobs",
      job: j({ when: "always" }),
      needs: [n("failed"), n("manual", false)],
      expected: { kind: "wait" },
    },
    {
      name: "canceled need counts as failed",
      job: j(),
      needs: [n("canceled")],
      expected: { kind: "skip", reason: "needs failed" },
    },
    {
      name: "on_failure after failure",
      job: j({ when: "on_failure" }),
      needs: [n("failed")],
      expected: { kind: "queue", delayed: false },
    },
    {
      name: "on_failure after success",
      job: j({ when: "on_failure" }),
      needs: [n("success")],
      expected: { kind: "skip", reason: "no earlier job failed" },
    },
    {
      name: "always after failure",
      job: j({ when: "always" }),
      needs: [n("failed")],
      expected: { kind: "queue", delayed: false },
    },
    { name: "manual", job: j({ when: "manual" }), needs: [n("success")], expected: { kind: "manual" } },
    {
      name: "manual after failure",
      job: j({ when: "manual" }),
      needs: [n("failed")],
      expected: { kind: "skip", reason: "needs failed" },
    },
    { name: "input", job: j({ hasInput: true }), needs: [], expected: { kind: "input" } },
    { name: "delayed", job: j({ when: "delayed" }), needs: [], expected: { kind: "queue", delayed: true } },
    {
      name: "missing optional need ignored",
      job: j(),
      needs: [undefined],
      expected: { kind: "queue", delayed: false },
    },
  ];
  for (const t of table) it(t.name, () => expect(readiness(t.job, t.needs)).toEqual(t.expected));
});

describe("pipelineResult", () => {
  it("is null while jobs are pending and ranks canceled > failed > unstable > success", () => {
    expect(pipelineResult([{ status: "waiting", allowFailure: false }])).toBeNull();
    expect(
      pipelineResult([
        { status: "success", allowFailure: false },
        { status: "skipped", allowFailure: false },
      ]),
    ).toBe("success");
    expect(pipelineResult([{ status: "failed", allowFailure: true }])).toBe("unstable");
    expect(pipelineResult([{ status: "unstable", allowFailure: false }])).toBe("unstable");
    expect(
      pipelineResult([
        { status: "failed", allowFailure: false },
        { status: "unstable", allowFailure: false },
      ]),
    ).toBe("failed");
    expect(
      pipelineResult([
        { status: "failed", allowFailure: false },
        { status: "canceled", allowFailure: false },
      ]),
    ).toBe("canceled");
  });
});

describe("unfinishedStatus", () => {
  it("is running while a job is queued or runs, blocked when only people can move it, null when done", () => {
    expect(unfinishedStatus([n("waiting"), n("manual", false)])).toBe("running");
    expect(unfinishedStatus([n("running"), n("input")])).toBe("running");
    expect(unfinishedStatus([n("success"), n("manual", false), n("created")])).toBe("blocked");
    expect(unfinishedStatus([n("success"), n("input"), n("created")])).toBe("blocked");
    expect(unfinishedStatus([n("success"), n("manual", true)])).toBeNull();
    expect(unfinishedStatus([n("failed"), n("skipped")])).toBeNull();
  });
});
