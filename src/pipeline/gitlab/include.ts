import { readFile } from "node:fs/promises";
import path from "node:path";
import { expandVariables } from "./expand.js";
import { globber } from "./lazy.js";
import { firstMatchingRule, type RuleEnv } from "./rules.js";
import { isMapValue, parseGitlabYaml, type Value, type YMap } from "./source.js";
import type { Position } from "../diagnostics.js";
import { deepMerge, posOf, scalarString, typeName, type CompileState } from "./state.js";

/** GitLab's limit on included files per pipeline (nested ones count). */
export const MAX_INCLUDES = 150;

const OTHER_KINDS: Record<string, string> = {
  remote: "include:remote is not supported yet",
  project: "include:project is not supported yet",
  template: "include:template is not supported yet",
  component: "include:component is not supported yet",
  artifact: "include:artifact is only for child pipelines, which are not supported yet",
};

interface Counter {
  n: number;
  reported: boolean;
}

/**
 * Expands `include:` (local files, globs, nested includes, `rules`) and merges every included
 * file under the including one: the including file's keys win, maps merge deeply.
 */
export async function resolveIncludes(st: CompileState, root: YMap, env: RuleEnv): Promise<YMap> {
  return expand(st, root, env, { n: 0, reported: false }, [st.file]);
}

async function expand(
  st: CompileState,
  config: YMap,
  env: RuleEnv,
  counter: Counter,
  chain: string[],
): Promise<YMap> {
  const inc = config.include;
  if (inc === undefined) return config;
  const entries: { value: Value; owner: object; key: string | number }[] = [];
  if (Array.isArray(inc)) inc.forEach((v, i) => entries.push({ value: v, owner: inc, key: i }));
  else if (typeof inc === "string" || isMapValue(inc))
    entries.push({ value: inc, owner: config, key: "include" });
  else if (inc !== null) {
    st.bag.error(
      "GL060",
      `include must be a path, a map or a list, got ${typeName(inc)}`,
      posOf(st, config, "include"),
    );
  }
  let merged: YMap | undefined;
  for (const e of entries) {
    const { files, at } = await entryFiles(st, e.value, e.owner, e.key, env);
    for (const file of files) {
      if (chain.includes(file)) {
        st.bag.error(
          "GL069",
          `include cycle: ${[...chain, file].join(" -> ")}`,
          at,
          "a file must not include itself, directly or through other files",
        );
        continue;
      }
      counter.n++;
      if (counter.n > MAX_INCLUDES) {
        if (!counter.reported) {
          counter.reported = true;
          st.bag.error(
            "GL061",
            `too many includes: at most ${MAX_INCLUDES} included files are allowed (nested ones count)`,
            posOf(st, e.owner, e.key),
            "merge some of the included files",
          );
        }
        return withoutInclude(st, config);
      }
      const included = await loadFile(st, file, at);
      if (!included) continue;
      const expanded = await expand(st, included, env, counter, [...chain, file]);
      merged = merged ? deepMerge(st, merged, expanded) : expanded;
    }
  }
  const own = withoutInclude(st, config);
  return merged ? deepMerge(st, merged, own) : own;
}

function withoutInclude(st: CompileState, config: YMap): YMap {
  const own = Object.assign(Object.create(null) as YMap, config);
  delete own.include;
  st.loc.copyNode(config, own);
  for (const k of Object.keys(own)) st.loc.copyEntry(config, own, k);
  return own;
}

/** The project-relative files one include entry stands for (none when its rules exclude it). */
async function entryFiles(
  st: CompileState,
  value: Value,
  owner: object,
  key: string | number,
  env: RuleEnv,
): Promise<{ files: string[]; at: Position }> {
  let local: string | undefined;
  let at = posOf(st, owner, key);
  if (typeof value === "string") {
    if (/^https?:\/\//.test(value)) {
      st.includeFailed = true;
      st.bag.error(
        "GL062",
        `${OTHER_KINDS.remote}: ${value}`,
        at,
        "download the file into the repository and include it with include: local",
      );
      return { files: [], at };
    }
    local = value;
  } else if (isMapValue(value)) {
    if (value.rules !== undefined) {
      const rule = firstMatchingRule(st, value, "rules", env, ["if", "changes", "exists", "when"]);
      if (!rule || rule.when === "never") return { files: [], at };
    }
    const kind = Object.keys(OTHER_KINDS).find((k) => value[k] !== undefined);
    if (kind) {
      st.includeFailed = true;
      st.bag.error(
        "GL062",
        `${OTHER_KINDS[kind]}: ${scalarString(value[kind]) ?? ""}`.replace(/: $/, ""),
        posOf(st, value, kind),
        "copy the file into this repository and include it with include: local",
      );
      return { files: [], at };
    }
    const l = scalarString(value.local);
    if (l === undefined) {
      st.bag.error("GL063", "include entry needs local: (or remote/project/template/component)", at);
      return { files: [], at };
    }
    local = l;
    at = posOf(st, value, "local");
    if (value.inputs !== undefined) {
      st.bag.warning(
        "GL064",
        "include:inputs are not supported yet; the file's input defaults are used",
        posOf(st, value, "inputs"),
      );
    }
  } else {
    st.bag.error("GL060", `include entries must be a path or a map, got ${typeName(value)}`, at);
    return { files: [], at };
  }
  const raw = expandVariables(local, env.vars);
  if (raw.split("/").includes("..")) {
    st.bag.error(
      "GL065",
      `include:local "${raw}" leaves the project directory`,
      at,
      "GitLab does not allow ../ in local includes",
    );
    return { files: [], at };
  }
  if (raw.startsWith("./")) {
    st.bag.error(
      "GL065",
      `include:local "${raw}" must not start with ./`,
      at,
      `paths are relative to the project root: write "${raw.slice(2)}"`,
    );
    return { files: [], at };
  }
  const rel = raw.replace(/^\/+/, "");
  if (rel === "") {
    st.bag.error(
      "GL063",
      local === "" ? "include:local is empty" : `include:local "${local}" expands to an empty path`,
      at,
      local === ""
        ? undefined
        : "only predefined variables and --variable values can be used in include paths",
    );
    return { files: [], at };
  }
  if (/[*?[{]/.test(rel)) {
    const pattern = includeGlob(rel);
    const files = (
      await globber().glob([pattern], {
        cwd: st.ctx.projectDir,
        dot: true,
        onlyFiles: true,
        expandDirectories: false,
      })
    )
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    if (files.length === 0) st.bag.warning("GL066", `include:local "${raw}" matches no file`, at);
    return { files, at };
  }
  return { files: [rel], at };
}

/**
 * GitLab's include globs, as its documentation describes them: `configs/**.yml` matches files
 * in `configs` and below; with a slash after the double star only files in subfolders match.
 */
export function includeGlob(pattern: string): string {
  return pattern
    .replace(/\*\*\//g, "\0")
    .replace(/\*\*/g, "**/*")
    .replace(/\0/g, "*/**/");
}

async function loadFile(st: CompileState, rel: string, at: Position): Promise<YMap | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(st.ctx.projectDir, rel), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    st.includeFailed = true;
    st.bag.error(
      "GL067",
      code === "ENOENT"
        ? `local include file cannot be found: ${rel}`
        : `cannot read include file ${rel}: ${code ?? String(err)}`,
      at,
      "paths in include:local are relative to the project root",
    );
    return undefined;
  }
  const { value } = parseGitlabYaml(text, rel, st.loc, st.bag, st.ctx.cacheDir);
  if (value === undefined || value === null) return undefined;
  if (!isMapValue(value)) {
    st.bag.error(
      "GL068",
      `included file ${rel} must hold a map of jobs and keywords, got ${typeName(value)}`,
      {
        file: rel,
        line: 1,
        column: 1,
      },
    );
    return undefined;
  }
  return value;
}
