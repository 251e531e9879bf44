import type { Diagnostic } from "./diagnostics.js";
import type { GitInfo } from "./git.js";
import type { PipelineFormat, Plan } from "./plan.js";

/** A shared library source given on the command line or in `.gantry/libraries.yml`. */
export interface LibrarySource {
  name: string;
  /** A local directory or a git URL. */
  source: string;
  defaultVersion?: string;
  /** Load without `@Library` (Jenkins "load implicitly"). */
  implicit?: boolean;
}

/** Everything a frontend may read while compiling a pipeline file into a Plan. */
export interface CompileContext {
  /** Absolute path of the project (the checkout). */
  projectDir: string;
  /** Pipeline file, relative to `projectDir`. */
  file: string;
  /** The file's text, when the caller already has it (otherwise the frontend reads `file`). */
  source?: string;
  /** `--variable K=V`: highest precedence. */
  variables: Record<string, string>;
  /** `--param K=V` for pipeline parameters. */
  params: Record<string, string>;
  git: GitInfo;
  /** Shared libraries configured for this compile. */
  libraries: LibrarySource[];
  /** Directory for caches (fetched libraries, compiled validators). */
  cacheDir: string;
  /** The process environment, for predefined values such as `GITLAB_USER_LOGIN`; never injected wholesale. */
  env: Record<string, string | undefined>;
}

/** What every frontend returns: a Plan when there are no errors, and every diagnostic found. */
export interface CompileResult {
  plan?: Plan;
  diagnostics: Diagnostic[];
}

/** A frontend: one pipeline format to Plan. */
export type Frontend = (ctx: CompileContext & { source: string }) => Promise<CompileResult> | CompileResult;

export type { PipelineFormat };
