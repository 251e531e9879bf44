import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/engine/events.js";
import { job, plan, run } from "./helpers.js";

const finishedOrder = (events: RunEvent[]) =>
  events.flatMap((e) =>
    e.type === "job.status" && (e.status === "success" || e.status === "failed") ? [e.jobId] : [],
  );

describe("scheduling", () => {
  it("starts a job as soon as its needs are met, not in stage waves", async () => {
    const r = await run(
      plan([
        job("slow", { stage: "build", steps: ["sleep 0.6"] }),
        job("fast", { stage: "build", steps: ["true"] }),
        job("after-fast", { stage: "test", after: ["fast"], steps: ["true"] }),
      ]),
    );
    expect(r.status).toBe("success");
    const order = finishedOrder(r.events);
    expect(order.indexOf("after-fast")).toBeLessThan(order.indexOf("slow"));
  });

  it("never runs more jobs at once than the concurrency limit", async () => {
    let running = 0;
    let peak = 0;
    const r = await run(plan(["a", "b", "c", "d", "e"].map((id) => job(id, { steps: ["sleep 0.2"] }))), {
      concurrency: 2,
      onEvent: (e) => {
        if (e.type !== "job.status") return;
        if (e.status === "running") peak = Math.max(peak, ++running);
        if (e.status === "success") running--;
      },
    });
    expect(r.status).toBe("success");
    expect(peak).toBe(2);
  });

  it("skips on_success dependents of a failed job, runs on_failure and always jobs", async () => {
    const r = await run(
      plan([
        job("build", { steps: ["echo building", "exit 3"] }),
        job("test", { after: ["build"], steps: ["echo should not run"] }),
        job("deploy", { after: ["test"], steps: ["echo should not run"] }),
        job("notify", { after: ["build"], when: "on_failure", steps: ["echo build broke"] }),
        job("cleanup", { after: ["deploy"], when: "always", steps: ["echo cleaning"] }),
      ]),
    );
    expect(r.status).toBe("failed");
    expect(r.of("build")).toBe("failed");
    expect(r.jobs.get("build")?.exitCode).toBe(3);
    expect(r.of("test")).toBe("skipped");
    expect(r.of("deploy")).toBe("skipped");
    expect(r.log("notify")).toContain("build broke");
    expect(r.log("cleanup")).toContain("cleaning");
    expect(r.log("test")).toEqual([]);
  });

  it("lets allowed failures through and reports them", async () => {
    const r = await run(
      plan([
        job("lint", { allowFailure: true, steps: ["exit 1"] }),
        job("test", { after: ["lint"], steps: ["echo ok"] }),
      ]),
    );
    expect(r.status).toBe("success");
    expect(r.jobs.get("lint")).toMatchObject({ status: "failed", allowedFailure: true });
    expect(r.log("test")).toContain("ok");
  });

  it("only allows the listed exit codes to fail", async () => {
    const r = await run(
      plan([job("a", { allowFailure: true, allowFailureExitCodes: [42], steps: ["exit 1"] })]),
    );
    expect(r.status).toBe("failed");
  });

  it("retries a failed job up to retry.max and succeeds on a later attempt", async () => {
    const marker = `/tmp/gantry-retry-${process.pid}-${Date.now()}`;
    const r = await run(
      plan([
        job("flaky", {
          retry: { max: 2, when: [] },
          steps: [`if [ -f ${marker} ]; then echo second; else touch ${marker}; exit 1; fi`],
        }),
      ]),
    );
    expect(r.status).toBe("success");
    expect(r.jobs.get("flaky")?.attempts).toBe(2);
  });

  it.each([
    ["made afresh", false],
    ["kept between runs", true],
  ])("gives a retried job a fresh workspace, without the failed attempt's files (%s)", async (_, keep) => {
    const marker = `/tmp/gantry-retry-ws-${process.pid}-${Date.now()}-${keep}`;
    const projectDir = mkdtempSync(path.join(os.tmpdir(), "gantry-retry-"));
    const pool = keep ? { workspacePool: path.join(projectDir, ".gantry/builds/idle") } : {};
    const r = await run(
      plan([
        job("flaky", {
          retry: { max: 1, when: [] },
          steps: [
            `if [ -f leftover.txt ]; then echo "saw leftover"; fi; touch leftover.txt; if [ -f ${marker} ]; then echo second; else touch ${marker}; exit 1; fi`,
          ],
        }),
      ]),
      { projectDir, ...pool },
    );
    expect(r.status).toBe("success");
    expect(r.log("flaky")).toContain("second");
    expect(r.log("flaky")).not.toContain("saw leftover");
  });

  it.each([
    ["a small project (written from memory)", 3],
    ["a larger one (copied)", 40],
  ])("starts each job's workspace as an exact copy of %s: contents, folders, modes", async (_, extra) => {
    const projectDir = mkdtempSync(path.join(os.tmpdir(), "gantry-ws-"));
    mkdirSync(path.join(projectDir, "bin/deep"), { recursive: true });
    writeFileSync(path.join(projectDir, "bin/deep/tool.sh"), "#!/bin/sh\necho tool ran\n", { mode: 0o750 });
    writeFileSync(path.join(projectDir, "readonly.txt"), "keep\n", { mode: 0o444 });
    for (let i = 0; i < extra; i++) writeFileSync(path.join(projectDir, `f${i}.txt`), `file ${i}\n`);
    const r = await run(
      plan(
        ["one", "two"].map((id) =>
          job(id, {
            steps: [
              `./bin/deep/tool.sh; stat -c '%a %n' bin/deep/tool.sh readonly.txt; cat f2.txt; ls | wc -l; echo changed >> f0.txt`,
            ],
          }),
        ),
      ),
      { projectDir },
    );
    expect(r.status).toBe("success");
    for (const id of ["one", "two"]) {
      expect(r.log(id)).toEqual(
        expect.arrayContaining([
          "tool ran",
          "750 bin/deep/tool.sh",
          "444 readonly.txt",
          "file 2",
          String(extra + 2),
        ]),
      );
    }
    // A job's changes stay in its workspace.
    expect(readFileSync(path.join(projectDir, "f0.txt"), "utf8")).toBe("file 0\n");
  });

  it("gives jobs whose names differ only in punctuation workspaces of their own", async () => {
    const steps = (me: string) => [`touch mine-${me}; sleep 0.2; ls`];
    const r = await run(
      plan([job("build:docs", { steps: steps("colon") }), job("build-docs", { steps: steps("dash") })]),
    );
    expect(r.status).toBe("success");
    expect(r.log("build:docs")).toContain("mine-colon");
    expect(r.log("build:docs")).not.toContain("mine-dash");
    expect(r.log("build-docs")).toContain("mine-dash");
    expect(r.log("build-docs")).not.toContain("mine-colon");
  });

  it("logs a command's stdout and stderr in the order they were written", async () => {
    const r = await run(
      plan([job("mixed", { steps: ["echo one; echo two >&2; echo three; echo four >&2"] })]),
    );
    expect(r.status).toBe("success");
    expect(r.log("mixed")).toEqual(expect.arrayContaining(["one", "two", "three", "four"]));
    const lines = r.log("mixed").filter((l) => ["one", "two", "three", "four"].includes(l));
    expect(lines).toEqual(["one", "two", "three", "four"]);
  });

  it("does not finish the run early when unplayed manual jobs precede a job (each job counts once)", async () => {
    const r = await run(
      plan([
        job("pre", { when: "manual", steps: ["echo pre"] }),
        job("build", { when: "manual", after: ["pre"], steps: ["echo build"] }),
        job("deploy", { after: ["build"], steps: ["sleep 0.2", "echo deployed"] }),
      ]),
    );
    expect(r.of("pre")).toBe("manual");
    expect(r.of("build")).toBe("manual");
    expect(r.of("deploy")).toBe("success");
    expect(r.log("deploy")).toContain("deployed");
    const manualEvents = r.events.filter((e) => e.type === "job.status" && e.status === "manual");
    expect(manualEvents).toHaveLength(2);
    expect(r.events.at(-1)?.type).toBe("run.finished");
  });

  it("a false condition skips the job but not its dependents", async () => {
    const r = await run(
      plan([
        job("deploy", {
          condition: { kind: "branch", pattern: "release/*", comparator: "GLOB" },
          steps: ["echo deploying"],
        }),
        job("after", { after: ["deploy"], steps: ["echo after"] }),
      ]),
      {
        git: {
          ...(await import("../../src/pipeline/git.js")).emptyGitInfo("/"),
          isRepo: true,
          branch: "main",
        },
      },
    );
    expect(r.of("deploy")).toBe("skipped");
    expect(r.log("after")).toContain("after");
  });

  it("does not run manual jobs unless played", async () => {
    const p = plan([job("release", { when: "manual", allowFailure: true, steps: ["echo released"] })]);
    expect((await run(p)).of("release")).toBe("manual");
    const played = await run(p, { manual: new Set(["release"]) });
    expect(played.log("release")).toContain("released");
  });

  it("aborts the other branches of a failFast group", async () => {
    const r = await run(
      plan([
        job("a", { failFastGroup: "g", steps: ["sleep 0.2; exit 1"] }),
        job("b", { failFastGroup: "g", steps: ["sleep 20"] }),
      ]),
    );
    expect(r.of("a")).toBe("failed");
    expect(r.of("b")).toBe("canceled");
    expect(r.durationMs).toBeLessThan(10_000);
  });
});

describe("jobs", () => {
  it("kills the whole process tree on timeout", async () => {
    const tag = `${Date.now() % 100000}.${process.pid % 1000}`;
    const started = Date.now();
    const r = await run(plan([job("hang", { timeoutMs: 800, steps: [`sleep ${tag}1 & sleep ${tag}2`] })]));
    expect(r.of("hang")).toBe("failed");
    expect(r.jobs.get("hang")?.reason).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(8_000);
    await new Promise((res) => setTimeout(res, 300));
    const left = execFileSync("sh", ["-c", `pgrep -f "slee[p] ${tag}" || true`])
      .toString()
      .trim();
    expect(left).toBe("");
  });

  it("masks secrets even when they are split across output chunks", async () => {
    const r = await run(
      plan([
        job("leak", {
          variables: { TOKEN: { kind: "value", value: "s3cr3t-value-42", masked: true } },
          steps: ['printf "s3cr3t-"; sleep 0.2; printf "value-42 and $TOKEN\\n"'],
        }),
      ]),
    );
    const log = r.log("leak").join("\n");
    expect(log).toContain("[MASKED] and [MASKED]");
    expect(log).not.toContain("s3cr3t");
  });

  it("injects credentials and masks them", async () => {
    const r = await run(
      plan([
        job("deploy", {
          variables: { PW: { kind: "credential", id: "db", part: "password" } },
          steps: ['echo "pw=$PW"'],
        }),
      ]),
      {
        secrets: async (id) =>
          id === "db"
            ? { kind: "usernamePassword", username: "admin", password: "hunter2-hunter2" }
            : undefined,
      },
    );
    expect(r.log("deploy")).toContain("pw=[MASKED]");
  });

  it("binds withCredentials secrets to variables and files, masked, outside the workspace", async () => {
    const r = await run(
      plan([
        job("deploy", {
          steps: [
            {
              kind: "withCredentials",
              bindings: [
                {
                  kind: "usernamePassword",
                  credentialsId: "db",
                  usernameVariable: "U",
                  passwordVariable: "P",
                },
                { kind: "file", credentialsId: "key", variable: "KEYFILE" },
                { kind: "string", credentialsId: "tok", variable: "TOKEN" },
              ],
              steps: [
                {
                  kind: "sh",
                  script:
                    'echo "u=$U p=$P t=$TOKEN"; cat "$KEYFILE"; echo; case "$KEYFILE" in "$PWD"/*) echo inside;; *) echo outside;; esac',
                },
              ],
            },
          ],
        }),
      ]),
      {
        secrets: async (id) =>
          id === "db"
            ? { kind: "usernamePassword", username: "admin", password: "pa55-word-x" }
            : id === "key"
              ? { kind: "file", value: "-----KEY-material-123" }
              : id === "tok"
                ? { kind: "secret", value: "tok-abcdef-99" }
                : undefined,
      },
    );
    expect(r.log("deploy")).toEqual(
      expect.arrayContaining(["u=admin p=[MASKED] t=[MASKED]", "[MASKED]", "outside"]),
    );
    expect(r.log("deploy").join("\n")).not.toMatch(/pa55|KEY-material|abcdef/);
  });

  it("passes artifacts to dependent jobs with fresh workspaces", async () => {
    const r = await run(
      plan([
        job("build", {
          steps: ["mkdir -p out && echo v1 > out/app.txt && echo junk > out/tmp.log"],
          artifacts: {
            paths: ["out/"],
            exclude: ["out/*.log"],
            when: "on_success",
            reports: { junit: [], dotenv: [] },
          },
        }),
        job("test", {
          after: ["build"],
          artifactsFrom: ["build"],
          steps: ["cat out/app.txt", "test ! -f out/tmp.log"],
        }),
      ]),
    );
    expect(r.status).toBe("success");
    expect(r.log("test")).toContain("v1");
  });

  it("runs post conditions in Jenkins order against the job's result", async () => {
    const r = await run(
      plan([
        job("build", {
          steps: [{ kind: "unstable", message: "flaky tests" }],
          post: {
            always: [{ kind: "echo", message: "always" }],
            success: [{ kind: "echo", message: "success" }],
            unstable: [{ kind: "echo", message: "unstable" }],
            cleanup: [{ kind: "echo", message: "cleanup" }],
          },
        }),
      ]),
    );
    expect(r.of("build")).toBe("unstable");
    const lines = r.log("build").filter((l) => ["always", "success", "unstable", "cleanup"].includes(l));
    expect(lines).toEqual(["always", "unstable", "cleanup"]);
  });

  it("asks for approval and exposes input parameters", async () => {
    const p = plan([
      job("deploy", {
        input: {
          message: "Ship it?",
          ok: "Ship",
          parameters: [{ name: "TARGET", type: "string", default: "eu" }],
        },
        steps: ['echo "to $TARGET"'],
      }),
    ]);
    const ok = await run(p, {
      approvals: async () => ({ approved: true, by: "alice", params: { TARGET: "us" } }),
    });
    expect(ok.log("deploy")).toContain("to us");
    const no = await run(p, { approvals: async () => ({ approved: false, by: "bob", params: {} }) });
    expect(no.of("deploy")).toBe("canceled");
    expect(no.log("deploy")).not.toContain("to us");
  });

  it("cancels running jobs and leaves no process behind", async () => {
    const ac = new AbortController();
    const tag = `77${Date.now() % 10000}`;
    setTimeout(() => ac.abort(), 500);
    const r = await run(
      plan([job("long", { steps: [`sleep ${tag}`] }), job("next", { after: ["long"], steps: ["echo no"] })]),
      { signal: ac.signal },
    );
    expect(r.status).toBe("canceled");
    expect(r.of("long")).toBe("canceled");
    expect(r.of("next")).toBe("canceled");
    await new Promise((res) => setTimeout(res, 200));
    expect(
      execFileSync("sh", ["-c", `pgrep -f "slee[p] ${tag}" || true`])
        .toString()
        .trim(),
    ).toBe("");
  });

  it("keeps file steps inside the workspace and runs GitLab scripts with echo", async () => {
    const r = await run(
      plan([
        job("files", {
          steps: [
            { kind: "writeFile", file: "a/b.txt", text: "hello" },
            { kind: "dir", path: "a", steps: [{ kind: "sh", script: "cat b.txt; echo" }] },
            { kind: "script", commands: ["echo one", "false", "echo never"] },
          ],
        }),
      ]),
    );
    expect(r.log("files")).toEqual(expect.arrayContaining(["hello", "$ echo one", "one", "$ false"]));
    expect(r.log("files")).not.toContain("never");
    expect(r.of("files")).toBe("failed");
  });

  it("extracts coverage with the job's regex and summarises JUnit reports", async () => {
    const xml =
      '<testsuite name="s"><testcase name="a"/><testcase name="b"><failure message="boom"/></testcase></testsuite>';
    const r = await run(
      plan([
        job("unit", {
          coverage: "/Lines:\\s+(\\d+\\.\\d+)%/",
          steps: ["echo 'Lines: 81.25% (13/16)'", `printf '%s' '${xml}' > report.xml`],
          artifacts: {
            paths: [],
            exclude: [],
            when: "always",
            reports: { junit: ["report.xml"], dotenv: [] },
          },
        }),
      ]),
    );
    const done = r.events.find((e) => e.type === "job.status" && e.status === "success");
    expect(done).toMatchObject({ coverage: 81.25 });
    expect(r.log("unit")).toContain("Test report: 2 tests, 1 failures, 0 errors, 0 skipped");
  });

  it("runs engine steps without an agent and explains why a shell step cannot", async () => {
    const none = { kind: "none" as const, labels: [] };
    const r = await run(
      plan([
        job("notify", { executor: none, steps: [{ kind: "echo", message: "no agent needed" }] }),
        job("build", { executor: none, after: ["notify"], steps: ["make"] }),
      ]),
    );
    expect(r.log("notify")).toContain("no agent needed");
    expect(r.of("build")).toBe("failed");
    expect(r.log("build").join("\n")).toMatch(/agent none/);
  });

  it("extends PATH with a self-reference instead of breaking it", async () => {
    const r = await run(
      plan([
        job("p", {
          variables: { PATH: { kind: "value", value: "/opt/gantry-test/bin:${PATH}" } },
          steps: ['echo "$PATH"', "cut --version >/dev/null"],
        }),
      ]),
    );
    expect(r.of("p")).toBe("success");
    expect(r.log("p")[0]).toBe(`/opt/gantry-test/bin:${process.env.PATH}`);
  });

  it("catchError with buildResult SUCCESS fails the stage but not the pipeline", async () => {
    const r = await run(
      plan([
        job("risky", {
          steps: [
            {
              kind: "catchError",
              buildResult: "SUCCESS",
              stageResult: "FAILURE",
              steps: [{ kind: "sh", script: "exit 1" }],
            },
          ],
        }),
        job("next", { after: ["risky"], steps: ["echo next ran"] }),
      ]),
    );
    expect(r.of("risky")).toBe("failed");
    expect(r.log("next")).toContain("next ran");
    expect(r.status).toBe("success");
  });

  it("runs GitLab scripts in bash, isolated from Gantry's own shell, and kills their tree on timeout", async () => {
    const tag = `5${Date.now() % 100000}`;
    const r = await run(
      plan([
        job("bashy", {
          steps: [
            {
              kind: "script",
              commands: [
                '[[ "a" == a ]] && echo bash-ok',
                'echo "leak=[${__gz_id}${__gz_dir}${__gz_script}]"',
              ],
            },
          ],
        }),
        job("hang", {
          timeoutMs: 800,
          steps: [{ kind: "script", commands: [`sleep ${tag}1 & sleep ${tag}2`] }],
        }),
      ]),
    );
    expect(r.log("bashy")).toEqual(expect.arrayContaining(["bash-ok", "leak=[]"]));
    expect(r.of("hang")).toBe("failed");
    await new Promise((res) => setTimeout(res, 300));
    expect(
      execFileSync("sh", ["-c", `pgrep -f "slee[p] ${tag}" || true`])
        .toString()
        .trim(),
    ).toBe("");
  });

  it("shares a workspace between jobs with the same workspace key", async () => {
    const r = await run(
      plan([
        job("one", { workspace: "pipeline", steps: ["echo data > shared.txt"] }),
        job("two", { workspace: "pipeline", after: ["one"], steps: ["cat shared.txt"] }),
      ]),
    );
    expect(r.log("two")).toContain("data");
    expect(existsSync(path.join(r.projectDir, "shared.txt"))).toBe(false);
    writeFileSync(path.join(r.projectDir, "x"), "");
  });
});
