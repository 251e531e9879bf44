/**
 * What every PURE and DECL+EXPR sample of ../shared/corpus/jenkins does when `gantry run` runs
 * it with the shell executor: the runs (arguments, branch), and for each the outcome Jenkins
 * gives — exit code, the final status of every job, log lines per job, lines that must not
 * appear, archived files. Samples Gantry cannot run on this machine are listed with the reason.
 *
 * Where Gantry still differs from Jenkins, `known` says what and whose it is; the test checks
 * that the difference is still there (so a fix turns the test red and the entry is removed) and
 * does not count the sample as "ran as expected".
 *
 * No runnable sample calls a build tool (mvn, make, gradle, python): the ones that do run it in
 * a docker or kubernetes agent and are in NOT_RUNNABLE, so no stand-in commands are needed.
 */
import type { JobStatus, RunStatus } from "../../src/engine/events.js";

/** One `gantry run` of a sample. */
export interface SampleRun {
  /** Shown in the test name when a sample has several runs. */
  label?: string;
  /** Extra `gantry run` arguments (`--approve`, `--param`, `--secret`, `--variable`, `--library`). */
  args?: string[];
  /** Check out this branch (created from master) before running. */
  branch?: string;
  expect: Expectation;
  known?: KnownDivergence;
}

export interface Expectation {
  code: number;
  run: RunStatus;
  /** The final status of every job of the Plan (exactly these jobs). */
  jobs: Record<string, JobStatus>;
  /** Lines a job logs, in this order (other lines may come between). `(post)` is the pipeline post. */
  logs?: Record<string, string[]>;
  /** Text no job may log. */
  absent?: string[];
  /** How many attempts a job took (retry). */
  attempts?: Record<string, number>;
  /** Archived files (by name, from any job) and their exact content. */
  artifacts?: Record<string, string>;
  /** The compile diagnostics printed, as `severity[code]`, in order; none when absent. */
  diagnostics?: string[];
}

/** What Jenkins does that Gantry does not (yet); asserted to be still missing. */
export interface KnownDivergence {
  owner: "engine" | "compiler";
  what: string;
  /** Lines Jenkins logs (job → lines) that Gantry does not. */
  missingLogs?: Record<string, string[]>;
  /** Archived files whose content in Jenkins differs: name → [Jenkins, Gantry]. */
  artifacts?: Record<string, [string, string]>;
}

/** Why a sample cannot run here; `needs` is checked against the compiled Plan. */
export interface NotRunnable {
  needs: "docker" | "kubernetes";
  reason: string;
}

const SECRETS = [
  "--secret",
  "cred1=one-secret",
  "--secret",
  "cred2=two-secret",
  "--secret",
  "cred3=three-secret",
];

/** A change request that matches every `changeRequest` condition of whenChangeRequest but `author: "bob.*"` (REGEXP is case-sensitive, as in Jenkins). */
export const CHANGE_REQUEST: Record<string, string> = {
  CHANGE_ID: "12",
  CHANGE_BRANCH: "CR-12",
  CHANGE_TARGET: "release-1",
  CHANGE_FORK: "fork",
  CHANGE_URL: "https://git.example.com/pr/12",
  CHANGE_TITLE: "Fix a regression in the parser",
  CHANGE_AUTHOR: "Bobby",
  CHANGE_AUTHOR_DISPLAY_NAME: "Bob Smith",
  CHANGE_AUTHOR_EMAIL: "bob@example.com",
};

const CHANGE_STAGES: [string, string][] = [
  ["IsChange", "World"],
  ["ChangeId", "Id is in the tens"],
  ["ChangeAndBranch", "We are in the tens"],
  ["ChangeTarget", "Target release"],
  ["ChangeBranch", "From CR branch"],
  ["ChangeFork", "From origin fork"],
  ["ChangeUrlX", "From urlX example"],
  ["ChangeTitle", "title names a regression"],
  ["ChangeTitleX", "titleX names a regression"],
  ["ChangeAuthor", "Author is a cool guy"],
  ["ChangeAuthorX", "AuthorX is nice"],
  ["ChangeAuthorDisplayName", "Author displays coolness"],
  ["ChangeAuthorDisplayNameX", "AuthorX displays coolness"],
  ["ChangeAuthorEmail", "Author has a cool job"],
  ["ChangeAuthorEmailX", "Author is probably a robot"],
];

function matrixJobs(cells: string[]): Record<string, JobStatus> {
  const out: Record<string, JobStatus> = {};
  for (const c of cells) {
    out[`foo / ${c} / first`] = "success";
    out[`foo / ${c} / second`] = "success";
  }
  return out;
}

const TWO_AXIS_CELLS = [
  "OS_VALUE=linux, BROWSER_VALUE=firefox",
  "OS_VALUE=linux, BROWSER_VALUE=chrome",
  "OS_VALUE=windows, BROWSER_VALUE=firefox",
  "OS_VALUE=windows, BROWSER_VALUE=chrome",
  "OS_VALUE=windows, BROWSER_VALUE=safari",
  "OS_VALUE=windows, BROWSER_VALUE=ie",
  "OS_VALUE=mac, BROWSER_VALUE=firefox",
  "OS_VALUE=mac, BROWSER_VALUE=chrome",
  "OS_VALUE=mac, BROWSER_VALUE=safari",
];

/**
 * The runs of each runnable sample. `$USER` in a line is replaced by the local user (who
 * approves inputs locally); `$LIB_ECHO_UTILS`/`$LIB_WHERE_FROM` by the test's library repos.
 */
export const RUNNABLE: Record<string, SampleRun[]> = {
  "pmd__simplePipeline.groovy": [
    { expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["hello"] } } },
  ],
  "pmd__twoStages.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { hello: "success", goodbye: "success" },
        logs: { hello: ["hello world"], goodbye: ["goodbye world", "no, really, we're leaving"] },
      },
    },
  ],
  // Jenkins fails it too: `sh` needs a node and the pipeline has `agent none`.
  "pmd__agent_agentNone.groovy": [
    {
      expect: {
        diagnostics: ["warning[JK-no-agent]"],
        code: 1,
        run: "failed",
        jobs: { foo: "failed" },
        logs: { foo: ["gantry: this stage has `agent none`, so there is no machine to run shell steps on"] },
        absent: ["The answer is 42"],
      },
    },
  ],
  // Labels run on the local shell executor; WHICH_AGENT is a property Jenkins' test nodes define,
  // supplied here with --variable.
  "pmd__agent_agentOnGroup.groovy": [
    {
      args: ["--variable", "WHICH_AGENT=local-node"],
      expect: {
        code: 0,
        run: "success",
        jobs: {
          "foo / solo": "success",
          "foo / other-agent / first-other": "success",
          "foo / other-agent / second-other": "success",
        },
        logs: {
          "foo / solo": ["Solo stage agent: local-node"],
          "foo / other-agent / first-other": ["First other stage agent: local-node"],
          "foo / other-agent / second-other": ["Second other stage agent: local-node"],
        },
      },
    },
  ],
  "pmd__basic_topLevelStageGroup.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { "foo / bar": "success", "foo / baz": "success" },
        logs: { "foo / bar": ["In stage bar in group foo"], "foo / baz": ["In stage baz in group foo"] },
      },
    },
  ],
  "pmd__environment_credentialsInGroup.groovy": [
    {
      args: SECRETS,
      expect: {
        diagnostics: ["info[JK-deprecated]"],
        code: 0,
        run: "success",
        jobs: {
          "foo / solo": "success",
          "foo / group / first-in-group": "success",
          "foo / group / second-in-group": "success",
        },
        logs: { "(post)": ["Archived 3 artifact file(s)"] },
        artifacts: { "cred1.txt": "one-secret", "cred2.txt": "two-secret", "cred3.txt": "three-secret" },
      },
    },
  ],
  "pmd__environment_fileCredentialsInEnv.groovy": [
    {
      args: [...SECRETS, "--secret", "fileCred=file-secret", "--secret", "otherFileCred=other-file-secret"],
      expect: {
        diagnostics: ["info[JK-deprecated]"],
        code: 0,
        run: "success",
        jobs: { foo: "success", bar: "success" },
        logs: {
          foo: ["FILECRED is [MASKED]", "INBETWEEN is Something [MASKED] between"],
          bar: [
            "OTHERCRED is [MASKED]",
            "OTHER_INBETWEEN is THIS [MASKED] THAT",
            "Archived 2 artifact file(s)",
          ],
        },
        absent: ["file-secret", "other-file-secret"],
        artifacts: { "cred1.txt": "one-secret", "cred2.txt": "two-secret" },
      },
    },
  ],
  "pmd__environment_multiExpressionEnvironment.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "success" },
        logs: { foo: ["FOO is BAR", "_UNDERSCORE is VALID"] },
      },
    },
  ],
  // options { retry(3) }: three attempts in all.
  "pmd__options_retryOptions.groovy": [
    {
      expect: {
        code: 1,
        run: "failed",
        jobs: { foo: "failed" },
        attempts: { foo: 3 },
        logs: { foo: ["hello", "ERROR: Explode now"] },
      },
    },
  ],
  "pmd__options_simpleWrapper.groovy": [
    { expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["hello"] } } },
  ],
  "pmd__properties_stashWithSpecifiedPropertyValue.groovy": [
    {
      expect: {
        diagnostics: ["info[JK-recorded-option]"],
        code: 0,
        run: "success",
        jobs: { stash: "success" },
        logs: { stash: ["Stashed 1 file(s) as ‘stash-test’"] },
      },
    },
  ],
  "pmd__multipleProperties.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "success" },
        logs: { foo: ["hello", "+ test -f Jenkinsfile"] },
      },
    },
  ],
  "pmd__simpleParameters.groovy": [
    {
      args: ["--param", "flag=false"],
      expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["hello"] } },
    },
  ],
  "pmd__simpleTriggers.groovy": [
    { expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["hello"] } } },
  ],
  "pmd__simpleInput.groovy": [
    {
      args: ["--approve", "foo"],
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "success" },
        logs: { foo: ["Input requested: Continue?", "Approved by $USER", "hello"] },
      },
    },
    {
      label: "not approved (no --approve, no terminal): the build is aborted",
      expect: {
        code: 130,
        run: "canceled",
        jobs: { foo: "canceled" },
        logs: { foo: ["Input requested: Continue?"] },
        absent: ["hello"],
      },
    },
  ],
  "pmd__parametersInInput.groovy": [
    {
      args: ["--approve", "foo"],
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "success" },
        logs: { foo: ["Input requested: Continue?", "Would I like to eat a banana? true"] },
      },
    },
  ],
  // submitter 'alice' is a Jenkins user; locally the one who runs gantry approves.
  "pmd__submitterParameterInInput.groovy": [
    {
      args: ["--approve", "foo"],
      expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["Who approved? $USER"] } },
    },
  ],
  "pmd__stageWrapper.groovy": [
    { expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["hello"] } } },
  ],
  // The first branch fails, failFast stops the second during its sleep 10.
  "pmd__parallel_parallelStagesFailFast.groovy": [
    {
      expect: {
        code: 1,
        run: "failed",
        jobs: { "foo / first": "failed", "foo / second": "canceled" },
        logs: {
          "foo / first": ["ERROR: First branch", "FIRST STAGE FAILURE"],
          "foo / second": ["SECOND STAGE ABORTED"],
        },
        absent: ["Second branch", "SECOND STAGE FAILURE", "FIRST STAGE ABORTED"],
      },
    },
  ],
  "pmd__parallel_parallelInput.groovy": [
    {
      args: ["--approve", "One", "--approve", "Two"],
      expect: {
        code: 0,
        run: "success",
        jobs: { "foo / One": "success", "foo / Two": "success" },
        logs: {
          "foo / One": ["Input requested: Continue One?", "One Continues"],
          "foo / Two": ["Input requested: Continue Two?", "Two Continues"],
        },
      },
    },
  ],
  // catchError(buildResult: 'SUCCESS', stageResult: 'FAILURE'): the stage fails, the build succeeds.
  "pmd__postStage_catchErrorStageFailure.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "failed" },
        logs: {
          foo: ["Caught an error: uhoh", "This should happen"],
          "(post)": ["The build should be a success"],
        },
        absent: ["This shouldn't happen", "The build shouldn't be a failure"],
      },
    },
  ],
  "pmd__postStage_warnErrorStageUnstable.groovy": [
    {
      expect: {
        code: 0,
        run: "unstable",
        jobs: { foo: "unstable" },
        logs: {
          foo: ["Caught an error: uhoh", "This should happen"],
          "(post)": ["The build should be unstable"],
        },
        absent: ["This shouldn't happen", "The build shouldn't be a success"],
      },
    },
  ],
  "pmd__postStage_postInParallelAndSequential.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: {
          "Parallel / Child 1": "success",
          "Parallel / Child 2 / Nested 1": "success",
          "Parallel / Child 2 / Nested 2": "success",
          "Parallel / Child 2 / post (always)": "success",
          "Parallel / post (always)": "success",
        },
        logs: {
          "Parallel / Child 1": ["Child 1"],
          "Parallel / Child 2 / Nested 1": ["Nested 1", "Post Nested 1 ran"],
          "Parallel / Child 2 / Nested 2": ["Nested 2", "Post Nested 2 ran"],
          "Parallel / Child 2 / post (always)": ["Post Child 2 ran"],
          "Parallel / post (always)": ["Post ran"],
        },
      },
    },
  ],
  "pmd__matrix_matrixPipeline.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: matrixJobs(["OS_VALUE=linux", "OS_VALUE=windows", "OS_VALUE=mac"]),
        logs: {
          "foo / OS_VALUE=linux / first": ["First branch", "OS=linux"],
          "foo / OS_VALUE=windows / first": ["First branch", "OS=windows"],
          "foo / OS_VALUE=mac / first": ["First branch", "OS=mac"],
          "foo / OS_VALUE=mac / second": ["Second branch"],
        },
      },
    },
  ],
  // 12 cells less linux/safari and the two ie cells whose OS is not windows.
  "pmd__matrix_matrixPipelineTwoAxisExcludeNot.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: matrixJobs(TWO_AXIS_CELLS),
        logs: Object.fromEntries(
          TWO_AXIS_CELLS.map((c) => {
            const [os, browser] = c.split(", ").map((x) => x.split("=")[1]);
            return [`foo / ${c} / first`, ["First branch", `OS=${os}`, `BROWSER=${browser}`]];
          }),
        ),
      },
    },
  ],
  "pmd__when_whenBranch.groovy": [
    {
      label: "on master",
      expect: {
        code: 0,
        run: "success",
        jobs: {
          One: "success",
          Two: "success",
          Three: "success",
          Four: "skipped",
          Five: "skipped",
          Six: "skipped",
        },
        logs: { Two: ["master it (default)"], Three: ["master it (EQUALS)"] },
        absent: ["release it", "Digit release"],
      },
    },
    {
      label: "on release-12",
      branch: "release-12",
      expect: {
        code: 0,
        run: "success",
        jobs: {
          One: "success",
          Two: "skipped",
          Three: "skipped",
          Four: "success",
          Five: "success",
          Six: "success",
        },
        logs: { Four: ["release it (default)"], Five: ["release it (GLOB)"], Six: ["Digit release"] },
        absent: ["master it"],
      },
    },
  ],
  "pmd__when_conditions_whenChangeRequest.groovy": [
    {
      label: "a branch build",
      expect: {
        code: 0,
        run: "success",
        jobs: { One: "success", ...Object.fromEntries(CHANGE_STAGES.map(([s]) => [s, "skipped" as const])) },
        logs: { One: ["Hello"] },
        absent: CHANGE_STAGES.map(([, line]) => line),
      },
    },
    {
      label: "a change request",
      args: Object.entries(CHANGE_REQUEST).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
      expect: {
        code: 0,
        run: "success",
        jobs: {
          One: "success",
          ...Object.fromEntries(
            CHANGE_STAGES.map(([s]) => [
              s,
              s === "ChangeAuthorX" ? ("skipped" as const) : ("success" as const),
            ]),
          ),
        },
        logs: Object.fromEntries(
          CHANGE_STAGES.filter(([s]) => s !== "ChangeAuthorX").map(([s, l]) => [s, [l]]),
        ),
        absent: ["AuthorX is nice"],
      },
    },
  ],
  "pmd__when_whenBeforeOptionsTrue.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { One: "success", Two: "skipped" },
        logs: { One: ["Stage One here"] },
        absent: ["Stage Two here"],
      },
    },
  ],
  "pmd__restart_isRestartedRunCondition.groovy": [
    {
      expect: {
        diagnostics: ["info[JK-when]"],
        code: 0,
        run: "success",
        jobs: { "skip-on-restart": "success", restart: "skipped" },
        logs: { "skip-on-restart": ["This shouldn't show up on second run"] },
        absent: ["This should only run on restart"],
      },
    },
  ],
  "pmd__libraries_librariesDirective.groovy": [
    {
      args: ["--library", "echo-utils=$LIB_ECHO_UTILS", "--library", "whereFrom=$LIB_WHERE_FROM"],
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "success" },
        logs: { foo: ["myecho from echo-utils", "whereFrom from whereFrom"] },
      },
    },
  ],
  // timeout and retry around echo need no node: no JK-no-agent warning under agent none.
  "pmd__steps_nestedTreeSteps.groovy": [
    { expect: { code: 0, run: "success", jobs: { foo: "success" }, logs: { foo: ["hello"] } } },
  ],
  "pmd__stringsNeedingEscapeLogic.groovy": [
    {
      expect: {
        code: 0,
        run: "success",
        jobs: { foo: "success" },
        logs: {
          foo: [
            "Hello!\n'How are you?', said script A\n\n\"I am fine '''really'''\" said script B\n\n",
            "echo \"'quoted'\"",
          ],
        },
      },
    },
  ],
};

export const NOT_RUNNABLE: Record<string, NotRunnable> = {
  "docker__agentDocker.groovy": {
    needs: "docker",
    reason: "docker agent image httpd:2.4.59 comes from a registry; none is reachable here",
  },
  "docker__agentDockerReuseNode.groovy": {
    needs: "docker",
    reason: "stage bar runs in docker image httpd:2.4.59 from a registry (label docker for the rest)",
  },
  "docker__agentDockerWithRegistryNoCreds.groovy": {
    needs: "docker",
    reason: "alwaysPull of httpd:2.4.59 from Docker Hub; no registry is reachable here",
  },
  "docker__fromDockerfile.groovy": {
    needs: "docker",
    reason: "dockerfile agent: the Dockerfile (not in the corpus) builds FROM a registry image",
  },
  "docker__fromAlternateDockerfile.groovy": {
    needs: "docker",
    reason: "dockerfile agent (Dockerfile.alternate, not in the corpus) FROM a registry image",
  },
  "docker__additionalDockerBuildArgs.groovy": {
    needs: "docker",
    reason: "dockerfile agent with build args; its Dockerfile (not in the corpus) needs a registry image",
  },
  "k8s__declarative.groovy": {
    needs: "kubernetes",
    reason: "kubernetes agent (no cluster, no kubernetes executor yet) and the container() plugin step",
  },
  "k8s__declarativeFromYaml.groovy": {
    needs: "kubernetes",
    reason: "kubernetes agent from pod YAML and the container() plugin step",
  },
  "k8s__declarativeFromYamlFile.groovy": {
    needs: "kubernetes",
    reason: "kubernetes agent from a yamlFile (not in the corpus) and the container() plugin step",
  },
  "k8s__examples-kaniko-declarative.groovy": {
    needs: "kubernetes",
    reason: "kubernetes agent running kaniko, the git plugin step and a registry to push to",
  },
  "pex__mavenDocker.groovy": {
    needs: "docker",
    reason:
      "docker agent maven:3.5.0-jdk-8 from a registry, withMaven and mail plugin steps, readMavenPom (Groovy), docker push",
  },
  "jpu__Declarative_Jenkinsfile.Jenkinsfile": {
    needs: "docker",
    reason:
      "stage build runs gradle in docker image maven:3-alpine from a registry, with a Jenkins tool installation",
  },
  "real__simple-python-pyinstaller-app.Jenkinsfile": {
    needs: "docker",
    reason:
      "every stage runs in a registry image (python:2-alpine, qnib/pytest, cdrx/pyinstaller-linux) on an app not in the corpus",
  },
};
