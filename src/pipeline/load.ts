import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { CompileContext, CompileResult, Frontend, LibrarySource } from "./context.js";
import type { Diagnostic } from "./diagnostics.js";
import { hasErrors } from "./diagnostics.js";
import { emptyGitInfo, readGitInfo, type GitInfo } from "./git.js";
import type { PipelineFormat, Plan } from "./plan.js";
import { PlanCache } from "./plan-cache.js";
import { validatePlan } from "./validate-plan.js";

/** Files looked for, in this order, when no `--file` is given. */
export const DEFAULT_FILES = [
  "gantry.yml",
  "gantry.yaml",
  ".gitlab-ci.yml",
  ".gitlab-ci.yaml",
  "Jenkinsfile",
] as const;

export interface LoadOptions {
  projectDir: string;
  /** Pipeline file, absolute or relative to `projectDir`; found automatically when absent. */
  file?: string;
  /** Force a format instead of detecting it. */
  format?: PipelineFormat;
  variables?: Record<string, string>;
  params?: Record<string, string>;
  libraries?: LibrarySource[];
  cacheDir?: string;
  git?: GitInfo;
  env?: Record<string, string | undefined>;
}

export interface LoadResult extends CompileResult {
  /** The file that was compiled, relative to the project, or undefined when none was found. */
  file?: string;
  format?: PipelineFormat;
  git: GitInfo;
}

/** The format of a pipeline file, from its name and, for YAML, its top-level keys. */
export function detectFormat(file: string, source: string): PipelineFormat {
  const base = path.basename(file).toLowerCase();
  if (base.startsWith("jenkinsfile") || base.endsWith(".jenkinsfile") || base.endsWith(".groovy"))
    return "jenkins";
  if (
    /^gantry(\.[\w-]+)?\.ya?ml$/.test(base) ||
    base.endsWith(".gantry.yml") ||
    base.endsWith(".gantry.yaml")
  )
    return "gantry";
  if (base.endsWith(".yml") || base.endsWith(".yaml"))
    return /^pipeline\s*:/m.test(source) ? "gantry" : "gitlab";
  return /^\s*(@Library|pipeline\s*\{|def |node\s*[({])/m.test(source) ? "jenkins" : "gitlab";
}

async function frontendFor(format: PipelineFormat): Promise<Frontend> {
  // Each frontend is loaded only when its format is used, to keep start-up fast.
  switch (format) {
    case "gantry":
      return (await import("./native/index.js")).compileGantry;
    case "gitlab":
      return (await import("./gitlab/index.js")).compileGitlab;
    case "jenkins":
      return (await import("./jenkins/index.js")).compileJenkinsfile;
  }
}

function noFile(file: string, message: string, hint: string): Diagnostic {
  return { severity: "error", code: "file-not-found", message, file, line: 0, column: 0, hint };
}

/** Finds, reads, detects and compiles a pipeline file; the one entry point for CLI, server and tests. */
export async function loadPipeline(o: LoadOptions): Promise<LoadResult> {
  const projectDir = path.resolve(o.projectDir);
  // Changed files cost a git process; only pipelines that can ask for them pay for it.
  let wantsChanges = true;
  const gitInfo = () =>
    o.git ? Promise.resolve(o.git) : readGitInfo(projectDir, { changedFiles: wantsChanges });
  let rel: string | undefined;
  if (o.file) {
    rel = path.relative(projectDir, path.resolve(projectDir, o.file)) || o.file;
  } else {
    rel = DEFAULT_FILES.find((f) => existsSync(path.join(projectDir, f)));
  }
  if (rel === undefined) {
    return {
      git: await gitInfo().catch(() => emptyGitInfo(projectDir)),
      diagnostics: [
        noFile(
          projectDir,
          `no pipeline file found in ${projectDir}`,
          `create one of ${DEFAULT_FILES.join(", ")}, or pass --file`,
        ),
      ],
    };
  }
  let source: string;
  try {
    // Synchronously: one small file, read before anything else can happen anyway.
    source = readFileSync(path.join(projectDir, rel), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      file: rel,
      git: await gitInfo(),
      diagnostics: [
        noFile(
          rel,
          code === "ENOENT"
            ? `pipeline file ${rel} does not exist`
            : `cannot read ${rel}: ${(err as Error).message}`,
          code === "ENOENT" ? "check the path given to --file" : "check the file's permissions",
        ),
      ],
    };
  }
  const format = o.format ?? detectFormat(rel, source);
  wantsChanges = /\b(changes|changeset|include)\b|@Library|\blibrary\b/.test(source);
  const git = await gitInfo();
  const ctx: CompileContext & { source: string } = {
    projectDir,
    file: rel,
    source,
    variables: o.variables ?? {},
    params: o.params ?? {},
    git,
    libraries: o.libraries ?? [],
    cacheDir: o.cacheDir ?? path.join(projectDir, ".gantry", "cache"),
    env: o.env ?? process.env,
  };
  const cache = PlanCache.for(ctx.cacheDir, { ...ctx, format });
  const cached = cache?.load();
  if (cached) return { plan: cached, diagnostics: [], file: rel, format, git };
  const compile = await frontendFor(format);
  const result = await compile(ctx);
  const diagnostics = [...result.diagnostics];
  let plan: Plan | undefined = result.plan;
  if (plan && !hasErrors(diagnostics)) {
    diagnostics.push(...validatePlan(plan));
    if (hasErrors(diagnostics)) plan = undefined;
  } else if (hasErrors(diagnostics)) {
    plan = undefined;
  }
  if (plan && diagnostics.length === 0) cache?.save(plan);
  return { ...(plan ? { plan } : {}), diagnostics, file: rel, format, git };
}
