/**
 * Where shared libraries come from: `.gantry/libraries.yml` in the project and
 * `--library name=path|git-url` on the command line (which wins for the same name).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import type { LibrarySource } from "../context.js";
import type { Diagnostic } from "../diagnostics.js";

export const LIBRARIES_FILE = ".gantry/libraries.yml";

const entrySchema = z.strictObject({
  source: z.string().min(1),
  defaultVersion: z.string().optional(),
  implicit: z.boolean().optional(),
});
const fileSchema = z.strictObject({
  libraries: z.union([
    z.array(entrySchema.extend({ name: z.string().min(1) })),
    z.record(z.string(), z.union([z.string().min(1), entrySchema])),
  ]),
});

/**
 * Parses one `--library` flag: `name=source` or `name@defaultVersion=source`, where source is
 * a directory or a git URL. Throws an `Error` whose message says what is wrong.
 */
export function parseLibraryFlag(flag: string): LibrarySource {
  const eq = flag.indexOf("=");
  if (eq <= 0 || eq === flag.length - 1)
    throw new Error(`--library "${flag}" must be NAME=PATH or NAME=GIT-URL (optionally NAME@VERSION=...)`);
  const left = flag.slice(0, eq);
  const source = flag.slice(eq + 1);
  const at = left.indexOf("@");
  const name = at < 0 ? left : left.slice(0, at);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`--library "${flag}": "${name}" is not a valid library name`);
  return { name, source, ...(at >= 0 && at < left.length - 1 ? { defaultVersion: left.slice(at + 1) } : {}) };
}

/** Reads `.gantry/libraries.yml` (absent: no libraries). Relative sources are resolved against the project. */
export function readLibrariesConfig(projectDir: string): {
  sources: LibrarySource[];
  diagnostics: Diagnostic[];
} {
  const file = path.join(projectDir, LIBRARIES_FILE);
  if (!existsSync(file)) return { sources: [], diagnostics: [] };
  const diag = (message: string, line = 1, column = 1): Diagnostic => ({
    severity: "error",
    code: "LIB-config",
    message,
    file: LIBRARIES_FILE,
    line,
    column,
    hint: "see docs/libraries.md for the format",
  });
  const doc = parseDocument(readFileSync(file, "utf8"));
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return {
      sources: [],
      diagnostics: [
        diag(e.message.split("\n")[0] ?? "invalid YAML", e.linePos?.[0].line, e.linePos?.[0].col),
      ],
    };
  }
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { sources: [], diagnostics: [diag(`${issue.path.join(".") || "(top)"}: ${issue.message}`)] };
  }
  const list = Array.isArray(parsed.data.libraries)
    ? parsed.data.libraries
    : Object.entries(parsed.data.libraries).map(([name, v]) =>
        typeof v === "string" ? { name, source: v } : { name, ...v },
      );
  return {
    sources: list.map((l) => ({
      ...l,
      source: isRemote(l.source) ? l.source : path.resolve(projectDir, l.source),
    })),
    diagnostics: [],
  };
}

/** Whether a library source is a git URL rather than a directory. */
export function isRemote(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[^/\s]+@[^/\s]+:/.test(source);
}
