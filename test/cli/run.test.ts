import { spawn, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { gantry, gantryBin, project } from "./helpers.js";

const pipeline = `pipeline:
  agent: any
  stages:
    - stage: Build
      steps:
        - sh: echo "building $GREETING"
    - stage: Test
      steps:
        - sh: echo testing
`;

describe("gantry run", () => {
  it("runs a pipeline and prints job-prefixed lines and a summary (exit 0)", async () => {
    const dir = project({ "gantry.yml": pipeline });
    const r = await gantry(["run", "--variable", "GREETING=world"], dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Build\s+> building world$/m);
    expect(r.stdout).toMatch(/^Test\s+> testing$/m);
    expect(r.stdout).toMatch(/^ PASS\s+Build/m);
    expect(r.stdout).toMatch(/pipeline success/);
    expect(existsSync(path.join(dir, ".gantry/runs/1/build.log"))).toBe(true);
    expect(existsSync(path.join(dir, ".gantry/runs/1/events.jsonl"))).toBe(true);
  });

  it("gives runs started at once their own ids and logs; ids keep counting", async () => {
    const dir = project({ ".gitlab-ci.yml": "job:\n  script: [echo run $GANTRY_RUN_ID]\n" });
    const runs = await Promise.all([1, 2, 3].map(() => gantry(["run"], dir)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const ids = runs.map((r) => /job > run (\d+)/.exec(r.stdout)?.[1]).sort();
    expect(ids).toEqual(["1", "2", "3"]);
    for (const id of ids)
      expect(readFileSync(path.join(dir, `.gantry/runs/${id}/job.log`), "utf8")).toContain(`run ${id}`);
    const next = await gantry(["run"], dir);
    expect(next.stdout).toContain("job > run 4");
    // A damaged counter: the next free id, nothing overwritten.
    writeFileSync(path.join(dir, ".gantry/runs/last-id"), "not a number");
    const after = await gantry(["run"], dir);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain("job > run 5");
    expect(readFileSync(path.join(dir, ".gantry/runs/1/job.log"), "utf8")).toContain("run 1");
  });

  it("writes a log of its own for each job, also for names that differ only in punctuation", async () => {
    const dir = project({
      ".gitlab-ci.yml": "lint:docs:\n  script: [echo from colon]\nlint-docs:\n  script: [echo from dash]\n",
    });
    expect((await gantry(["run"], dir)).code).toBe(0);
    const logs = readdirSync(path.join(dir, ".gantry/runs/1")).filter((f) => f.endsWith(".log"));
    expect(logs).toHaveLength(2);
    const texts = logs.map((f) => readFileSync(path.join(dir, ".gantry/runs/1", f), "utf8")).sort();
    expect(texts[0]).toContain("from colon");
    expect(texts[0]).not.toContain("from dash");
    expect(texts[1]).toContain("from dash");
  });

  it("removes the run's workspaces once it finished, also without the zygote", async () => {
    for (const env of [{}, { GANTRY_NO_SPAWNER: "1" }] as Record<string, string>[]) {
      const dir = project({ "gantry.yml": pipeline });
      const r = await gantry(["run"], dir, env);
      expect(r.code).toBe(0);
      const builds = path.join(dir, ".gantry/builds/1");
      // The zygote removes them in the background, possibly just after Gantry exited.
      for (let i = 0; i < 50 && existsSync(builds); i++) await new Promise((res) => setTimeout(res, 100));
      expect(existsSync(builds)).toBe(false);
      expect(existsSync(path.join(dir, ".gantry/runs/1/build.log"))).toBe(true);
    }
  });

  it("runs GitLab scripts with pipefail: a failing command in a pipe fails the job", async () => {
    for (const env of [{}, { GANTRY_NO_SPAWNER: "1" }] as Record<string, string>[]) {
      const dir = project({ ".gitlab-ci.yml": 'job:\n  script:\n    - "false | true"\n    - echo after\n' });
      const r = await gantry(["run"], dir, env);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^job\s+> \$ false \| true$/m);
      expect(r.stdout).not.toMatch(/^job\s+> after$/m);
    }
  });

  it("exits 1 when the pipeline fails, and shows why", async () => {
    const dir = project({ "gantry.yml": pipeline.replace("echo testing", "exit 4") });
    const r = await gantry(["run"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ FAIL\s+Test.*exit code 4/m);
  });

  it("exits 2 on an invalid file with file:line:column and starts nothing", async () => {
    const dir = project({
      "gantry.yml": pipeline.replace("steps:\n        - sh: echo testing", "stepz: [x]"),
    });
    const r = await gantry(["run"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gantry\.yml:8:7: error\[unknown-key\]: unknown key "stepz"/);
    expect(r.stderr).toMatch(/hint: did you mean "steps"\?/);
    expect(r.stdout).not.toMatch(/started/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it("exits 2 when there is no pipeline file, or a job does not exist", async () => {
    const empty = project({ "README.md": "x" });
    const r = await gantry(["run"], empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no pipeline file found/);
    const dir = project({ "gantry.yml": pipeline });
    const r2 = await gantry(["run", "--job", "Nope"], dir);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/Nope could not be found/);
  });

  it("selects jobs with --job and adds their needs with --needs", async () => {
    const dir = project({ "gantry.yml": pipeline });
    const only = await gantry(["run", "--job", "Test"], dir);
    expect(only.stdout).not.toMatch(/building/);
    expect(only.stdout).toMatch(/testing/);
    const withNeeds = await gantry(["run", "--job", "Test", "--needs"], dir);
    expect(withNeeds.stdout).toMatch(/building/);
  });

  it("prints one JSON event per line with --json", async () => {
    const dir = project({ "gantry.yml": pipeline });
    const r = await gantry(["run", "--json"], dir);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; text?: string });
    expect(events[0]!.type).toBe("run.started");
    expect(events.at(-1)!.type).toBe("run.finished");
    expect(events.some((e) => e.type === "log" && e.text === "testing")).toBe(true);
  });

  it("honours NO_COLOR and FORCE_COLOR", async () => {
    const dir = project({ "gantry.yml": pipeline });
    expect((await gantry(["run"], dir)).stdout).not.toContain("\x1b[");
    expect((await gantry(["run"], dir, { NO_COLOR: "", FORCE_COLOR: "1" })).stdout).toContain("\x1b[");
  });

  it("cancels on Ctrl-C, cleans up its processes and exits 130", async () => {
    const tag = `4${Date.now() % 100000}`;
    const dir = project({
      "gantry.yml": `pipeline:\n  stages:\n    - stage: Long\n      steps: ["sleep ${tag}"]\n`,
    });
    const child = spawn(gantryBin, ["run"], {
      cwd: dir,
      env: { ...process.env, CI: "true" },
    });
    let out = "";
    let sent = false;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      // One Ctrl-C: a second one after the run ended would find the default SIGINT action.
      if (out.includes("started") && !sent) sent = child.kill("SIGINT");
    });
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code).toBe(130);
    expect(out).toMatch(/pipeline canceled/);
    expect(
      execFileSync("sh", ["-c", `pgrep -f "slee[p] ${tag}" || true`])
        .toString()
        .trim(),
    ).toBe("");
  });
});

describe("gantry validate, plan, list", () => {
  it("validate prints diagnostics as JSON and exits 2 on errors", async () => {
    const dir = project({ "gantry.yml": "pipeline:\n  stages:\n    - stage: A\n      steps: [{ech: hi}]\n" });
    const r = await gantry(["validate", "--format", "json"], dir);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as {
      valid: boolean;
      diagnostics: { code: string; line: number; column: number; hint: string }[];
    };
    expect(out.valid).toBe(false);
    expect(out.diagnostics[0]).toMatchObject({ code: "unknown-step", line: 4, hint: 'did you mean "echo"?' });
  });

  it("validate says a good file is valid (exit 0)", async () => {
    const r = await gantry(["validate"], project({ "gantry.yml": pipeline }));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gantry\.yml: valid gantry pipeline, 2 jobs/);
  });

  it("plan prints a versioned JSON Plan; list prints the jobs", async () => {
    const dir = project({ "gantry.yml": pipeline });
    const plan = JSON.parse((await gantry(["plan"], dir)).stdout) as {
      version: number;
      jobs: { id: string }[];
    };
    expect(plan.version).toBe(1);
    expect(plan.jobs.map((j) => j.id)).toEqual(["Build", "Test"]);
    const list = await gantry(["list"], dir);
    expect(list.stdout).toMatch(/^Test\s+Test\s+on_success\s+Build$/m);
  });
});

describe("gantry.yml with shared libraries", () => {
  it("runs a uses: step from a library's vars/<name>.yml with typed arguments", async () => {
    const lib = project({
      "vars/greet.yml": `description: Greets someone
parameters:
  who: {type: string, required: true}
  times: {type: number, default: 2}
steps:
  - sh: 'for i in $(seq \${args.times}); do echo "hello \${args.who}"; done'
`,
    });
    const dir = project({
      "gantry.yml": `pipeline:
  stages:
    - stage: Greet
      steps:
        - uses: acme/greet
          with: {who: world}
`,
    });
    const r = await gantry(["run", "--library", `acme=${lib}`], dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^Greet > hello world$/gm)?.length).toBe(2);

    const bad = project({
      "gantry.yml": `pipeline:\n  stages:\n    - stage: G\n      steps:\n        - uses: acme/greet\n          with: {whom: x}\n`,
    });
    const r2 = await gantry(["validate", "--library", `acme=${lib}`], bad);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/gantry\.yml:5:\d+: error.*has no parameter "whom"/);
  });
});

describe("manual jobs", () => {
  it("plays a manual job named with --job, and not otherwise", async () => {
    const dir = project({
      ".gitlab-ci.yml": `release:\n  when: manual\n  script: [echo releasing]\nbuild:\n  script: [echo building]\n`,
    });
    const all = await gantry(["run"], dir);
    expect(all.code).toBe(0);
    expect(all.stdout).not.toMatch(/releasing/);
    expect(all.stdout).toMatch(/^ MANL\s+release/m);
    const named = await gantry(["run", "--job", "release"], dir);
    expect(named.stdout).toMatch(/^release > releasing$/m);
  });
});
