import { createHash } from "node:crypto";
import { cacheEntryFile, cacheSalt, readCacheEntry, writeCacheEntry } from "./cache-files.js";
import type { GitInfo } from "./git.js";
import type { Plan } from "./plan.js";

/**
 * Identifies the code that compiles: `scripts/bundle-cli.mjs` replaces this placeholder in the
 * single-file build (`dist/gantry.cjs`, what `bin/gantry` runs) with a digest of that build.
 * The separate modules (`GANTRY_NO_BUNDLE=1`, tests) have none and cache no plans.
 */
const BUILD = "@@GANTRY-BUILD-DIGEST@@";
const BUILD_ID = BUILD.startsWith("@@") ? undefined : BUILD;

/** What a compile reads besides its own code. */
export interface PlanInputs {
  format: string;
  /** The pipeline file, relative to the project. */
  file: string;
  source: string;
  projectDir: string;
  git: GitInfo;
  variables: Record<string, string>;
  params: Record<string, string>;
}

interface Entry {
  key: string;
  plan: Plan;
}

/**
 * Compiled GitLab pipelines kept between runs, under `<cacheDir>/plans/`, one entry per file.
 *
 * Why: compiling a 50-job file (rules, variables, needs, positions) takes 7–9 ms with cold
 * code, after its parse came from the parse cache; a run of short jobs is ~140 ms.
 *
 * A compile is a function of the inputs in its key (the text, the file's name, the project's
 * folder, the git state) and of the compiler's code (the build digest), salted with this user's
 * `cacheSalt()` (`cache-files.ts`) (entries a repository brings along never match), except where it reads
 * other files: pipelines that mention `include` or `exists` are never cached, nor compiles
 * given `--variable`s or parameters (they may be credentials, and a plan holds them). Only
 * compiles without any diagnostic are kept (nothing to replay); a broken or foreign entry is
 * a miss, and failing to read or write one only costs the compile.
 */
export class PlanCache {
  private readonly path: string;
  private readonly key: string;

  private constructor(cacheDir: string, inputs: PlanInputs, build: string) {
    this.path = cacheEntryFile(cacheDir, "plans", inputs.file);
    const sorted = (r: Record<string, string>) => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1));
    this.key = createHash("sha256")
      .update(
        JSON.stringify([
          build,
          inputs.format,
          inputs.file,
          inputs.projectDir,
          inputs.git,
          sorted(inputs.variables), // none today: kept in the key in case that changes
          sorted(inputs.params),
        ]),
      )
      .update("\0")
      .update(inputs.source)
      .digest("hex");
  }

  /** A cache for this compile, or undefined when it must not be cached. */
  static for(cacheDir: string, inputs: PlanInputs, build = BUILD_ID): PlanCache | undefined {
    if (build === undefined || inputs.format !== "gitlab") return undefined;
    const salt = cacheSalt();
    if (salt === undefined) return undefined;
    // Values given on the command line may be credentials: never written to disk.
    if (Object.keys(inputs.variables).length + Object.keys(inputs.params).length > 0) return undefined;
    if (/\b(include|exists)\b/.test(inputs.source)) return undefined;
    return new PlanCache(cacheDir, inputs, `${build}:${salt}`);
  }

  load(): Plan | undefined {
    const entry = readCacheEntry(this.path) as Entry | undefined;
    return entry?.key === this.key && Array.isArray(entry.plan?.jobs) ? entry.plan : undefined;
  }

  save(plan: Plan): void {
    writeCacheEntry(this.path, { key: this.key, plan } satisfies Entry);
  }
}
