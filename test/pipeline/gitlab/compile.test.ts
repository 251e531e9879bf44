import { describe, expect, it } from "vitest";
import type { CompileOptions } from "./helpers.js";
import { validatePlan } from "../../../src/pipeline/validate-plan.js";
import { compile } from "./helpers.js";

/**
 * Golden table: a `.gitlab-ci.yml` (and the files around it) → a fragment of the Plan, or the
 * diagnostics. `plan` is matched with `toMatchObject` (arrays must match in length and order).
 */
interface Case extends CompileOptions {
  name: string;
  input: string;
  plan?: Record<string, unknown>;
  /** Every error must be listed, in order; warnings/infos listed here must be present too. */
  diagnostics?: {
    severity?: string;
    code?: string;
    line?: number;
    column?: number;
    message?: RegExp;
    hint?: RegExp;
    file?: string;
  }[];
}

const s = (re: RegExp): unknown => expect.stringMatching(re);

const cases: Case[] = [
  {
    name: "default stages, default stage test, stage mode needs",
    input: `
build:
  stage: build
  script: make
test:
  script: [make test]
.hidden:
  script: never runs
`,
    plan: {
      version: 1,
      format: "gitlab",
      file: ".gitlab-ci.yml",
      stages: [".pre", "build", "test", "deploy", ".post"],
      jobs: [
        {
          id: "build",
          stage: "build",
          needsMode: "stage",
          needs: [],
          artifactsFrom: [],
          when: "on_success",
          allowFailure: false,
        },
        {
          id: "test",
          stage: "test",
          needsMode: "stage",
          needs: [{ job: "build", artifacts: true }],
          artifactsFrom: ["build"],
          steps: [
            { kind: "script", commands: ["make test"], loc: { file: ".gitlab-ci.yml", line: 6, column: 11 } },
          ],
          executor: { kind: "shell", labels: [] },
          loc: { file: ".gitlab-ci.yml", line: 5, column: 1 },
        },
      ],
    },
  },
  {
    name: "custom stages keep .pre and .post around them",
    input: `
stages: [lint, ship]
a: {stage: ship, script: x}
b: {stage: .post, script: x}
c: {stage: lint, script: x}
`,
    plan: {
      stages: [".pre", "lint", "ship", ".post"],
      jobs: [
        { id: "a", needs: [{ job: "c", artifacts: true }] },
        { id: "b", needs: [{ job: "a" }, { job: "c" }] },
        { id: "c", needs: [] },
      ],
    },
  },
  {
    name: "scripts: strings, nested lists flattened, before_script joins script, after_script apart",
    input: `
default:
  before_script: [echo before]
  after_script: echo after
job:
  script:
    - echo 1
    - [echo 2, [echo 3]]
`,
    plan: {
      jobs: [
        {
          steps: [{ kind: "script", commands: ["echo before", "echo 1", "echo 2", "echo 3"] }],
          afterSteps: [{ kind: "script", commands: ["echo after"] }],
        },
      ],
    },
  },
  {
    name: "inherit: default false drops the defaults",
    input: `
default:
  before_script: [echo before]
  tags: [fast]
job:
  inherit: {default: [tags]}
  script: x
`,
    plan: { jobs: [{ steps: [{ commands: ["x"] }], executor: { kind: "shell", labels: ["fast"] } }] },
  },
  {
    name: "extends: multi-level deep merge, lists replaced, job wins",
    input: `
.base:
  variables: {A: base, B: base}
  script: [base]
  tags: [one, two]
.mid:
  extends: .base
  variables: {B: mid, C: mid}
job:
  extends: [.mid]
  tags: [three]
  variables: {C: job}
`,
    plan: {
      jobs: [
        {
          id: "job",
          steps: [{ commands: ["base"] }],
          executor: { labels: ["three"] },
          variables: {
            A: { kind: "value", value: "base" },
            B: { kind: "value", value: "mid" },
            C: { kind: "value", value: "job" },
          },
        },
      ],
    },
  },
  {
    name: "extends of a missing job: diagnostic with did-you-mean at the extends value",
    input: `
.template:
  script: x
job:
  extends: .templat
`,
    diagnostics: [
      {
        severity: "error",
        code: "GL053",
        line: 5,
        column: 12,
        message: /extends "\.templat"/,
        hint: /did you mean "\.template"/,
      },
    ],
  },
  {
    name: "extends cycle",
    input: `
.a: {extends: .b, script: x}
.b: {extends: .a}
job: {extends: .a}
`,
    diagnostics: [{ severity: "error", code: "GL051", message: /circular extends/ }],
  },
  {
    name: "anchors and merge keys; explicit keys win",
    input: `
.defaults: &defaults
  stage: build
  script: [from anchor]
  variables: {X: "1"}
job:
  <<: *defaults
  variables: {Y: "2"}
`,
    plan: {
      jobs: [{ stage: "build", steps: [{ commands: ["from anchor"] }], variables: { Y: { value: "2" } } }],
    },
  },
  {
    name: "!reference in scripts and rules",
    input: `
.setup:
  script: [echo setup, echo more]
.rules:
  rules:
    - if: $CI_COMMIT_BRANCH
job:
  script:
    - !reference [.setup, script]
    - echo job
  rules:
    - !reference [.rules, rules]
`,
    plan: { jobs: [{ steps: [{ commands: ["echo setup", "echo more", "echo job"] }] }] },
  },
  {
    name: "!reference circular chain",
    input: `
job:
  script:
    - !reference [job, script]
`,
    diagnostics: [
      {
        severity: "error",
        code: "GL040",
        line: 4,
        column: 18,
        message: /circular chain detected \[job,script\]/,
      },
    ],
  },
  {
    name: "variables: GitLab precedence, expand false, value/description/options forms",
    input: `
variables:
  GLOBAL: g
  OVERRIDDEN: global
  RAW: {value: "$GLOBAL", expand: false}
  DEPLOY_TO:
    value: staging
    description: Where to deploy
    options: [production, staging]
job:
  variables:
    OVERRIDDEN: job
    NUM: 3
    RULED: job
  rules:
    - if: $GLOBAL == "g"
      variables: {RULED: rule}
  script: x
`,
    variables: { CLI: "c", RULED: "cli" },
    plan: {
      parameters: [
        {
          name: "DEPLOY_TO",
          type: "choice",
          default: "staging",
          description: "Where to deploy",
          choices: ["staging", "production"],
        },
      ],
      variables: { GLOBAL: { value: "g" }, CLI: { value: "c" }, RAW: { value: "$GLOBAL", expand: false } },
      jobs: [
        {
          variables: {
            GLOBAL: { kind: "value", value: "g" },
            OVERRIDDEN: { kind: "value", value: "job" },
            NUM: { kind: "value", value: "3" },
            RAW: { kind: "value", value: "$GLOBAL", expand: false },
            RULED: { kind: "value", value: "cli" },
            CLI: { kind: "value", value: "c" },
          },
        },
      ],
    },
  },
  {
    name: "predefined variables from the checkout and the job",
    input: `job: {script: x}`,
    env: { GITLAB_USER_LOGIN: "ada" },
    plan: {
      jobs: [
        {
          variables: {
            CI: { value: "true" },
            GITLAB_CI: { value: "true" },
            CI_PIPELINE_SOURCE: { value: "push" },
            CI_COMMIT_SHA: { value: "0123456789abcdef0123456789abcdef01234567" },
            CI_COMMIT_SHORT_SHA: { value: "01234567" },
            CI_COMMIT_BRANCH: { value: "feature/Login-Page" },
            CI_COMMIT_REF_NAME: { value: "feature/Login-Page" },
            CI_COMMIT_REF_SLUG: { value: "feature-login-page" },
            CI_DEFAULT_BRANCH: { value: "main" },
            CI_COMMIT_TITLE: { value: "Add login" },
            CI_JOB_NAME: { value: "job" },
            CI_JOB_STAGE: { value: "test" },
            GITLAB_USER_LOGIN: { value: "ada" },
            GITLAB_USER_EMAIL: { value: "ada@example.com" },
            GITLAB_USER_NAME: { value: "Ada Lovelace" },
          },
        },
      ],
    },
  },
  {
    name: "tag pipelines have CI_COMMIT_TAG and no CI_COMMIT_BRANCH",
    input: `
job:
  rules:
    - if: $CI_COMMIT_TAG =~ /^v\\d+/ && $CI_COMMIT_BRANCH == null
  script: x
`,
    git: { tag: "v1.2.0", branch: "" },
    plan: {
      jobs: [{ variables: { CI_COMMIT_TAG: { value: "v1.2.0" }, CI_COMMIT_REF_NAME: { value: "v1.2.0" } } }],
    },
  },
  {
    name: "rules: first match wins; when, allow_failure, needs; no match drops the job",
    input: `
a: {stage: build, script: x}
b: {stage: build, script: x}
deploy:
  needs: [a]
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      when: never
    - if: '$CI_COMMIT_BRANCH =~ /^feature\\// && ($X == "1" || $Y)'
      when: manual
      needs: [b]
    - when: always
  script: x
skipped:
  rules:
    - if: $NOPE
  script: x
`,
    variables: { X: "1" },
    plan: {
      jobs: [
        { id: "a" },
        { id: "b" },
        {
          id: "deploy",
          when: "manual",
          allowFailure: false,
          needsMode: "explicit",
          needs: [{ job: "b", artifacts: true }],
        },
      ],
    },
  },
  {
    name: "rules: changes and exists",
    input: `
docs:
  rules:
    - changes: ["docs/**/*.md"]
  script: x
java:
  rules:
    - exists: ["**/pom.xml"]
  script: x
go:
  rules:
    - exists: [go.mod]
  script: x
api:
  rules:
    - changes: {paths: [api/**], compare_to: main}
  script: x
`,
    files: { "service/pom.xml": "<project/>" },
    plan: { jobs: [{ id: "docs" }, { id: "java" }] },
  },
  {
    name: "when: manual defaults to allow_failure true; delayed needs start_in; never drops",
    input: `
m: {when: manual, script: x}
d: {when: delayed, start_in: 1h 30m, script: x}
n: {when: never, script: x}
f: {when: on_failure, script: x}
`,
    plan: {
      jobs: [
        { id: "m", when: "manual", allowFailure: true, variables: { CI_JOB_MANUAL: { value: "true" } } },
        { id: "d", when: "delayed", startInMs: 5_400_000 },
        { id: "f", when: "on_failure" },
      ],
    },
  },
  {
    name: "only/except: refs, regex, variables",
    input: `
main-only: {only: [main], script: x}
features: {only: ["/^feature\\\\//"], script: x}
branches: {only: [branches], except: [tags], script: x}
tags-only: {only: [tags], script: x}
vars: {only: {variables: [$DEPLOY == "yes"]}, script: x}
except-feature: {except: ["/^feature/"], script: x}
`,
    variables: { DEPLOY: "yes" },
    plan: { jobs: [{ id: "features" }, { id: "branches" }, { id: "vars" }] },
  },
  {
    name: "workflow rules: no match → no jobs and an info",
    input: `
workflow:
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
job: {script: x}
`,
    plan: { jobs: [] },
    diagnostics: [{ severity: "info", code: "GL016", line: 4, column: 5 }],
  },
  {
    name: "workflow rules variables become globals",
    input: `
workflow:
  rules:
    - if: $CI_COMMIT_BRANCH
      variables: {DEPLOY_ENV: review}
job:
  environment: {name: $DEPLOY_ENV/$CI_COMMIT_REF_SLUG, url: "https://$CI_COMMIT_REF_SLUG.example.com"}
  script: x
`,
    plan: {
      jobs: [
        {
          environment: { name: "review/feature-login-page", url: "https://feature-login-page.example.com" },
          variables: {
            DEPLOY_ENV: { value: "review" },
            CI_ENVIRONMENT_NAME: { value: "review/feature-login-page" },
          },
        },
      ],
    },
  },
  {
    name: "environment slugs as GitLab computes them",
    input: `
a: {environment: {name: Stage Domain, action: stop}, script: x}
b:
  variables: {EXPAND_ME: foobar-long-string}
  environment: {name: "stage-domain-\${EXPAND_ME}"}
  script: x
c: {environment: production, script: x}
`,
    plan: {
      jobs: [
        {
          environment: { name: "Stage Domain", action: "stop" },
          variables: { CI_ENVIRONMENT_SLUG: { value: "stage-domain-ip33nk" } },
        },
        { variables: { CI_ENVIRONMENT_SLUG: { value: "stage-domain-foob-yafktx" } } },
        {
          environment: { name: "production" },
          variables: {
            CI_ENVIRONMENT_SLUG: { value: "production" },
            CI_ENVIRONMENT_TIER: { value: "production" },
          },
        },
      ],
    },
  },
  {
    name: "needs: strings, artifacts false, optional on a missing job, needs: [], project needs warn",
    input: `
one: {stage: build, script: x}
two: {stage: build, script: x}
gone: {stage: build, rules: [{when: never}], script: x}
test:
  needs:
    - one
    - {job: two, artifacts: false}
    - {job: gone, optional: true}
    - {project: group/other, job: release, ref: main}
  script: x
lint:
  needs: []
  script: x
`,
    plan: {
      jobs: [
        { id: "one" },
        { id: "two" },
        {
          id: "test",
          needsMode: "explicit",
          needs: [
            { job: "one", artifacts: true },
            { job: "two", artifacts: false },
          ],
          artifactsFrom: ["one"],
        },
        { id: "lint", needsMode: "explicit", needs: [], artifactsFrom: [] },
      ],
    },
    diagnostics: [{ severity: "warning", code: "GL118", line: 10, message: /project key not supported/ }],
  },
  {
    name: "dependencies restrict artifacts in stage mode and in needs mode",
    input: `
a: {stage: build, script: x}
b: {stage: build, script: x}
c: {stage: test, dependencies: [b], script: x}
d: {stage: test, dependencies: [], script: x}
e:
  stage: deploy
  needs: [{job: a, artifacts: false}, b]
  dependencies: [a, b]
  script: x
`,
    plan: {
      jobs: [
        { id: "a" },
        { id: "b" },
        { id: "c", needsMode: "stage", artifactsFrom: ["b"] },
        { id: "d", artifactsFrom: [] },
        { id: "e", artifactsFrom: ["b"] },
      ],
    },
  },
  {
    name: "parallel: N names jobs like GitLab and sets CI_NODE_INDEX/TOTAL",
    input: `
build: {stage: build, parallel: 3, script: x}
test: {needs: [build], script: x}
`,
    plan: {
      jobs: [
        { id: "build 1/3", variables: { CI_NODE_INDEX: { value: "1" }, CI_NODE_TOTAL: { value: "3" } } },
        { id: "build 2/3" },
        { id: "build 3/3", variables: { CI_NODE_INDEX: { value: "3" } } },
        { id: "test", needs: [{ job: "build 1/3" }, { job: "build 2/3" }, { job: "build 3/3" }] },
      ],
    },
  },
  {
    name: "parallel: matrix and matrix needs with $[[ matrix.X ]]",
    input: `
build:
  stage: build
  parallel:
    matrix:
      - OS: [linux, mac]
        ARCH: [x64]
      - OS: win
  script: x
test:
  parallel: {matrix: [{OS: [linux, win]}]}
  needs:
    - job: build
      parallel: {matrix: [{OS: "$[[ matrix.OS ]]"}]}
  script: x
`,
    plan: {
      jobs: [
        {
          id: "build: [linux, x64]",
          matrix: { OS: "linux", ARCH: "x64" },
          variables: { OS: { value: "linux" }, CI_NODE_INDEX: { value: "1" }, CI_NODE_TOTAL: { value: "3" } },
        },
        { id: "build: [mac, x64]" },
        { id: "build: [win]", matrix: { OS: "win" } },
        { id: "test: [linux]", needs: [{ job: "build: [linux, x64]", artifacts: true }] },
        { id: "test: [win]", needs: [{ job: "build: [win]", artifacts: true }] },
      ],
    },
  },
  {
    name: "artifacts and cache",
    input: `
variables: {DIR: out}
job:
  script: x
  artifacts:
    name: bundle
    paths: [$CI_PROJECT_DIR/dist/, "$DIR/*.js"]
    exclude: [dist/**/*.map]
    when: always
    expire_in: 1 week
    untracked: true
    reports: {junit: report.xml, dotenv: [build.env]}
  cache:
    - key: deps-$CI_COMMIT_REF_SLUG
      paths: [node_modules/]
      policy: pull
      fallback_keys: [deps-main]
    - key: {files: [package-lock.json], prefix: npm}
      paths: [.npm/]
      when: always
`,
    plan: {
      jobs: [
        {
          artifacts: {
            name: "bundle",
            paths: ["dist/", "out/*.js"],
            exclude: ["dist/**/*.map"],
            when: "always",
            expireIn: "1 week",
            untracked: true,
            reports: { junit: ["report.xml"], dotenv: ["build.env"] },
          },
          cache: [
            {
              key: "deps-$CI_COMMIT_REF_SLUG",
              paths: ["node_modules/"],
              policy: "pull",
              when: "on_success",
              fallbackKeys: ["deps-main"],
            },
            {
              key: { files: ["package-lock.json"], prefix: "npm" },
              paths: [".npm/"],
              policy: "pull-push",
              when: "always",
            },
          ],
        },
      ],
    },
  },
  {
    name: "allow_failure exit codes, retry, timeout, interruptible, coverage",
    input: `
job:
  script: x
  allow_failure: {exit_codes: [42, 137]}
  retry: {max: 2, when: [script_failure], exit_codes: 137}
  timeout: 1h 30m
  interruptible: true
  coverage: '/Lines: (\\d+)%/'
simple: {script: x, retry: 1, timeout: 45 minutes, allow_failure: true, coverage: '/(?i)total.*? (\\d+)%$/'}
`,
    plan: {
      jobs: [
        {
          allowFailure: false,
          allowFailureExitCodes: [42, 137],
          retry: { max: 2, when: ["script_failure"], exitCodes: [137] },
          timeoutMs: 5_400_000,
          interruptible: true,
          coverage: "/Lines: (\\d+)%/",
        },
        {
          allowFailure: true,
          retry: { max: 1, when: [] },
          timeoutMs: 2_700_000,
          coverage: "/total.*? (\\d+)%$/i",
        },
      ],
    },
  },
  {
    name: "image and services → docker executor; tags → labels",
    input: `
default:
  image: node:20
job:
  services:
    - postgres:16
    - {name: registry.example.com/team/redis:7, alias: cache}
  tags: [docker, linux]
  script: x
bare:
  image: {name: alpine, entrypoint: [""], pull_policy: [if-not-present]}
  script: x
`,
    plan: {
      jobs: [
        {
          executor: {
            kind: "docker",
            labels: ["docker", "linux"],
            image: { name: "node:20" },
            services: [
              { name: "postgres:16", alias: ["postgres"], variables: {} },
              { name: "registry.example.com/team/redis:7", alias: ["cache"], variables: {} },
            ],
          },
        },
        {
          executor: {
            kind: "docker",
            image: { name: "alpine", entrypoint: [""], pullPolicy: ["if-not-present"] },
            services: [],
          },
        },
      ],
    },
  },
  {
    name: "include: local file, glob, nested; the including file wins",
    input: `
include:
  - local: /ci/base.yml
  - ci/jobs/*.yml
variables: {WHO: main}
`,
    files: {
      "ci/base.yml": "include: ci/nested.yml\nvariables: {WHO: base, BASE: yes}\n",
      "ci/nested.yml": "nested: {script: nested}\n",
      "ci/jobs/a.yml": "a: {script: a}\n",
      "ci/jobs/b.yml": "b: {script: b}\n",
    },
    plan: {
      variables: { WHO: { value: "main" }, BASE: { value: "yes" } },
      jobs: [{ id: "nested", loc: { file: "ci/nested.yml", line: 1, column: 1 } }, { id: "a" }, { id: "b" }],
    },
  },
  {
    name: "include rules decide whether a file is included",
    input: `
include:
  - local: yes.yml
    rules: [{if: $CI_COMMIT_TAG}]
  - local: no.yml
    rules: [{if: '$GITLAB_CI == "false"'}]
  - local: always.yml
`,
    variables: { CI_COMMIT_TAG: "1.0.0" },
    files: {
      "yes.yml": "yes: {script: x}\n",
      "no.yml": "no: {script: x}\n",
      "always.yml": "always: {script: x}\n",
    },
    plan: { jobs: [{ id: "yes" }, { id: "always" }] },
  },
  {
    name: "include: missing file, remote and template kinds → diagnostics",
    input: `
include:
  - local: missing.yml
  - remote: https://example.com/ci.yml
  - template: Auto-DevOps.gitlab-ci.yml
job: {script: x}
`,
    diagnostics: [
      { severity: "error", code: "GL067", line: 3, column: 12, message: /cannot be found: missing\.yml/ },
      { severity: "error", code: "GL062", line: 4, message: /include:remote is not supported yet/ },
      { severity: "error", code: "GL062", line: 5, message: /include:template is not supported yet/ },
    ],
  },
  {
    name: "errors in an included file point into that file",
    input: `include: other.yml\n`,
    files: { "other.yml": "job:\n  scirpt: x\n" },
    diagnostics: [
      {
        severity: "error",
        code: "GL020",
        file: "other.yml",
        line: 2,
        column: 3,
        hint: /did you mean "script"/,
      },
      { severity: "error", code: "GL025", file: "other.yml", line: 1 },
    ],
  },
  {
    name: "spec:inputs defaults are interpolated",
    input: `spec:
  inputs:
    who: {default: world}
    cmds: {type: array, default: [echo a, echo b]}
---
job:
  script:
    - echo hello $[[ inputs.who ]]
    - $[[ inputs.cmds ]]
`,
    plan: { jobs: [{ steps: [{ commands: ["echo hello world", "echo a", "echo b"] }] }] },
  },
  {
    name: "names that are Object.prototype members are plain names",
    input: `
__proto__: {script: x, variables: {constructor: c}}
toString: {needs: [__proto__], script: y}
`,
    plan: {
      jobs: [
        { id: "__proto__", variables: { constructor: { value: "c" } } },
        { id: "toString", needs: [{ job: "__proto__", artifacts: true }] },
      ],
    },
  },
  {
    name: "unsupported keys in default warn once; other reports are plain artifacts",
    input: `
default:
  id_tokens: {TOKEN: {aud: x}}
a:
  script: x
  artifacts:
    reports:
      coverage_report: {coverage_format: cobertura, path: cov.xml}
      sast: gl-sast.json
b: {script: x}
`,
    plan: { jobs: [{ artifacts: { paths: ["cov.xml", "gl-sast.json"] } }, { id: "b" }] },
    diagnostics: [{ severity: "warning", code: "GL022", line: 3, column: 3, message: /^default: id_tokens/ }],
  },
  {
    name: "inherit: variables false or a list of names",
    input: `
variables: {A: a, B: b}
none: {inherit: {variables: false}, script: x}
some: {inherit: {variables: [B]}, script: x}
`,
    plan: { jobs: [{ id: "none" }, { id: "some", variables: { B: { value: "b" } } }] },
  },
  {
    name: "duplicate keys: the last wins, with a warning",
    input: `
variables: {A: "1"}
variables: {B: "2"}
job: {script: x}
`,
    plan: { variables: { B: { value: "2" } } },
    diagnostics: [{ severity: "warning", code: "GL008", line: 3, column: 1 }],
  },
  {
    name: "artifacts: expire_in that is not a duration warns (kept as written); variables and never do not",
    input: `
a: {script: x, artifacts: {paths: [out/], expire_in: "2 fortnights"}}
b: {script: x, artifacts: {paths: [out/], expire_in: "3 days 4 hrs"}}
c: {script: x, artifacts: {paths: [out/], expire_in: never}}
d: {script: x, artifacts: {paths: [out/], expire_in: $KEEP}}
`,
    plan: {
      jobs: [{ id: "a", artifacts: { expireIn: "2 fortnights" } }, { id: "b" }, { id: "c" }, { id: "d" }],
    },
    diagnostics: [
      { severity: "warning", code: "GL125", line: 2, message: /"2 fortnights" is not a duration/ },
    ],
  },
];

const badInput: Case[] = [
  {
    name: "malformed YAML: position of the parse error",
    input: "job:\n  script: [echo, \n  stage: build\n",
    diagnostics: [{ severity: "error", code: "GL001", line: 3 }],
  },
  {
    name: "unknown job keyword with did-you-mean, all problems in one pass",
    input: `
job:
  scirpt: [x]
  script: [x]
  stage: buid
other:
  script: x
  needs: [nope]
  when: sometimes
`,
    diagnostics: [
      {
        severity: "error",
        code: "GL020",
        line: 3,
        column: 3,
        message: /unknown keyword "scirpt"/,
        hint: /did you mean "script"/,
      },
      { severity: "error", code: "GL024", line: 5, column: 10, hint: /did you mean "build"/ },
      { severity: "error", code: "GL113", line: 8, column: 11, message: /needs "nope"/ },
      { severity: "error", code: "GL028", line: 9, column: 9, message: /sometimes/ },
    ],
  },
  {
    name: "wrong types",
    input: `
variables: [A, B]
job:
  script: {a: b}
  retry: 5
  timeout: forever
  parallel: "two"
`,
    diagnostics: [
      { severity: "error", code: "GL070", line: 2, column: 12 },
      { severity: "error", line: 4, column: 11, message: /script must be a string or a list/ },
      { severity: "error", line: 5, column: 10, message: /retry/ },
      { severity: "error", line: 6, column: 12, message: /timeout/ },
      { severity: "error", line: 7, column: 13, message: /parallel/ },
    ],
  },
  {
    name: "a misspelt global keyword is not taken for a job",
    input: `
varibles:
  A: "1"
job: {script: x}
`,
    diagnostics: [{ severity: "error", code: "GL013", line: 2, column: 1, hint: /did you mean "variables"/ }],
  },
  {
    name: "a parallel job's name clashes with another job",
    input: `
"build 1/2": {script: x}
build: {parallel: 2, script: x}
`,
    diagnostics: [
      { severity: "error", code: "GL103", line: 3, column: 1, message: /"build 1\/2" is used twice/ },
    ],
  },
  {
    name: "user keys that shadow Object methods do not break schema validation (fuzz regression)",
    input: `stages: [{}, {toString: ""}, test]\njob: {script: x}\n`,
    diagnostics: [
      { severity: "error", code: "GL014", line: 1, column: 10 },
      { severity: "error", code: "GL014", line: 1, column: 14 },
    ],
  },
  {
    name: "unknown keyword in default",
    input: "default:\n  script: [x]\njob: {script: x}\n",
    diagnostics: [{ severity: "error", code: "GL018", line: 2, column: 3 }],
  },
  {
    name: "include cycle",
    input: "include: a.yml\njob: {script: x}\n",
    files: { "a.yml": "include: b.yml\n", "b.yml": "include: a.yml\n" },
    diagnostics: [
      {
        severity: "error",
        code: "GL069",
        file: "b.yml",
        line: 1,
        column: 10,
        message: /include cycle: \.gitlab-ci\.yml -> a\.yml -> b\.yml -> a\.yml/,
      },
    ],
  },
  {
    name: "a need on a job of a later stage",
    input: `
build: {stage: build, needs: [deploy], script: x}
deploy: {stage: deploy, script: x}
`,
    diagnostics: [{ severity: "error", code: "GL119", line: 2, column: 31, message: /later stage "deploy"/ }],
  },
  {
    name: "needs cycle",
    input: `
a: {needs: [b], script: x}
b: {needs: [c], script: x}
c: {needs: [a], script: x}
`,
    diagnostics: [
      { severity: "error", code: "GL124", line: 4, column: 12, message: /needs cycle: a -> b -> c -> a/ },
    ],
  },
  {
    name: "need on a job left out by rules",
    input: `
never: {rules: [{when: never}], script: x}
job: {needs: [never], script: x}
`,
    diagnostics: [{ severity: "error", code: "GL112", line: 3, column: 15 }],
  },
  {
    name: "matrix larger than 200 jobs",
    input: `
job:
  script: x
  parallel:
    matrix:
      - A: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        B: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
`,
    diagnostics: [{ severity: "error", code: "GL102", line: 5, column: 5, message: /more than 200 jobs/ }],
  },
  {
    name: "job without script, empty rules, rules with only",
    input: `
a: {stage: build}
b: {rules: [], script: x}
c: {rules: [{when: always}], only: [main], script: x}
`,
    diagnostics: [
      { severity: "error", code: "GL025", line: 2, column: 1 },
      { severity: "error", code: "GL027", line: 3, column: 12 },
      { severity: "error", code: "GL026", line: 4, column: 12 },
    ],
  },
  {
    name: "bad rules expression",
    input: `
job:
  rules: [{if: '$A == "x" &&'}]
  script: x
`,
    diagnostics: [{ severity: "error", code: "GL030", line: 3, column: 16, message: /unexpected end/ }],
  },
  {
    name: "schema errors point at the node",
    input: `
job:
  script: x
  interruptible: "yes"
  artifacts:
    reports:
      junit: 3
`,
    diagnostics: [
      {
        severity: "error",
        code: "GL000",
        line: 4,
        column: 18,
        message: /schema: job\.interruptible must be boolean/,
      },
      {
        severity: "error",
        code: "GL082",
        line: 7,
        column: 14,
        message: /junit must be a list of strings, got a number/,
      },
    ],
  },
  {
    name: "dependencies on a missing job, needs not a list, empty needs entry",
    input: `
a: {script: x, dependencies: [ghost]}
b: {script: x, needs: a}
c: {script: x, needs: [~]}
`,
    diagnostics: [
      { severity: "error", code: "GL117", line: 2, column: 31 },
      { severity: "error", code: "GL110", line: 3, column: 23 },
      { severity: "error", code: "GL111", line: 4, column: 24 },
    ],
  },
];

function check(c: Case): () => Promise<void> {
  return async () => {
    const r = await compile(c.input, c);
    const errs = r.diagnostics.filter((d) => d.severity === "error");
    const expectedErrors = (c.diagnostics ?? []).filter((d) => d.severity === "error");
    const shown = r.diagnostics.map(
      (d) => `${d.severity} ${d.file}:${d.line}:${d.column} ${d.code} ${d.message} | ${d.hint ?? ""}`,
    );
    expect(errs.length, shown.join("\n")).toBe(expectedErrors.length);
    for (const d of c.diagnostics ?? []) {
      const want: Record<string, unknown> = { ...d };
      if (d.message) want.message = s(d.message);
      if (d.hint) want.hint = s(d.hint);
      expect(r.diagnostics, shown.join("\n")).toContainEqual(expect.objectContaining(want));
    }
    if (c.plan) {
      expect(r.plan, JSON.stringify(r.diagnostics)).toBeDefined();
      expect(r.plan).toMatchObject(c.plan);
      expect(JSON.parse(JSON.stringify(r.plan))).toEqual(r.plan);
      expect(validatePlan(r.plan!)).toEqual([]);
    } else {
      expect(r.plan).toBeUndefined();
    }
  };
}

describe("gitlab compile: golden table", () => {
  for (const c of cases) it(c.name, check(c));
});

describe("gitlab compile: bad input", () => {
  for (const c of badInput) it(c.name, check(c));
});

describe("gitlab compile: details", () => {
  it("inherit: variables false leaves every global variable out", async () => {
    const r = await compile(
      "variables: {A: a, B: b}\nnone: {inherit: {variables: false}, script: x}\nsome: {inherit: {variables: [B]}, script: x}\n",
    );
    const [none, some] = r.plan!.jobs;
    expect(none!.variables.A).toBeUndefined();
    expect(none!.variables.B).toBeUndefined();
    expect(some!.variables.A).toBeUndefined();
    expect(none!.variables.CI_JOB_NAME).toEqual({ kind: "value", value: "none" });
  });
});
