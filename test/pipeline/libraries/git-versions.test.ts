import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileJenkinsfile } from "../../../src/pipeline/jenkins/index.js";
import { parseLibraryFlag } from "../../../src/pipeline/libraries/config.js";
import type { Plan, Step } from "../../../src/pipeline/plan.js";
import { context, git, writeTree } from "../jenkins/helpers.js";

let libDir: string;
let v1Commit: string;

/** A real git repository with tags v1 and v2 whose `deploy` step differs. */
beforeAll(() => {
  libDir = mkdtempSync(path.join(tmpdir(), "gantry-mylib-"));
  git(libDir, "init", "-q", "-b", "main");
  writeTree(libDir, {
    "vars/deploy.groovy": `def call(Map args = [:]) {\n  sh "deploy-v1 --to \${args.target ?: 'staging'}"\n}\n`,
    "vars/withBanner.groovy": "def call(Closure body) {\n  echo 'begin'\n  body()\n  echo 'end'\n}\n",
    "resources/motd.txt": "welcome v1",
  });
  git(libDir, "add", "-A");
  git(libDir, "commit", "-q", "-m", "v1");
  git(libDir, "tag", "v1");
  v1Commit = git(libDir, "rev-parse", "HEAD");
  writeTree(libDir, {
    "vars/deploy.groovy": `def call(Map args = [:]) {\n  echo "deploying \${args.target ?: 'production'}"\n  sh "deploy-v2 --target=\${args.target ?: 'production'} --replicas=\${args.replicas ?: 1}"\n}\n`,
    "resources/motd.txt": "welcome v2",
  });
  git(libDir, "commit", "-q", "-am", "v2");
  git(libDir, "tag", "v2");
});

function pipeline(header: string, steps: string): string {
  return `${header}\npipeline {\n  agent any\n  stages {\n    stage('Deploy') {\n      steps {\n${steps}\n      }\n    }\n  }\n}\n`;
}

async function compile(source: string, cacheDir?: string): Promise<{ plan?: Plan; messages: string[] }> {
  const ctx = context(source, {
    libraries: [{ name: "mylib", source: libDir }],
    ...(cacheDir ? { cacheDir } : {}),
  });
  const r = await compileJenkinsfile(ctx);
  return {
    ...(r.plan ? { plan: r.plan } : {}),
    messages: r.diagnostics.map((d) => `${d.line}: ${d.message}`),
  };
}

function shown(steps: Step[]): string[] {
  return steps.map((s) =>
    s.kind === "sh" ? `sh ${s.script}` : s.kind === "echo" ? `echo ${s.message}` : s.kind,
  );
}

describe("shared libraries from a git repository with two tags", () => {
  it("@Library('mylib@v1') and @Library('mylib@v2') give different steps", async () => {
    const v1 = await compile(pipeline("@Library('mylib@v1') _", "        deploy target: 'qa'"));
    const v2 = await compile(pipeline("@Library('mylib@v2') _", "        deploy target: 'qa'"));
    expect(v1.messages).toEqual([]);
    expect(v2.messages).toEqual([]);
    expect(shown(v1.plan!.jobs[0]!.steps)).toEqual(["sh deploy-v1 --to qa"]);
    expect(shown(v2.plan!.jobs[0]!.steps)).toEqual([
      "echo deploying qa",
      "sh deploy-v2 --target=qa --replicas=1",
    ]);
  });

  it("defaults with ?: apply when an argument is not given", async () => {
    const r = await compile(pipeline("@Library('mylib@v2') _", "        deploy(replicas: 3)"));
    expect(shown(r.plan!.jobs[0]!.steps)).toEqual([
      "echo deploying production",
      "sh deploy-v2 --target=production --replicas=3",
    ]);
  });

  it("a commit id works as a version, and the library step's steps point into the library", async () => {
    const r = await compile(pipeline(`@Library('mylib@${v1Commit.slice(0, 12)}') _`, "        deploy()"));
    expect(shown(r.plan!.jobs[0]!.steps)).toEqual(["sh deploy-v1 --to staging"]);
    expect(r.plan!.jobs[0]!.steps[0]!.loc?.file).toMatch(/^mylib@[0-9a-f]{12}:vars\/deploy\.groovy$/);
  });

  it("call(Closure body) wraps the caller's block", async () => {
    const r = await compile(
      pipeline("@Library('mylib@v1') _", "        withBanner {\n          sh 'make'\n        }"),
    );
    expect(shown(r.plan!.jobs[0]!.steps)).toEqual(["echo begin", "sh make", "echo end"]);
  });

  it("libraryResource reads resources/ at the requested version", async () => {
    const r1 = await compile(
      pipeline("@Library('mylib@v1') _", "        writeFile file: 'motd', text: libraryResource('motd.txt')"),
    );
    const r2 = await compile(
      pipeline("@Library('mylib@v2') _", "        writeFile file: 'motd', text: libraryResource('motd.txt')"),
    );
    expect(r1.plan!.jobs[0]!.steps[0]).toMatchObject({ kind: "writeFile", text: "welcome v1" });
    expect(r2.plan!.jobs[0]!.steps[0]).toMatchObject({ kind: "writeFile", text: "welcome v2" });
  });

  it("library 'x@v', @Library([...]) and libraries { lib(...) } are all understood", async () => {
    const a = await compile(pipeline("library 'mylib@v2'", "        deploy()"));
    const b = await compile(pipeline("@Library(['mylib@v2']) _", "        deploy()"));
    const c = await compile(
      "pipeline {\n  agent any\n  libraries {\n    lib('mylib@v2')\n  }\n  stages {\n    stage('D') {\n      steps {\n        deploy()\n      }\n    }\n  }\n}\n",
    );
    for (const r of [a, b, c])
      expect(shown(r.plan!.jobs[0]!.steps)[1]).toBe("sh deploy-v2 --target=production --replicas=1");
  });

  it("is fetched once into the cache and used from there when the origin is gone", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "gantry-libcache-"));
    const origin = mkdtempSync(path.join(tmpdir(), "gantry-origin-"));
    git(origin, "clone", "-q", libDir, ".");
    const source = pipeline("@Library('copy@v1') _", "        deploy()");
    const first = await compileJenkinsfile(
      context(source, { libraries: [{ name: "copy", source: origin }], cacheDir: cache }),
    );
    expect(shown(first.plan!.jobs[0]!.steps)).toEqual(["sh deploy-v1 --to staging"]);
    const entries = readdirSync(path.join(cache, "libraries", "copy"));
    expect(entries).toHaveLength(1);
    expect(
      JSON.parse(
        readFileSync(path.join(cache, "libraries", "copy", entries[0]!, ".gantry-library.json"), "utf8"),
      ).commit,
    ).toBe(v1Commit);
    rmSync(origin, { recursive: true, force: true });
    const second = await compileJenkinsfile(
      context(source, { libraries: [{ name: "copy", source: origin }], cacheDir: cache }),
    );
    expect(second.diagnostics).toEqual([]);
    expect(shown(second.plan!.jobs[0]!.steps)).toEqual(["sh deploy-v1 --to staging"]);
  });

  it("reports an unknown version and an unknown library at the @Library line", async () => {
    const r = await compile(pipeline("@Library('mylib@v9') _", "        echo 'x'"));
    expect(r.plan).toBeUndefined();
    expect(r.messages.join("\n")).toMatch(/^1: could not load library mylib@v9: version "v9"/m);
    const u = await compile(pipeline("@Library('other@v1') _", "        echo 'x'"));
    expect(u.messages.join("\n")).toContain('1: No library named "other" is configured');
  });

  it("reads .gantry/libraries.yml", async () => {
    const project = mkdtempSync(path.join(tmpdir(), "gantry-proj-"));
    writeTree(project, {
      ".gantry/libraries.yml": `libraries:\n  - name: mylib\n    source: ${libDir}\n    defaultVersion: v1\n`,
    });
    const r = await compileJenkinsfile(
      context(pipeline("@Library('mylib') _", "        deploy()"), { projectDir: project }),
    );
    expect(shown(r.plan!.jobs[0]!.steps)).toEqual(["sh deploy-v1 --to staging"]);
  });

  it("reports a library step that calls itself", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gantry-loop-"));
    writeFileSync(path.join(dir, "x"), "");
    writeTree(dir, { "vars/loop.groovy": "def call() {\n  loop()\n}\n" });
    const r = await compileJenkinsfile(
      context(pipeline("@Library('loopy') _", "        loop()"), {
        libraries: [{ name: "loopy", source: dir }],
      }),
    );
    expect(r.diagnostics.map((d) => d.message).join("\n")).toContain('library step "loop" calls itself');
  });
});

describe("parseLibraryFlag", () => {
  it("parses name=source and name@version=source", () => {
    expect(parseLibraryFlag("mylib=../lib")).toEqual({ name: "mylib", source: "../lib" });
    expect(parseLibraryFlag("mylib@v2=https://example.com/lib.git")).toEqual({
      name: "mylib",
      source: "https://example.com/lib.git",
      defaultVersion: "v2",
    });
  });
  it("rejects malformed flags with a message", () => {
    expect(() => parseLibraryFlag("mylib")).toThrow(/NAME=PATH/);
    expect(() => parseLibraryFlag("bad name=x")).toThrow(/not a valid library name/);
  });
});
