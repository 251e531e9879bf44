/**
 * Jenkinsfiles run end to end with the shell executor: `./bin/gantry run --file Jenkinsfile` in a
 * fresh git checkout, as a user would — features the corpus samples do not cover (the corpus
 * samples themselves run in jenkins-run-corpus.test.ts). Needs `npm run build` (npm test does it).
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

  it("agent none: engine steps run, sh fails saying why; the warning tells which", () => {
    const dir = checkout({
      text: `pipeline {
  agent none
  stages {
    stage('wrapped') { steps { timeout(time: 1, unit: 'MINUTES') { retry(2) { echo 'wrapped echo' } } } }
    stage('files') { steps { writeFile file: 'note.txt', text: 'hi'; echo 'wrote it' } }
    stage('shell') { steps { dir('sub') { sh 'echo must not run' } } }
  }
}
`,
    });
    const r = run(dir);
    expect(r.out).not.toContain('stage "wrapped" runs without an agent');
    expect(r.out).toContain(
      'Jenkinsfile:5:5: warning[JK-no-agent]: stage "files" runs without an agent ("agent none" and no agent of its own): ' +
        "Jenkins needs a node for writeFile (Gantry carries them out in the stage's workspace)",
    );
    expect(r.out).toContain(
      'Jenkinsfile:6:5: warning[JK-no-agent]: stage "shell" runs without an agent ("agent none" and no agent of its own), ' +
        "so its sh steps fail: there is no machine to run them on",
    );
    expect(r.out).toContain("wrapped > wrapped echo");
    expect(r.out).toContain("files   > wrote it");
    expect(r.out).toContain("there is no machine to run shell steps on");
    expect(r.out).not.toContain("> must not run");
    expect(r.code).toBe(1);
  });

  it('PATH = "<dir>:${PATH}" puts a stand-in tool first and keeps the inherited PATH', () => {
    const dir = checkout({
      text: `pipeline {
  agent any
  environment { PATH = "\${WORKSPACE}/stub-bin:\${env.PATH}" }
  stages {
    stage('build') {
      steps {
        sh 'mvn -B package'
        sh 'command -v git > /dev/null && echo "git still found"'
      }
    }
  }
}
`,
    });
    mkdirSync(path.join(dir, "stub-bin"));
    writeFileSync(path.join(dir, "stub-bin/mvn"), '#!/bin/sh\necho "stand-in mvn $*"\n', { mode: 0o755 });
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "stub");
    const r = run(dir);
    expect(r.out).toContain("build > stand-in mvn -B package");
    expect(r.out).toContain("build > git still found");
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
