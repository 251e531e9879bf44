/**
 * gantry convert: Jenkinsfiles (the corpus) to gantry.yml and .gitlab-ci.yml, compiled back
 * with Gantry's own gantry.yml and GitLab frontends: same jobs, same DAG, same steps.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { LibrarySource } from "../../../src/pipeline/context.js";
import { convertPlan, LOSSY } from "../../../src/pipeline/convert/index.js";
import { compileJenkinsfile } from "../../../src/pipeline/jenkins/index.js";
import { loadPipeline } from "../../../src/pipeline/load.js";
import type { Plan, Step } from "../../../src/pipeline/plan.js";
import { context, corpusDir, gitLibrary } from "./helpers.js";

const index = JSON.parse(readFileSync(path.join(corpusDir, "index.json"), "utf8")) as {
  file: string;
  kind: string;
}[];
const samples = index.filter((s) => s.kind !== "DECL+SCRIPT").map((s) => s.file);
let libraries: LibrarySource[] = [];

beforeAll(() => {
  libraries = [
    gitLibrary("echo-utils", { "vars/myecho.groovy": "def call() {\n  echo 'from echo-utils'\n}\n" }),
    gitLibrary("whereFrom", { "vars/whereFrom.groovy": "def call() {\n  echo 'where'\n}\n" }),
  ];
});

async function jenkinsPlan(file: string): Promise<Plan> {
  const r = await compileJenkinsfile(
    context(readFileSync(path.join(corpusDir, file), "utf8"), { file, libraries }),
  );
  return r.plan!;
}

async function reload(text: string, name: string): Promise<{ plan?: Plan; errors: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), "gantry-conv-"));
  writeFileSync(path.join(dir, name), text);
  const r = await loadPipeline({ projectDir: dir, file: name });
  return {
    ...(r.plan ? { plan: r.plan } : {}),
    errors: r.diagnostics
      .filter((d) => d.severity === "error")
      .map((d) => `${d.line}:${d.column} ${d.message}`),
  };
}

function shape(steps: Step[]): unknown[] {
  return steps.map((s) => {
    const { loc: _loc, ...rest } = s as Step & { steps?: Step[] };
    return "steps" in rest && Array.isArray(rest.steps) ? { ...rest, steps: shape(rest.steps) } : rest;
  });
}

describe("gantry convert --to gantry", () => {
  for (const file of samples) {
    it(`${file}: the gantry.yml compiles to the same jobs, needs and steps`, async () => {
      const plan = await jenkinsPlan(file);
      const text = convertPlan(plan, "gantry");
      const back = await reload(text, "gantry.yml");
      expect(back.errors, text).toEqual([]);
      expect(back.plan!.jobs.map((j) => [j.id, j.needs.map((n) => n.job).sort()])).toEqual(
        plan.jobs.map((j) => [j.id, j.needs.map((n) => n.job).sort()]),
      );
      for (const j of plan.jobs) {
        const b = back.plan!.jobs.find((x) => x.id === j.id)!;
        expect(shape(b.steps), j.id).toEqual(shape(j.steps));
        expect(b.condition, j.id).toEqual(j.condition);
      }
    });
  }

  it("writes a comment for what gantry.yml cannot say", async () => {
    const text = convertPlan(await jenkinsPlan("jpu__Declarative_Jenkinsfile.Jenkinsfile"), "gantry");
    expect(text).toContain(`# ${LOSSY} buildDiscarder {"strategy":"logRotator","numToKeepStr":"10"}`);
  });
});

describe("gantry convert --to gitlab", () => {
  for (const file of samples) {
    it(`${file}: the .gitlab-ci.yml compiles with the GitLab frontend`, async () => {
      const plan = await jenkinsPlan(file);
      const text = convertPlan(plan, "gitlab");
      const back = await reload(text, ".gitlab-ci.yml");
      expect(back.errors, text).toEqual([]);
      // Jobs with rules may be left out at compile time (no branch here); the others must be there.
      const ids = plan.jobs.filter((j) => !j.condition).map((j) => j.id);
      for (const id of ids)
        expect(
          back.plan!.jobs.map((j) => j.id),
          text,
        ).toContain(id);
    });
  }

  it("turns branch conditions into rules and notes what it cannot express", async () => {
    const text = convertPlan(await jenkinsPlan("pmd__when_whenBranch.groovy"), "gitlab");
    expect(text).toContain("if: $CI_COMMIT_BRANCH =~ /^release-[^/]*$/");
    expect(text).toContain('if: $CI_COMMIT_BRANCH == "master"');
    const expr = convertPlan(await jenkinsPlan("pmd__when_whenBeforeOptionsTrue.groovy"), "gitlab");
    expect(expr).toContain(`# ${LOSSY} when condition expression "return false"`);
  });
});

describe("gantry convert from .gitlab-ci.yml (the GitLab corpus)", () => {
  const gitlabCorpus = path.resolve(corpusDir, "../gitlab");
  const cases = readdirSync(gitlabCorpus).filter((c) =>
    existsSync(path.join(gitlabCorpus, c, ".gitlab-ci.yml")),
  );

  it("converts every case that compiles to gantry.yml and .gitlab-ci.yml that compile again, with the same jobs and needs", async () => {
    let converted = 0;
    for (const c of cases) {
      const src = await loadPipeline({ projectDir: path.join(gitlabCorpus, c), file: ".gitlab-ci.yml" });
      if (!src.plan) continue;
      for (const to of ["gantry", "gitlab"] as const) {
        const back = await reload(
          convertPlan(src.plan, to),
          to === "gantry" ? "gantry.yml" : ".gitlab-ci.yml",
        );
        expect(back.errors, `${c} → ${to}`).toEqual([]);
        if (to === "gantry" && src.plan.jobs.length > 0) {
          const needs = (p: Plan) => p.jobs.map((j) => [j.id, j.needs.map((n) => n.job).sort()]).sort();
          expect(needs(back.plan!), c).toEqual(needs(src.plan));
        }
      }
      converted++;
    }
    expect(converted).toBeGreaterThan(40);
  });
});
