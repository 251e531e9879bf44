/**
 * The Plan: the one contract between the pipeline frontends (gantry.yml, .gitlab-ci.yml,
 * Jenkinsfile) and everything that runs or shows a pipeline (engine, server, runner, UI).
 *
 * Rules of the contract:
 * - Plain data only: it survives `JSON.stringify`/`JSON.parse` unchanged (no classes,
 *   functions, `undefined`-only semantics, Maps or Dates).
 * - Everything a frontend can decide at compile time is decided there: `extends`, includes,
 *   anchors, GitLab `rules`, matrix expansion, variable precedence and which jobs' artifacts a
 *   job receives. What can only be known at run time (Jenkins/gantry `when` conditions, cache
 *   keys from files, credentials) is kept as data for the engine to evaluate.
 * - `PLAN_VERSION` changes whenever a consumer could misread an older or newer Plan.
 *
 * The golden tests in `test/pipeline/` pin its shape.
 */
export const PLAN_VERSION = 1 as const;

/** A 1-based position in a source file. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type PipelineFormat = "gantry" | "gitlab" | "jenkins";

export interface Plan {
  version: typeof PLAN_VERSION;
  format: PipelineFormat;
  /** Path of the pipeline file, relative to the project directory. */
  file: string;
  /** Ordered stage names; every `Job.stage` is one of them. Used for display and stage ordering. */
  stages: string[];
  /** Pipeline parameters (Jenkins `parameters`, gantry.yml `parameters`). */
  parameters: Parameter[];
  /** Triggers recorded for the server (cron specs). */
  triggers: Trigger[];
  options: PipelineOptions;
  jobs: Job[];
  /** Pipeline-level post conditions (Jenkins/gantry), run after all jobs, on the pipeline's agent. */
  post: Post;
  /** Executor for the pipeline-level post block. */
  executor: ExecutorSpec;
  /** Pipeline-level variables, already merged into each job's `variables`; kept for display. */
  variables: Record<string, Variable>;
}

export interface PipelineOptions {
  timeoutMs?: number;
  retry?: number;
  skipDefaultCheckout?: boolean;
  timestamps?: boolean;
  disableConcurrentBuilds?: boolean;
  /** `buildDiscarder(logRotator(...))` and similar, recorded verbatim. */
  buildDiscarder?: Record<string, string>;
  /** Jenkins `parallelsAlwaysFailFast()`. */
  failFast?: boolean;
}

export type ParameterType = "string" | "text" | "boolean" | "choice" | "password";

export interface Parameter {
  name: string;
  type: ParameterType;
  default?: string;
  description?: string;
  /** For `choice`: the allowed values; the first is the default. */
  choices?: string[];
}

export type Trigger =
  { kind: "cron"; spec: string } | { kind: "pollSCM"; spec: string } | { kind: "upstream"; spec: string };

/**
 * A variable as the job will see it.
 * - `value`: a literal; `expand: false` (GitLab `expand: false`) means `$OTHER` inside it is
 *   not expanded. `masked` values are replaced by `[MASKED]` in every output.
 * - `credential`: resolved at run time from Gantry secrets; always masked. `part` picks what
 *   to inject: the whole secret, the user or password half of a username/password secret
 *   (`user:password`), or `file` (written to a temporary file; the variable is its path).
 */
export type Variable =
  | { kind: "value"; value: string; expand?: boolean; masked?: boolean }
  | {
      kind: "credential";
      id: string;
      part: "secret" | "username" | "password" | "usernamePassword" | "file";
    };

export type JobWhen = "on_success" | "on_failure" | "always" | "manual" | "delayed";

export interface Need {
  /** `Job.id` of the needed job. */
  job: string;
  /** Whether this job receives the needed job's artifacts. */
  artifacts: boolean;
  /** GitLab `optional: true`: ignored when the job is not in the pipeline. Frontends drop it then. */
  optional?: boolean;
}

export interface RetryPolicy {
  /** Extra attempts after the first (GitLab `retry: max`, Jenkins `retry(n)` option minus one). */
  max: number;
  /** GitLab `retry: when` values; empty means any failure. */
  when: string[];
  exitCodes?: number[];
}

export interface ImageSpec {
  name: string;
  entrypoint?: string[];
  /** Tried in order, GitLab style. Default: `["always"]` for `:latest` or untagged, else `["if-not-present"]`. */
  pullPolicy?: ("always" | "if-not-present" | "never")[];
  user?: string;
  platform?: string;
}

export interface ServiceSpec {
  name: string;
  alias: string[];
  entrypoint?: string[];
  command?: string[];
  variables: Record<string, string>;
  pullPolicy?: ("always" | "if-not-present" | "never")[];
}

/** Where a job's steps run. `labels` select runners on the server. */
export type ExecutorSpec =
  | { kind: "shell"; labels: string[] }
  | {
      kind: "docker";
      labels: string[];
      image?: ImageSpec;
      /** Jenkins `agent { dockerfile ... }` / gantry `agent: {dockerfile: ...}`: built first. */
      build?: {
        dockerfile: string;
        context: string;
        buildArgs: Record<string, string>;
        additionalArgs?: string;
      };
      services: ServiceSpec[];
      /** Extra `docker run` arguments (Jenkins `args`), recorded; the executor supports a safe subset. */
      args?: string;
      reuseNode?: boolean;
    }
  | {
      kind: "kubernetes";
      labels: string[];
      /** Pod YAML (Jenkins `yaml`), or a file holding it (`yamlFile`). */
      yaml?: string;
      yamlFile?: string;
      defaultContainer?: string;
      cloud?: string;
      inheritFrom?: string;
    }
  /** Jenkins `agent none` at a level where a stage has no agent of its own: no steps may run. */
  | { kind: "none"; labels: string[] };

export type ArtifactWhen = "on_success" | "on_failure" | "always";

export interface Artifacts {
  name?: string;
  paths: string[];
  exclude: string[];
  untracked?: boolean;
  when: ArtifactWhen;
  /** Recorded as written (`1 week`), enforced by the server. */
  expireIn?: string;
  reports: { junit: string[]; dotenv: string[] };
}

export interface Cache {
  /** A literal key (variables expanded at run time), or a key computed from files' contents. */
  key: string | { files: string[]; prefix?: string };
  paths: string[];
  untracked?: boolean;
  policy: "pull" | "push" | "pull-push";
  when: ArtifactWhen;
  fallbackKeys?: string[];
}

export interface Input {
  message: string;
  ok: string;
  /** Comma-separated user or group names allowed to approve; empty means anyone. */
  submitter?: string;
  /** Variable that receives the approver's name. */
  submitterParameter?: string;
  parameters: Parameter[];
}

export type BuildResult = "SUCCESS" | "UNSTABLE" | "FAILURE" | "NOT_BUILT" | "ABORTED";

/** Jenkins' post conditions, in the order Jenkins runs them. */
export const POST_CONDITIONS = [
  "always",
  "changed",
  "fixed",
  "regression",
  "aborted",
  "success",
  "unsuccessful",
  "unstable",
  "failure",
  "cleanup",
] as const;
export type PostCondition = (typeof POST_CONDITIONS)[number];
export type Post = Partial<Record<PostCondition, Step[]>>;

/**
 * A run-time condition (Jenkins `when`, gantry.yml `when`), evaluated by the engine when the
 * job's needs are met. GitLab `rules` are resolved at compile time and never appear here.
 */
export type Condition =
  | { kind: "branch"; pattern: string; comparator: Comparator }
  | { kind: "tag"; pattern?: string; comparator: Comparator }
  | { kind: "buildingTag" }
  | { kind: "changeRequest" }
  | { kind: "environment"; name: string; value: string }
  | { kind: "equals"; expected: string; actual: string }
  | {
      kind: "changeset";
      pattern: string;
      caseSensitive: boolean;
      /** Jenkins `changeset pattern: '...', comparator: 'REGEXP'`; absent means GLOB. */
      comparator?: Comparator;
    }
  | { kind: "triggeredBy"; cause: string }
  | { kind: "expression"; expr: Expr; source: string }
  | { kind: "not"; condition: Condition }
  | { kind: "allOf"; conditions: Condition[] }
  | { kind: "anyOf"; conditions: Condition[] };

export type Comparator = "EQUALS" | "GLOB" | "REGEXP";

/**
 * A small, safe expression language (no `eval`): what Jenkins `expression {}` blocks and
 * gantry.yml `when.expression` strings compile to. Strings may contain `${...}` interpolation,
 * which frontends compile to `concat`.
 */
export type Expr =
  | { kind: "literal"; value: string | number | boolean | null }
  | { kind: "var"; scope: "env" | "params" | "currentBuild" | "bare"; name: string }
  | { kind: "concat"; parts: Expr[] }
  | { kind: "unary"; op: "!" | "-"; arg: Expr }
  | {
      kind: "binary";
      op: "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||" | "=~" | "==~" | "+" | "in";
      left: Expr;
      right: Expr;
    }
  | { kind: "ternary"; test: Expr; then: Expr; else: Expr }
  | { kind: "call"; target: Expr | null; method: string; args: Expr[] }
  | { kind: "list"; items: Expr[] };

/**
 * One step. `sh` and `script` run in the executor; the rest are carried out by the engine on
 * the job's workspace (which executors expose as a host directory).
 */
export type Step = (
  | { kind: "sh"; script: string; label?: string }
  /** GitLab `script`: commands run in one shell, each echoed as `$ cmd`, stopping at the first failure. */
  | { kind: "script"; commands: string[] }
  | { kind: "echo"; message: string }
  | { kind: "dir"; path: string; steps: Step[] }
  | { kind: "withEnv"; env: Record<string, string>; steps: Step[] }
  | { kind: "withCredentials"; bindings: CredentialBinding[]; steps: Step[] }
  | {
      kind: "archiveArtifacts";
      paths: string[];
      exclude: string[];
      allowEmpty: boolean;
      fingerprint?: boolean;
    }
  | { kind: "stash"; name: string; includes: string[]; exclude: string[]; allowEmpty: boolean }
  | { kind: "unstash"; name: string }
  | { kind: "retry"; count: number; steps: Step[] }
  | { kind: "timeout"; ms: number; steps: Step[] }
  | { kind: "error"; message: string }
  /** Jenkins `unstable('msg')`: marks the job unstable, goes on. */
  | { kind: "unstable"; message: string }
  | { kind: "writeFile"; file: string; text: string }
  | { kind: "sleep"; ms: number }
  | {
      kind: "catchError";
      buildResult: BuildResult;
      stageResult: BuildResult;
      message?: string;
      steps: Step[];
    }
  | { kind: "junit"; patterns: string[]; allowEmpty: boolean }
  | { kind: "deleteDir" }
  | { kind: "checkout" }
  | {
      kind: "dockerBuild";
      context: string;
      dockerfile?: string;
      tags: string[];
      buildArgs: Record<string, string>;
      target?: string;
      labels: Record<string, string>;
      push?: { registry: string; credential?: string };
    }
  | {
      kind: "scan";
      path: string;
      only?: string[];
      failOn: "info" | "low" | "medium" | "high" | "critical" | "never";
      format: "sarif" | "json" | "gitlab";
      output: string;
    }
) & { loc?: SourceLocation };

export type CredentialBinding =
  | { kind: "string"; credentialsId: string; variable: string }
  | { kind: "usernamePassword"; credentialsId: string; usernameVariable: string; passwordVariable: string }
  | { kind: "file"; credentialsId: string; variable: string };

export interface Job {
  /** Unique within the Plan; what `needs` refer to. GitLab: the job name; Jenkins/gantry: the stage path. */
  id: string;
  /** Display name. */
  name: string;
  stage: string;
  /**
   * `"explicit"`: the job waits for exactly `needs`. `"stage"`: it also waits for every job of
   * every earlier stage (GitLab without `needs`); frontends still list those jobs in `needs`.
   */
  needsMode: "explicit" | "stage";
  needs: Need[];
  /** Jobs whose artifacts are copied into this job's workspace before it starts. */
  artifactsFrom: string[];
  when: JobWhen;
  /** For `when: delayed`. */
  startInMs?: number;
  allowFailure: boolean;
  /** GitLab `allow_failure: exit_codes`: only these exit codes are allowed to fail. */
  allowFailureExitCodes?: number[];
  retry: RetryPolicy;
  timeoutMs?: number;
  /** Every variable the job sees from the pipeline file and the command line, precedence applied. */
  variables: Record<string, Variable>;
  executor: ExecutorSpec;
  steps: Step[];
  /** GitLab `after_script`: a fresh shell after the steps whatever the outcome; failures do not change the result. */
  afterSteps: Step[];
  post: Post;
  artifacts?: Artifacts;
  cache: Cache[];
  environment?: { name: string; url?: string; action?: string };
  /** Regex applied to the log to extract a coverage percentage. */
  coverage?: string;
  interruptible?: boolean;
  /** An approval asked before the steps run. */
  input?: Input;
  /** Run-time condition; false means the job is skipped (its dependents still run). */
  condition?: Condition;
  /** Jenkins `beforeAgent`/`beforeInput`: when to evaluate `condition`. Default: before input, after agent. */
  conditionTiming?: { beforeAgent?: boolean; beforeInput?: boolean; beforeOptions?: boolean };
  /** The matrix cell this job was expanded from. */
  matrix?: Record<string, string>;
  /** Jobs of one Jenkins `parallel` with `failFast true`: when one fails, the others are aborted. */
  failFastGroup?: string;
  /**
   * Jobs with the same key share one workspace, created by the first of them and not copied
   * again (Jenkins stages on the pipeline's agent share its workspace). Absent: the job gets
   * a fresh workspace of its own (GitLab).
   */
  workspace?: string;
  /** Display path of enclosing stages (Jenkins nested `stages`/`parallel`), outermost first. */
  parents?: string[];
  loc: SourceLocation;
}
