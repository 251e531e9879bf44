import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { CompileResult } from "../../../src/pipeline/context.js";
import { compileGitlab } from "../../../src/pipeline/gitlab/index.js";
import { gitInfo } from "./helpers.js";

/** Compiles `source` as .gitlab-ci.yml of `dir`, with the parse cache under `dir/cache`. */
async function compileIn(
  dir: string,
  source: string,
  files: Record<string, string> = {},
): Promise<CompileResult> {
  writeFileSync(path.join(dir, ".gitlab-ci.yml"), source);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return compileGitlab({
    projectDir: dir,
    file: ".gitlab-ci.yml",
    source,
    variables: {},
    params: {},
    git: gitInfo({ root: dir }),
    libraries: [],
    cacheDir: path.join(dir, "cache"),
    env: {},
  });
}

function entries(dir: string): string[] {
  const parsed = path.join(dir, "cache", "parsed");
  return readdirSync(parsed).map((f) => path.join(parsed, f));
}

// Anchors, merge keys, !reference, a spec: header, numbers, booleans, null, odd key names,
// and an error found after parsing (its position must survive the cache).
const RICH = `spec:
  inputs:
    who: {default: world}
---
.base: &base
  image: alpine:3
  variables: {N: 1.5, ON: true, OFF: null, "1": one}
.setup:
  script: [echo setup]
stages: [build, test]
build:
  <<: *base
  stage: build
  script:
    - !reference [.setup, script]
    - echo hello $[[ inputs.who ]]
test:
  stage: test
  needs: [build]
  script: [echo test]
  retry: {max: 1, when: [script_failure]}
__proto__: {script: x}
broken:
  stage: test
  scirpt: [echo typo]
`;

describe("GitLab parse cache", () => {
  it("gives the same plan and the same diagnostics, positions included, from the cache", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-parse-cache-"));
    const cold = await compileIn(dir, RICH);
    expect(entries(dir)).toHaveLength(1);
    const warm = await compileIn(dir, RICH);
    expect(cold.diagnostics.some((d) => d.severity === "error" && d.line === 25)).toBe(true);
    expect(warm.diagnostics).toEqual(cold.diagnostics);
    // Other text: a miss (the entry holds the first text), then a hit.
    const valid = RICH.replace("  scirpt: [echo typo]", "  script: [echo fixed]");
    const coldPlan = (await compileIn(dir, valid)).plan;
    const warmPlan = (await compileIn(dir, valid)).plan;
    expect(coldPlan?.jobs.map((j) => j.id)).toEqual(["build", "test", "__proto__", "broken"]);
    expect(warmPlan).toEqual(coldPlan);
  });

  it("is used for the same text only, and a damaged entry is parsed again", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-parse-cache-"));
    const source = "job:\n  script: [echo original]\n";
    expect((await compileIn(dir, source)).plan?.jobs[0]?.steps).toBeDefined();
    // The entry is what a run with the same text uses: edit it and the edit shows.
    const [file] = entries(dir);
    writeFileSync(file!, readFileSync(file!, "utf8").replace("echo original", "echo from-cache"));
    const fromCache = await compileIn(dir, source);
    expect(JSON.stringify(fromCache.plan?.jobs[0]?.steps)).toContain("echo from-cache");
    // Other text: parsed afresh (and the entry replaced).
    const changed = await compileIn(dir, "job:\n  script: [echo changed]\n");
    expect(JSON.stringify(changed.plan?.jobs[0]?.steps)).toContain("echo changed");
    writeFileSync(file!, "{ not json");
    const damaged = await compileIn(dir, source);
    expect(JSON.stringify(damaged.plan?.jobs[0]?.steps)).toContain("echo original");
  });

  it("does not keep a parse that had warnings: they are reported on every compile", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-parse-cache-"));
    const source = "job:\n  script: [echo a]\n  script: [echo b]\n";
    const first = await compileIn(dir, source);
    const second = await compileIn(dir, source);
    expect(first.diagnostics.map((d) => d.code)).toContain("GL008");
    expect(second.diagnostics).toEqual(first.diagnostics);
  });
});
