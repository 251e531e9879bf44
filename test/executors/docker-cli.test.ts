import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { announceSkip, dockerUnavailable, TEST_IMAGE, WEB_IMAGE } from "./docker-env.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const gantryBin = path.join(repoRoot, "bin/gantry");
const built = existsSync(path.join(repoRoot, "dist/cli/main.js"));
const skip =
  (await dockerUnavailable()) ?? (built ? undefined : "dist/ is not built; run `npm run build` first");
announceSkip("test/executors/docker-cli.test.ts", skip);
const docker = new Docker();

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-docker-cli-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function git(dir: string, args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8" });
}

interface Run {
  pid: number;
  output: () => string;
  /** Resolves when some output matches. */
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
  exited: Promise<number | null>;
  kill: (sig: NodeJS.Signals) => void;
}

/** `gantry run --file F` with CI=true, as a user would run it. */
function gantryRun(dir: string, file: string, extra: string[] = []): Run {
  const child = spawn(gantryBin, ["run", "--file", file, ...extra], {
    cwd: dir,
    env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "" },
  });
  let out = "";
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    kill: (sig) => child.kill(sig),
    waitFor: (re, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in output within ${ms} ms:\n${out}`)), ms);
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

/** Containers and networks a gantry process created (label `gantry.pid`), whatever their state. */
async function leftoversOf(pid: number): Promise<string[]> {
  const filters = JSON.stringify({ label: [`gantry.pid=${pid}`] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names.join(",")} (${c.State})`),
    ...networks.map((n) => `network ${n.Name}`),
  ];
}

describe.skipIf(Boolean(skip))("gantry run with docker jobs (real engine)", () => {
  it("runs a GitLab job in its image with a service reached by alias, and hands artifacts to a shell job", async () => {
    const dir = project({
      ".gitlab-ci.yml": `stages: [build, test]
build:
  stage: build
  image: ${TEST_IMAGE}
  services:
    - name: ${WEB_IMAGE}
      alias: web
    - name: ${TEST_IMAGE}
      alias: envsvc
      command: ["sh", "-c", "mkdir -p /w && env | grep _VAR | sort > /w/index.html && exec httpd -f -p 8080 -h /w"]
      variables:
        SERVICE_VAR: own
  variables:
    GREETING: from a variable
    JOB_VAR: job
  script:
    - echo "$GREETING in $(pwd)"
    - for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://envsvc:8080/ && break; sleep 0.3; done | tr '\\n' ' '; echo
    - wget -qO- http://web:8080/ > page.txt
    - cat /etc/hostname > container-hostname.txt
  artifacts:
    paths: [page.txt, container-hostname.txt]
check:
  stage: test
  script:
    - cat page.txt
    - test "$(cat container-hostname.txt)" != "$(hostname)" && echo "the build ran elsewhere"
`,
    });
    const run = gantryRun(dir, ".gitlab-ci.yml");
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/^build\s+> Starting service gantry-test\/web:1 as web$/m);
    expect(out).toMatch(/^build\s+> from a variable in \/.+\/build$/m);
    // GitLab passes the job's variables to services as well as their own.
    expect(out).toMatch(/^build\s+> JOB_VAR=job SERVICE_VAR=own $/m);
    expect(out).toMatch(/^check\s+> hello from gantry-test\/web$/m);
    expect(out).toMatch(/^check\s+> the build ran elsewhere$/m);
    expect(await leftoversOf(run.pid)).toEqual([]);
  });

  it("runs a Jenkinsfile stage in agent { docker { image; args } } and stashes to an agent any stage", async () => {
    const dir = project({
      Jenkinsfile: `pipeline {
  agent none
  stages {
    stage('Build') {
      agent {
        docker {
          image '${TEST_IMAGE}'
          args '-e FROM_ARGS=yes --add-host=db.internal:10.9.8.7'
        }
      }
      steps {
        sh 'echo "args=$FROM_ARGS db=$(grep db.internal /etc/hosts | cut -f1)" > out.txt'
        stash name: 'out', includes: 'out.txt'
      }
    }
    stage('Use') {
      agent any
      steps {
        unstash 'out'
        sh 'cat out.txt'
      }
    }
  }
}
`,
    });
    const run = gantryRun(dir, "Jenkinsfile");
    const code = await run.exited;
    expect(code, run.output()).toBe(0);
    expect(run.output()).toMatch(/^Use\s+> args=yes db=10\.9\.8\.7$/m);
    expect(await leftoversOf(run.pid)).toEqual([]);
  });

  it("builds an image with a gantry.yml dockerBuild step and runs the next stage in it (agent: docker)", async () => {
    const tag = `gantry-test/cli-built:${process.pid}`;
    const dir = project({
      Dockerfile: `FROM ${TEST_IMAGE}\nARG VERSION\nCOPY . /src\nRUN echo "$VERSION" > /version\n`,
      ".dockerignore": "secret.txt\n.git\n.gantry\n",
      "secret.txt": "must not reach the image",
      "app.txt": "app",
      "gantry.yml": `pipeline:
  agent: none
  stages:
    - stage: Image
      agent: any
      steps:
        - dockerBuild:
            tags: ["${tag}"]
            buildArgs: { VERSION: "1.2.3" }
            labels: { team: demo }
    - stage: Test
      agent:
        docker: { image: "${tag}", pullPolicy: never }
      steps:
        - sh: cat /version; ls /src | sort | tr '\\n' ' '
`,
    });
    git(dir, ["init", "-q", "-b", "main"]);
    git(dir, ["add", "-A"]);
    git(dir, ["-c", "user.email=ci@gantry.invalid", "-c", "user.name=ci", "commit", "-qm", "init"]);
    const sha = git(dir, ["rev-parse", "HEAD"]).trim();
    try {
      const run = gantryRun(dir, "gantry.yml");
      const code = await run.exited;
      expect(code, run.output()).toBe(0);
      expect(run.output()).toMatch(/^Test\s+> 1\.2\.3$/m);
      expect(run.output()).toMatch(/^Test\s+> Dockerfile app\.txt gantry\.yml $/m);
      const labels = (await docker.getImage(tag).inspect()).Config.Labels;
      expect(labels).toMatchObject({ team: "demo", "org.opencontainers.image.revision": sha });
    } finally {
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });

  it("kills the container's processes when the job times out", async () => {
    const dir = project({
      ".gitlab-ci.yml": `slow:
  image: ${TEST_IMAGE}
  timeout: 3 seconds
  script:
    - echo started
    - sleep 100 & sleep 100
`,
    });
    const t0 = Date.now();
    const run = gantryRun(dir, ".gitlab-ci.yml");
    const code = await run.exited;
    expect(code, run.output()).toBe(1);
    expect(run.output()).toMatch(/timed out after 3\.0s/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(await leftoversOf(run.pid)).toEqual([]);
  });

  it("leaves no container or network behind when cancelled with SIGINT", async () => {
    const dir = project({
      ".gitlab-ci.yml": `long:
  image: ${TEST_IMAGE}
  services: [{ name: "${WEB_IMAGE}", alias: web }]
  script:
    - echo waiting
    - sleep 100 & sleep 100
`,
    });
    const run = gantryRun(dir, ".gitlab-ci.yml");
    await run.waitFor(/^long\s+> waiting$/m);
    const during = await leftoversOf(run.pid);
    expect(during.filter((x) => x.startsWith("container")).length).toBeGreaterThanOrEqual(2);
    expect(during.filter((x) => x.startsWith("network")).length).toBe(1);
    run.kill("SIGINT");
    const code = await run.exited;
    expect(code, run.output()).toBe(130);
    expect(run.output()).toMatch(/CNCL\s+long/);
    expect(await leftoversOf(run.pid)).toEqual([]);
  });

  it("fails a job whose image is missing with the image and the pull policy in the message", async () => {
    const dir = project({
      ".gitlab-ci.yml": `j:
  image:
    name: gantry-test/does-not-exist:1
    pull_policy: never
  script: [echo never printed]
`,
    });
    const run = gantryRun(dir, ".gitlab-ci.yml");
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(1);
    expect(out).toContain(
      'docker image "gantry-test/does-not-exist:1" is not available (pull policy: never)',
    );
    expect(out).toMatch(/hint: build or load the image first/);
    expect(out).not.toContain("never printed");
    expect(await leftoversOf(run.pid)).toEqual([]);
  });
});
