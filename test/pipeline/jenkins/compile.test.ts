import { describe, expect, it } from "vitest";
import { compileJenkinsfile, compileJenkinsfileDetailed } from "../../../src/pipeline/jenkins/index.js";
import type { Job, Plan } from "../../../src/pipeline/plan.js";
import { context } from "./helpers.js";

async function plan(source: string, over = {}): Promise<Plan> {
  const r = await compileJenkinsfile(context(source, over));
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.plan!;
}

async function diags(source: string): Promise<string[]> {
  const r = await compileJenkinsfileDetailed(context(source));
  return r.diagnostics.map((d) => `${d.severity} ${d.line}:${d.column} ${d.message}`);
}

const job = (p: Plan, id: string): Job => {
  const j = p.jobs.find((x) => x.id === id);
  if (!j) throw new Error(`no job ${id} in ${p.jobs.map((x) => x.id).join(", ")}`);
  return j;
};

const wrap = (stages: string, top = "agent any"): string =>
  `pipeline {\n  ${top}\n  stages {\n${stages}\n  }\n}\n`;

describe("stages to jobs", () => {
  it("sequential stages need the previous one; parallel branches share predecessors; the next needs all", async () => {
    const p = await plan(
      wrap(`
    stage('A') { steps { sh 'a' } }
    stage('B') {
      failFast true
      parallel {
        stage('B1') { steps { sh 'b1' } }
        stage('B2') {
          stages {
            stage('x') { steps { sh 'x' } }
            stage('y') { steps { sh 'y' } }
          }
        }
      }
    }
    stage('C') { steps { sh 'c' } }`),
    );
    expect(p.stages).toEqual(["A", "B", "C"]);
    expect(p.jobs.map((j) => [j.id, j.needs.map((n) => n.job)])).toEqual([
      ["A", []],
      ["B / B1", ["A"]],
      ["B / B2 / x", ["A"]],
      ["B / B2 / y", ["B / B2 / x"]],
      ["C", ["B / B1", "B / B2 / y"]],
    ]);
    expect(job(p, "B / B2 / y")).toMatchObject({
      stage: "B",
      parents: ["B", "B2"],
      failFastGroup: "B",
      needsMode: "explicit",
    });
    expect(job(p, "A").failFastGroup).toBeUndefined();
  });

  it("expands a matrix with excludes into one job per cell and inner stage", async () => {
    const p = await plan(
      wrap(`
    stage('M') {
      matrix {
        axes {
          axis { name 'OS'; values 'linux', 'mac' }
          axis { name 'JDK'; values '17', '21' }
        }
        excludes {
          exclude {
            axis { name 'OS'; values 'mac' }
            axis { name 'JDK'; notValues '21' }
          }
        }
        agent { label "\${OS}-agent" }
        environment { OS = "\${OS}-os" }
        stages {
          stage('build') { steps { sh 'make' } }
        }
      }
    }`),
    );
    expect(p.jobs.map((j) => j.id)).toEqual([
      "M / OS=linux, JDK=17 / build",
      "M / OS=linux, JDK=21 / build",
      "M / OS=mac, JDK=21 / build",
    ]);
    const j = job(p, "M / OS=mac, JDK=21 / build");
    expect(j.matrix).toEqual({ OS: "mac", JDK: "21" });
    expect(j.executor).toEqual({ kind: "shell", labels: ["mac-agent"] });
    expect(j.variables.OS).toEqual({ kind: "value", value: "mac-os" });
    expect(j.variables.JDK).toEqual({ kind: "value", value: "21" });
  });

  it("inherits the pipeline agent and workspace, a stage agent overrides it, reuseNode keeps the workspace", async () => {
    const p = await plan(
      wrap(
        `
    stage('a') { steps { sh 'a' } }
    stage('b') {
      agent { docker { image 'node:20'; reuseNode true; args '-v /x:/x' } }
      steps { sh 'b' }
    }
    stage('c') {
      agent { dockerfile { filename 'ci/Dockerfile'; dir 'ci'; additionalBuildArgs '--build-arg V=1 --pull' } }
      steps { sh 'c' }
    }`,
        "agent { label 'linux' }",
      ),
    );
    expect(job(p, "a")).toMatchObject({
      executor: { kind: "shell", labels: ["linux"] },
      workspace: "pipeline",
    });
    expect(job(p, "b")).toMatchObject({
      executor: { kind: "docker", image: { name: "node:20" }, reuseNode: true, args: "-v /x:/x" },
      workspace: "pipeline",
    });
    expect(job(p, "c").executor).toMatchObject({
      kind: "docker",
      build: { dockerfile: "ci/Dockerfile", context: "ci", buildArgs: { V: "1" }, additionalArgs: "--pull" },
    });
    expect(job(p, "c").workspace).toBe("c");
  });
});

describe("directives", () => {
  it("environment: interpolation, credentials with _USR/_PSW when used, params and --variable precedence", async () => {
    const p = await plan(
      `pipeline {
  agent any
  parameters {
    choice(name: 'TARGET', choices: ['dev', 'prod'], description: 'where')
    booleanParam(name: 'FAST', defaultValue: true)
  }
  environment {
    BASE = "/opt"
    BIN = "\${BASE}/bin:\${env.PATH}"
    DB = credentials('db-creds')
    TOKEN = credentials('api-token')
  }
  stages {
    stage('s') {
      steps { sh 'echo $DB_USR; echo $TOKEN' }
    }
  }
}`,
      { params: { TARGET: "prod" }, variables: { BASE: "/override" } },
    );
    expect(p.parameters).toEqual([
      { name: "TARGET", type: "choice", description: "where", choices: ["dev", "prod"], default: "dev" },
      { name: "FAST", type: "boolean", default: "true" },
    ]);
    const v = job(p, "s").variables;
    expect(v.TARGET).toEqual({ kind: "value", value: "prod" });
    expect(v.BIN).toEqual({ kind: "value", value: "${BASE}/bin:${PATH}" });
    expect(v.BASE).toEqual({ kind: "value", value: "/override" });
    expect(v.DB).toEqual({ kind: "credential", id: "db-creds", part: "usernamePassword" });
    expect(v.DB_USR).toEqual({ kind: "credential", id: "db-creds", part: "username" });
    expect(v.DB_PSW).toEqual({ kind: "credential", id: "db-creds", part: "password" });
    expect(v.TOKEN).toEqual({ kind: "credential", id: "api-token", part: "secret" });
    expect(v.TOKEN_USR).toBeUndefined();
    expect(v.STAGE_NAME).toEqual({ kind: "value", value: "s" });
  });

  it("environment: a self-reference extends the earlier value, or is left for the host (PATH)", async () => {
    const p = await plan(`pipeline {
  agent any
  environment {
    PATH = "/opt/tool/bin:\${env.PATH}"
    MODE = "fast"
  }
  stages {
    stage('s') {
      environment { MODE = "\${MODE}-debug" }
      steps { echo 'x' }
    }
  }
}`);
    expect(job(p, "s").variables.PATH).toEqual({ kind: "value", value: "/opt/tool/bin:${PATH}" });
    expect(job(p, "s").variables.MODE).toEqual({ kind: "value", value: "fast-debug" });
  });

  it("rejects a --param outside a choice's values", async () => {
    const r = await compileJenkinsfile(
      context(
        `pipeline {\n  agent any\n  parameters { choice(name: 'T', choices: ['a', 'b']) }\n  stages { stage('s') { steps { echo 'x' } } }\n}\n`,
        { params: { T: "c" } },
      ),
    );
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics[0]!.message).toBe('--param T must be one of a, b, got "c"');
  });

  it("options: timeout units, retry, pipeline flags", async () => {
    const p = await plan(`pipeline {
  agent any
  options {
    timeout(time: 2, unit: 'HOURS')
    buildDiscarder logRotator(numToKeepStr: '10')
    disableConcurrentBuilds()
    parallelsAlwaysFailFast()
    skipDefaultCheckout()
    timestamps()
  }
  triggers { cron('H 2 * * *'); pollSCM 'H/5 * * * *' }
  stages {
    stage('s') {
      options { timeout(30); retry(3) }
      steps { echo 'x' }
    }
  }
}`);
    expect(p.options).toEqual({
      timeoutMs: 7_200_000,
      buildDiscarder: { strategy: "logRotator", numToKeepStr: "10" },
      disableConcurrentBuilds: true,
      failFast: true,
      skipDefaultCheckout: true,
      timestamps: true,
    });
    expect(p.triggers).toEqual([
      { kind: "cron", spec: "H 2 * * *" },
      { kind: "pollSCM", spec: "H/5 * * * *" },
    ]);
    expect(job(p, "s")).toMatchObject({ timeoutMs: 1_800_000, retry: { max: 2, when: [] } });
  });

  it("when: branch (GLOB by default), not/anyOf, expression, changeRequest, timing", async () => {
    const p = await plan(
      wrap(`
    stage('w') {
      when {
        beforeAgent true
        anyOf {
          branch 'release-*'
          not { tag pattern: 'v\\\\d+', comparator: 'REGEXP' }
        }
        expression { return params.DEPLOY == 'yes' && env.CHANGE_ID != null }
        changeRequest target: 'main'
      }
      steps { echo 'x' }
    }`),
    );
    const j = job(p, "w");
    expect(j.conditionTiming).toEqual({ beforeAgent: true });
    expect(j.condition).toEqual({
      kind: "allOf",
      conditions: [
        {
          kind: "anyOf",
          conditions: [
            { kind: "branch", pattern: "release-*", comparator: "GLOB" },
            { kind: "not", condition: { kind: "tag", pattern: "v\\d+", comparator: "REGEXP" } },
          ],
        },
        {
          kind: "expression",
          source: "return params.DEPLOY == 'yes' && env.CHANGE_ID != null",
          expr: {
            kind: "binary",
            op: "&&",
            left: {
              kind: "binary",
              op: "==",
              left: { kind: "var", scope: "params", name: "DEPLOY" },
              right: { kind: "literal", value: "yes" },
            },
            right: {
              kind: "binary",
              op: "!=",
              left: { kind: "var", scope: "env", name: "CHANGE_ID" },
              right: { kind: "literal", value: null },
            },
          },
        },
        {
          kind: "allOf",
          conditions: [
            { kind: "changeRequest" },
            {
              kind: "expression",
              expr: {
                kind: "binary",
                op: "==",
                left: { kind: "var", scope: "env", name: "CHANGE_TARGET" },
                right: { kind: "literal", value: "main" },
              },
              source: "env.CHANGE_TARGET == 'main'",
            },
          ],
        },
      ],
    });
  });

  it("input and post (Jenkins' order), group post as jobs after the group", async () => {
    const p = await plan(
      wrap(`
    stage('g') {
      when { branch 'main' }
      stages {
        stage('deploy') {
          input { message 'Ship it?'; ok 'Yes'; submitter 'alice,bob'; submitterParameter 'APPROVER' }
          steps { echo 'x' }
          post { cleanup { echo 'c' }; failure { echo 'f' }; always { echo 'a' } }
        }
      }
      post { always { echo 'group done' }; failure { echo 'group failed' } }
    }`),
    );
    const d = job(p, "g / deploy");
    expect(d.input).toEqual({
      message: "Ship it?",
      ok: "Yes",
      submitter: "alice,bob",
      submitterParameter: "APPROVER",
      parameters: [],
    });
    expect(Object.keys(d.post)).toEqual(["always", "failure", "cleanup"]);
    expect(job(p, "g / post (always)")).toMatchObject({
      when: "always",
      needs: [{ job: "g / deploy", artifacts: false }],
      condition: { kind: "branch", pattern: "main" },
    });
    expect(d.condition).toEqual({ kind: "branch", pattern: "main", comparator: "GLOB" });
    expect(job(p, "g / post (failure)")).toMatchObject({ when: "on_failure" });
  });
});

describe("steps", () => {
  it("compiles the declarative steps with their parameters", async () => {
    const p = await plan(
      wrap(`
    stage('s') {
      steps {
        sh script: 'make', label: 'build'
        dir('sub') { writeFile file: 'a.txt', text: "v=\${env.V}" }
        withEnv(['A=1', "B=\${A}"]) { sh 'env' }
        withCredentials([string(credentialsId: 'tok', variable: 'T'), usernamePassword(credentialsId: 'up', usernameVariable: 'U', passwordVariable: 'P'), file(credentialsId: 'kc', variable: 'KC')]) { sh 'x' }
        archiveArtifacts artifacts: 'dist/**, *.log', excludes: 'dist/tmp/**', allowEmptyArchive: true, fingerprint: true
        stash name: 'bin', includes: 'bin/**'
        unstash 'bin'
        junit testResults: 'reports/*.xml', allowEmptyResults: true
        retry(2) { timeout(time: 90, unit: 'SECONDS') { sleep 1 } }
        catchError(buildResult: 'UNSTABLE', stageResult: 'FAILURE') { error 'boom' }
        warnError('careful') { unstable 'meh' }
        deleteDir()
        checkout scm
      }
    }`),
    );
    const steps = job(p, "s").steps.map(({ loc: _loc, ...s }) => s);
    expect(steps).toEqual([
      { kind: "sh", script: "make", label: "build" },
      {
        kind: "dir",
        path: "sub",
        steps: [{ kind: "writeFile", file: "a.txt", text: "v=${V}", loc: expect.anything() }],
      },
      {
        kind: "withEnv",
        env: { A: "1", B: "${A}" },
        steps: [expect.objectContaining({ kind: "sh", script: "env" })],
      },
      {
        kind: "withCredentials",
        bindings: [
          { kind: "string", credentialsId: "tok", variable: "T" },
          { kind: "usernamePassword", credentialsId: "up", usernameVariable: "U", passwordVariable: "P" },
          { kind: "file", credentialsId: "kc", variable: "KC" },
        ],
        steps: [expect.objectContaining({ kind: "sh" })],
      },
      {
        kind: "archiveArtifacts",
        paths: ["dist/**", "*.log"],
        exclude: ["dist/tmp/**"],
        allowEmpty: true,
        fingerprint: true,
      },
      { kind: "stash", name: "bin", includes: ["bin/**"], exclude: [], allowEmpty: false },
      { kind: "unstash", name: "bin" },
      { kind: "junit", patterns: ["reports/*.xml"], allowEmpty: true },
      {
        kind: "retry",
        count: 2,
        steps: [
          expect.objectContaining({
            kind: "timeout",
            ms: 90_000,
            steps: [expect.objectContaining({ kind: "sleep", ms: 1000 })],
          }),
        ],
      },
      {
        kind: "catchError",
        buildResult: "UNSTABLE",
        stageResult: "FAILURE",
        steps: [expect.objectContaining({ kind: "error", message: "boom" })],
      },
      {
        kind: "catchError",
        buildResult: "UNSTABLE",
        stageResult: "UNSTABLE",
        message: "careful",
        steps: [expect.objectContaining({ kind: "unstable", message: "meh" })],
      },
      { kind: "deleteDir" },
      { kind: "checkout" },
    ]);
    expect(job(p, "s").steps[0]!.loc).toEqual({ file: "Jenkinsfile", line: 7, column: 9 });
  });

  it("GStrings: ${env.X}, $X, ${params.X}, currentBuild, escapes and triple quotes", async () => {
    const p = await plan(
      wrap(`
    stage('s') {
      steps {
        echo "a \${env.A} b $B c \${params.C} d \${currentBuild.number} \\$NOT"
        sh '''echo '$X' "\${Y}"'''
        sh """
          echo \${env.Z}
        """
        echo 'single \${kept}' + " and " + 42
      }
    }`),
    );
    expect(
      job(p, "s").steps.map((s) => (s.kind === "echo" ? s.message : s.kind === "sh" ? s.script : "")),
    ).toEqual([
      "a ${A} b ${B} c ${C} d ${BUILD_NUMBER} $NOT",
      "echo '$X' \"${Y}\"",
      "\n          echo ${Z}\n        ",
      "single ${kept} and 42",
    ]);
  });

  it("an unknown step is a warning naming it, and fails when reached", async () => {
    const r = await compileJenkinsfile(
      context(wrap(`    stage('s') {\n      steps {\n        slackSend channel: '#ci'\n      }\n    }`)),
    );
    expect(r.diagnostics).toMatchObject([
      {
        severity: "warning",
        code: "JK-unknown-step",
        line: 6,
        column: 9,
        message: 'unknown step "slackSend": Gantry does not provide it (a Jenkins plugin step?)',
      },
    ]);
    expect(r.plan!.jobs[0]!.steps).toMatchObject([
      { kind: "error", message: 'step "slackSend" (Jenkinsfile:6) is not supported by Gantry' },
    ]);
  });
});

describe("Groovy that Gantry does not run", () => {
  it("script blocks, Groovy statements in steps and code outside pipeline get errors at their lines", async () => {
    const d = await diags(`def version = '1.0'
node {
  sh 'x'
}
pipeline {
  agent any
  stages {
    stage('s') {
      steps {
        script {
          currentBuild.result = 'SUCCESS'
        }
        def x = 1
        if (x) { echo 'y' }
      }
    }
  }
}
`);
    expect(d.filter((x) => x.startsWith("error"))).toEqual([
      "error 1:1 Groovy code outside pipeline { ... } is not run: Gantry does not execute Groovy",
      "error 2:1 node { ... } is a scripted pipeline: Gantry runs declarative pipelines and does not execute Groovy",
      "error 10:9 script {} blocks are not run: Gantry does not execute Groovy",
      'error 13:9 "def x = 1" is Groovy code, not a declarative step; Gantry does not run Groovy',
      'error 14:9 "if" is Groovy control flow, not a declarative step; Gantry does not run Groovy',
    ]);
  });

  it("an expression with Groovy outside the safe language is reported with a hint", async () => {
    const r = await compileJenkinsfile(
      context(
        wrap(
          `    stage('s') {\n      when { expression { Jenkins.instance.isQuietingDown() } }\n      steps { echo 'x' }\n    }`,
        ),
      ),
    );
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({
      code: "JK-expression",
      line: 5,
      message: 'method "isQuietingDown()" is not supported in expressions',
    });
    expect(r.diagnostics[0]!.hint).toContain("sh step");
  });

  it("accepts a byte-order mark, a shebang and CRLF line ends", async () => {
    const p = await plan(
      "\uFEFF#!groovy\r\npipeline {\r\n  agent any\r\n  stages {\r\n    stage('s') {\r\n      steps {\r\n        echo 'hi'\r\n      }\r\n    }\r\n  }\r\n}\r\n",
    );
    expect(p.jobs[0]!.steps[0]).toMatchObject({ kind: "echo", message: "hi", loc: { line: 7, column: 9 } });
  });

  it("syntax errors point at the problem and never throw", async () => {
    const d = await diags(
      `pipeline {\n  agent any\n  stages {\n    stage('s') {\n      steps { sh 'unterminated }\n    }\n  }\n}\n`,
    );
    expect(d[0]).toBe("error 5:18 unterminated string");
  });
});

describe("tools", () => {
  it("is a warning per tool with a docker image that has it", async () => {
    const r = await compileJenkinsfile(
      context(
        wrap(
          `    stage('s') {\n      tools { maven 'apache-maven-3.9'; jdk 'jdk_21_latest' }\n      steps { sh 'mvn -v' }\n    }`,
        ),
      ),
    );
    expect(r.plan).toBeDefined();
    expect(r.diagnostics.map((d) => [d.severity, d.line, d.message, d.hint])).toEqual([
      [
        "warning",
        5,
        'tools: maven "apache-maven-3.9" is not installed by Gantry',
        "run the stage in a container that has it, e.g. agent { docker { image 'maven:3-eclipse-temurin-17' } }, or put maven on the runner's PATH",
      ],
      [
        "warning",
        5,
        'tools: jdk "jdk_21_latest" is not installed by Gantry',
        "run the stage in a container that has it, e.g. agent { docker { image 'eclipse-temurin:21' } }, or put jdk on the runner's PATH",
      ],
    ]);
  });
});

describe("the input step", () => {
  it("as the first step of a stage becomes the stage's approval", async () => {
    const p = await plan(
      wrap(`    stage('deploy') {
      steps {
        input message: 'Deploy?', ok: 'Ship', submitter: 'ops', parameters: [string(name: 'REASON', defaultValue: 'release'), booleanParam(name: 'FORCE', defaultValue: false)]
        sh './deploy'
      }
    }`),
    );
    expect(job(p, "deploy").input).toEqual({
      message: "Deploy?",
      ok: "Ship",
      submitter: "ops",
      parameters: [
        { name: "REASON", type: "string", default: "release" },
        { name: "FORCE", type: "boolean", default: "false" },
      ],
    });
    expect(job(p, "deploy").steps.map((s) => s.kind)).toEqual(["sh"]);
  });

  it("elsewhere is an error that says how to write it", async () => {
    const d = await diags(
      wrap(`    stage('deploy') {\n      steps {\n        sh 'a'\n        input 'Deploy?'\n      }\n    }`),
    );
    expect(d).toContain("error 7:9 the input step is supported only as the first step of a stage");
  });
});
