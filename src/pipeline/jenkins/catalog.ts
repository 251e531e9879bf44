/**
 * The Jenkins steps Gantry carries out, with their parameters as Jenkins names them, so that
 * a typo gets Jenkins' own message (`Invalid parameter "banana", did you mean "unit"?`).
 */
export interface StepSpec {
  params: readonly string[];
  required?: readonly string[];
  /** The parameter a single unnamed argument fills (`sh 'x'` is `sh script: 'x'`). */
  positional?: string;
  /** Whether the step takes a block (`dir('x') { ... }`). */
  block?: boolean;
}

export const STEPS: Readonly<Record<string, StepSpec>> = {
  sh: {
    params: ["script", "label", "returnStdout", "returnStatus", "encoding"],
    required: ["script"],
    positional: "script",
  },
  echo: { params: ["message"], required: ["message"], positional: "message" },
  dir: { params: ["path"], required: ["path"], positional: "path", block: true },
  withEnv: { params: ["overrides"], required: ["overrides"], positional: "overrides", block: true },
  withCredentials: { params: ["bindings"], required: ["bindings"], positional: "bindings", block: true },
  archiveArtifacts: {
    params: [
      "artifacts",
      "excludes",
      "allowEmptyArchive",
      "fingerprint",
      "onlyIfSuccessful",
      "defaultExcludes",
      "caseSensitive",
      "followSymlinks",
    ],
    required: ["artifacts"],
    positional: "artifacts",
  },
  archive: { params: ["includes", "excludes"], required: ["includes"], positional: "includes" },
  stash: {
    params: ["name", "includes", "excludes", "allowEmpty", "useDefaultExcludes"],
    required: ["name"],
    positional: "name",
  },
  unstash: { params: ["name"], required: ["name"], positional: "name" },
  junit: {
    params: [
      "testResults",
      "allowEmptyResults",
      "skipPublishingChecks",
      "keepLongStdio",
      "healthScaleFactor",
      "skipMarkingBuildUnstable",
      "checksName",
      "testDataPublishers",
      "keepProperties",
      "keepTestNames",
    ],
    required: ["testResults"],
    positional: "testResults",
  },
  error: { params: ["message"], required: ["message"], positional: "message" },
  unstable: { params: ["message"], required: ["message"], positional: "message" },
  retry: { params: ["count", "conditions"], required: ["count"], positional: "count", block: true },
  timeout: { params: ["time", "unit", "activity"], required: ["time"], positional: "time", block: true },
  sleep: { params: ["time", "unit"], required: ["time"], positional: "time" },
  writeFile: { params: ["file", "text", "encoding"], required: ["file", "text"] },
  readFile: { params: ["file", "encoding"], required: ["file"], positional: "file" },
  fileExists: { params: ["file"], required: ["file"], positional: "file" },
  catchError: { params: ["buildResult", "stageResult", "message", "catchInterruptions"], block: true },
  warnError: {
    params: ["message", "catchInterruptions"],
    required: ["message"],
    positional: "message",
    block: true,
  },
  deleteDir: { params: [] },
  checkout: { params: ["scm", "changelog", "poll"], required: ["scm"], positional: "scm" },
  libraryResource: { params: ["resource", "encoding"], required: ["resource"], positional: "resource" },
};

/** Time units of `timeout` and `sleep`, in milliseconds. */
export const TIME_UNITS: Readonly<Record<string, number>> = {
  NANOSECONDS: 1e-6,
  MICROSECONDS: 1e-3,
  MILLISECONDS: 1,
  SECONDS: 1000,
  MINUTES: 60_000,
  HOURS: 3_600_000,
  DAYS: 86_400_000,
};

/** Windows-only steps: named in their own diagnostic. */
export const WINDOWS_STEPS: ReadonlySet<string> = new Set(["bat", "powershell", "pwsh"]);
