/**
 * Runs runnable corpus samples end to end with the shell executor: `./bin/gantry run --file
 * Jenkinsfile` in a fresh git checkout, as a user would. Needs `npm run build` (npm test does it).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { corpusDir, git, repoRoot } from "../pipeline/jenkins/helpers.js";

const gantry = path.join(repoRoot, "bin/gantry");

function checkout(jenkinsfile: { sample?: string; text?: string }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gantry-jk-run-"));
  if (jenkinsfile.sample)
    copyFileSync(path.join(corpusDir, jenkinsfile.sample), path.join(dir, "Jenkinsfile"));
  else writeFileSync(path.join(dir, "Jenkinsfile"), jenkinsfile.text!);
  git(dir, "init", "-q", "-b", "master");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "sample");
  return dir;
}

function run(dir: string, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(gantry, ["run", "--file", "Jenkinsfile", ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, CI: "true", NO_COLOR: "1" },
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("jenkins samples run with the shell executor", () => {
  it("has a built CLI", () => {
    expect(existsSync(path.join(repoRoot, "dist/cli/main.js")), "run npm run build first").toBe(true);
  });

  it("multipleProperties: options, parameters, triggers and a sh step", () => {
    const r = run(checkout({ sample: "pmd__multipleProperties.groovy" }));
    expect(r.out).toContain("foo > hello");
    expect(r.out).toContain("test -f Jenkinsfile");
    expect(r.code).toBe(0);
  });

  it("multiExpressionEnvironment: concatenated environment values reach the steps", () => {
    const r = run(checkout({ sample: "pmd__environment_multiExpressionEnvironment.groovy" }));
    expect(r.out).toContain("FOO is BAR");
    expect(r.out).toContain("_UNDERSCORE is VALID");
    expect(r.code).toBe(0);
  });

  it("whenBranch: branch conditions run on master and skip the release stages", () => {
    const r = run(checkout({ sample: "pmd__when_whenBranch.groovy" }));
    expect(r.out).toContain("master it (default)");
    expect(r.out).toContain("master it (EQUALS)");
    expect(r.out).not.toContain("release it");
    expect(r.out).not.toContain("Digit release");
    expect(r.code).toBe(0);
  });

  it("warnErrorStageUnstable: warnError makes the stage and the build unstable", () => {
    const r = run(checkout({ sample: "pmd__postStage_warnErrorStageUnstable.groovy" }));
    expect(r.out).toContain("This should happen");
    expect(r.out).toContain("The build should be unstable");
    expect(r.out).not.toContain("This shouldn't happen");
  });

  it("stash: writeFile then stash", () => {
    const r = run(checkout({ sample: "pmd__properties_stashWithSpecifiedPropertyValue.groovy" }));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stash/i);
  });

  it("parameters, --param, parallel branches and a when expression", () => {
    const dir = checkout({
      text: `pipeline {
  agent any
  environment { GREETING = "hello" }
  parameters { string(name: 'WHO', defaultValue: 'world') }
  stages {
    stage('Build') {
      steps {
        sh 'echo "$GREETING \${WHO}" > out.txt'
        echo "Greeting is \${env.GREETING}"
      }
    }
    stage('Test') {
      parallel {
        stage('a') { steps { sh 'cat out.txt' } }
        stage('b') {
          when { expression { params.WHO == 'nobody' } }
          steps { echo 'must not run' }
        }
      }
    }
  }
  post { always { echo 'all done' } }
}
`,
    });
    const r = run(dir, "--param", "WHO=you");
    expect(r.out).toContain("hello you");
    expect(r.out).toContain("Greeting is hello");
    expect(r.out).not.toContain("must not run");
    expect(r.out).toContain("all done");
    expect(r.code).toBe(0);
  });

  it("a Jenkinsfile with a script block is refused before anything runs (exit 2)", () => {
    const r = run(checkout({ sample: "pmd__simpleScript.groovy" }));
    expect(r.code).toBe(2);
    expect(r.out).toContain("Jenkinsfile:30:17");
    expect(r.out).toContain("script {} blocks are not run");
  });

  it("gantry convert writes gantry.yml that gantry run runs, and refuses bad input with exit 2", () => {
    const dir = checkout({ sample: "pmd__environment_multiExpressionEnvironment.groovy" });
    const conv = spawnSync(gantry, ["convert", "Jenkinsfile", "--to", "gantry", "-o", "gantry.yml"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(conv.status).toBe(0);
    expect(conv.stderr).toContain("wrote gantry.yml");
    const r = spawnSync(gantry, ["run", "--file", "gantry.yml"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, CI: "true", NO_COLOR: "1" },
    });
    expect(r.stdout).toContain("FOO is BAR");
    expect(r.status).toBe(0);
    const bad = spawnSync(gantry, ["convert", "Jenkinsfile", "--to", "circleci"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    const script = checkout({ sample: "pmd__simpleScript.groovy" });
    const refused = spawnSync(gantry, ["convert", "Jenkinsfile", "--to", "gitlab"], {
      cwd: script,
      encoding: "utf8",
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("does not compile, so it cannot be converted");
  });

  it("--library with @Library, a library step, libraryResource and an approved input", () => {
    const lib = mkdtempSync(path.join(tmpdir(), "gantry-jk-lib-"));
    mkdirSync(path.join(lib, "vars"));
    mkdirSync(path.join(lib, "resources"));
    writeFileSync(
      path.join(lib, "vars/deploy.groovy"),
      "def call(Map args = [:]) {\n  sh \"echo deploying to ${args.target ?: 'staging'}\"\n}\n",
    );
    writeFileSync(path.join(lib, "resources/motd.txt"), "hello from resources\n");
    git(lib, "init", "-q", "-b", "main");
    git(lib, "add", "-A");
    git(lib, "commit", "-q", "-m", "v1");
    git(lib, "tag", "v1");
    const dir = checkout({
      text: `@Library('mylib@v1') _
pipeline {
  agent any
  stages {
    stage('Deploy') {
      input { message 'Deploy?'; ok 'Go' }
      steps {
        deploy target: 'prod'
        writeFile file: 'motd.txt', text: libraryResource('motd.txt')
        sh 'cat motd.txt'
      }
    }
  }
}
`,
    });
    const r = run(dir, "--library", `mylib=${lib}`, "--approve", "Deploy");
    expect(r.out).toContain("deploying to prod");
    expect(r.out).toContain("hello from resources");
    expect(r.code).toBe(0);
    const missing = run(dir);
    expect(missing.code).toBe(2);
    expect(missing.out).toContain('Jenkinsfile:1:1: error[LIB-load]: No library named "mylib" is configured');
  });
});
