import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";

/** What the single-file build (`dist/gantry.cjs`, from `src/cli/program.ts`) exports. */
export interface BundledCli {
  main(argv: string[]): Promise<number>;
  start(argv: string[]): Promise<void>;
}

export interface LoadedBundle {
  cli: BundledCli;
  /** Whether V8 compiled the build from the code cache (false: none, or made by another Node). */
  cached: boolean;
  /** Writes V8's code for everything compiled so far next to the build; false if it could not. */
  writeCache(): boolean;
}

/**
 * Loads the single-file CommonJS build of the CLI with V8's code cache.
 *
 * Why: on Node 20 (no `module.enableCompileCache`), resolving, reading and compiling the CLI's
 * ~150 modules one by one is most of a short run's start-up. One file compiled from a code
 * cache that already holds the functions a run needs starts in a fraction of that time. The
 * cache is made at build time (`scripts/bundle-cli.mjs`) and remade by the first run after
 * Node changes (V8 rejects a cache from another version or other flags).
 */
export function loadBundle(file: string, opts: { useCache: boolean }): LoadedBundle {
  // The build makes it ASCII-only (scripts/bundle-cli.mjs): latin1 reads it ~10× faster than UTF-8.
  const source = readFileSync(file, "latin1");
  const cacheFile = `${file}.cache`;
  let cachedData: Buffer | undefined;
  if (opts.useCache) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    cachedData ? { filename: file, cachedData } : { filename: file },
  );
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return {
    cli: mod.exports as BundledCli,
    cached: cachedData !== undefined && !script.cachedDataRejected,
    writeCache() {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile); // atomic: concurrent runs never read half a cache
        return true;
      } catch {
        rmSync(tmp, { force: true });
        return false;
      }
    },
  };
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the CLI from `dist/gantry.cjs` when it exists (and `GANTRY_NO_BUNDLE` is unset);
 * returns false to let the caller start it from `dist/cli/main.js` instead.
 */
export function startBundled(distDir: string, argv: string[]): boolean {
  if (process.env.GANTRY_NO_BUNDLE) return false;
  let loaded: LoadedBundle;
  try {
    loaded = loadBundle(path.join(distDir, "gantry.cjs"), { useCache: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  // No usable cache (another Node version): make one from this run, for the next ones.
  if (!loaded.cached && writable(distDir)) process.once("exit", () => loaded.writeCache());
  void loaded.cli.start(argv);
  return true;
}

/**
 * `bin/gantry` keeps Node from loading `NODE_EXTRA_CA_CERTS` for commands that open no TLS
 * connection of their own (`run`, `validate`, …): when it is set, Node reads the system's root
 * certificates and every extra one before any code runs, 15–30 ms of every start. The value
 * is put back here, so that jobs and every program Gantry starts (git, docker, npm in a job)
 * get it unchanged.
 */
export const DEFERRED_CA_CERTS = "GANTRY_DEFERRED_NODE_EXTRA_CA_CERTS";

export function restoreDeferredEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const value = env[DEFERRED_CA_CERTS];
  if (value === undefined) return;
  env.NODE_EXTRA_CA_CERTS = value;
  delete env[DEFERRED_CA_CERTS];
}
