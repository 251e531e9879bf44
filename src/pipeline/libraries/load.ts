/**
 * Loaded shared libraries: the steps (`vars/`) and resources (`resources/`) of every library
 * a pipeline asked for, at the version it asked for. Built by `loadLibraries`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { LibrarySource } from "../context.js";
import type { Diagnostic } from "../diagnostics.js";
import type { Script } from "../jenkins/ast.js";
import { LIBRARIES_FILE } from "./config.js";
import { fetchLibrary, type Fetched } from "./fetch.js";

/** One step a library provides. */
export interface LibraryVar {
  library: string;
  version: string;
  /** Step name: the file name without extension. */
  name: string;
  /** `groovy`: `vars/<name>.groovy` (Jenkinsfile steps); `yaml`: `vars/<name>.yml` (gantry.yml steps). */
  kind: "groovy" | "yaml";
  /** Shown in diagnostics: `<library>@<version>:vars/<name>.groovy`. */
  file: string;
  /** Absolute path on disk (in the library cache or the local directory). */
  path: string;
  source: string;
  /** Parsed lazily by the Jenkinsfile compiler. */
  parsed?: { script: Script; diagnostics: Diagnostic[] };
}

export interface LoadedLibrary {
  name: string;
  /** The ref asked for (or the default version); empty for a plain directory. */
  version: string;
  /** Where its files are. */
  dir: string;
  /** The commit checked out, when it came from git. */
  commit?: string;
}

export interface LoadedLibraries {
  libraries: LoadedLibrary[];
  /** Groovy steps by name; a later library does not override an earlier one (Jenkins' order). */
  vars: Map<string, LibraryVar>;
  /** YAML steps by `<library>/<name>` and by bare name. */
  yamlVars: Map<string, LibraryVar>;
  /** Text of `resources/<path>` from the first library that has it. */
  resource(path: string): string | undefined;
}

/** No libraries. */
export function emptyLibraries(): LoadedLibraries {
  return { libraries: [], vars: new Map(), yamlVars: new Map(), resource: () => undefined };
}

/** A library asked for by a pipeline: `name`, `name@version`. */
export interface LibraryRequest {
  spec: string;
  at: { file: string; line: number; column: number };
}

/**
 * Loads the libraries `requests` name (plus the implicit ones), from `sources` (command line
 * first, then `.gantry/libraries.yml`). Every problem is a diagnostic at the request.
 */
export async function loadLibraries(
  requests: readonly LibraryRequest[],
  sources: readonly LibrarySource[],
  cacheDir: string,
): Promise<{ libs: LoadedLibraries; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const libs = emptyLibraries();
  const all: LibraryRequest[] = [
    ...sources
      .filter((s) => s.implicit)
      .map((s) => ({ spec: s.name, at: { file: LIBRARIES_FILE, line: 0, column: 0 } })),
    ...requests,
  ];
  const loaded = new Map<string, string>();
  for (const req of all) {
    const at = req.spec.indexOf("@");
    const name = at < 0 ? req.spec : req.spec.slice(0, at);
    const src = sources.find((s) => s.name === name);
    const err = (message: string, hint?: string): void => {
      diagnostics.push({
        severity: "error",
        code: "LIB-load",
        message,
        ...req.at,
        ...(hint ? { hint } : {}),
      });
    };
    if (!src) {
      err(
        `No library named "${name}" is configured`,
        `add it to ${LIBRARIES_FILE} or pass --library ${name}=<path or git URL>`,
      );
      continue;
    }
    const version = at < 0 ? (src.defaultVersion ?? "") : req.spec.slice(at + 1);
    const already = loaded.get(name);
    if (already !== undefined) {
      if (already !== version)
        err(
          `Library ${name} is already loaded at version "${already}"; it cannot also be loaded at "${version}"`,
        );
      continue;
    }
    loaded.set(name, version);
    let fetched: Fetched;
    try {
      fetched = await fetchLibrary(src, version, cacheDir);
    } catch (e) {
      err(
        `could not load library ${req.spec}: ${e instanceof Error ? e.message : String(e)}`,
        "check the library's source and that the version exists (git ls-remote <source>)",
      );
      continue;
    }
    libs.libraries.push({
      name,
      version,
      dir: fetched.dir,
      ...(fetched.commit ? { commit: fetched.commit } : {}),
    });
    readVars(name, version, fetched.dir, libs);
  }
  const dirs = libs.libraries.map((l) => l.dir);
  libs.resource = (rel: string): string | undefined => {
    for (const dir of dirs) {
      const root = path.join(dir, "resources");
      const file = path.resolve(root, rel);
      if (!file.startsWith(root + path.sep)) continue;
      if (existsSync(file) && statSync(file).isFile()) return readFileSync(file, "utf8");
    }
    return undefined;
  };
  return { libs, diagnostics };
}

function readVars(library: string, version: string, dir: string, libs: LoadedLibraries): void {
  const varsDir = path.join(dir, "vars");
  if (!existsSync(varsDir)) return;
  for (const f of readdirSync(varsDir).sort()) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\.(groovy|ya?ml)$/.exec(f);
    if (!m) continue;
    const name = m[1]!;
    const kind = m[2] === "groovy" ? "groovy" : "yaml";
    const full = path.join(varsDir, f);
    const v: LibraryVar = {
      library,
      version,
      name,
      kind,
      file: `${library}${version ? "@" + version : ""}:vars/${f}`,
      path: full,
      source: readFileSync(full, "utf8"),
    };
    if (kind === "groovy") {
      if (!libs.vars.has(name)) libs.vars.set(name, v);
    } else {
      libs.yamlVars.set(`${library}/${name}`, v);
      if (!libs.yamlVars.has(name)) libs.yamlVars.set(name, v);
    }
  }
}
