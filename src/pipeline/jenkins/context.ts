/**
 * State shared by the Jenkinsfile compiler's passes: where diagnostics go, the file being
 * compiled (a Jenkinsfile or a library's `vars/*.groovy`), bindings of a library call, and
 * the loaded shared libraries.
 */
import { editDistance, type Diagnostic } from "../diagnostics.js";
import type { LoadedLibraries } from "../libraries/load.js";
import type { SourceLocation, Step } from "../plan.js";
import type { Span } from "./ast.js";

/** A compile-time value: what literals, lists, maps and library arguments evaluate to. */
export type Val = string | number | boolean | null | Val[] | { [key: string]: Val };

export interface Scope {
  /** Path of the file being compiled, as shown in diagnostics. */
  file: string;
  /** Its text, to quote code in messages. */
  source: string;
  /** Names bound at compile time: `args` of a library step, its `def` locals. */
  bindings: Record<string, Val>;
  /** Steps of the block passed to a library step, inserted where the library calls `body()`. */
  body?: Step[];
  /** Library steps being expanded, innermost last (to stop recursion). */
  stack: string[];
}

export interface Cx {
  diags: Diagnostic[];
  libs: LoadedLibraries;
  /** A requested library could not be loaded (unknown steps may be its steps). */
  libsFailed?: boolean;
  scope: Scope;
}

export function loc(cx: Cx, at: Span): SourceLocation {
  return { file: cx.scope.file, line: at.line, column: at.column };
}

export function report(
  cx: Cx,
  severity: Diagnostic["severity"],
  code: string,
  message: string,
  at: Span | { line: number; column: number },
  hint?: string,
): void {
  cx.diags.push({
    severity,
    code,
    message,
    file: cx.scope.file,
    line: at.line,
    column: at.column,
    ...(hint ? { hint } : {}),
  });
}

/** Source text of a node, single-spaced, for messages. */
export function sourceOf(cx: Cx, at: Span): string {
  return cx.scope.source.slice(at.offset, at.end).replace(/\s+/g, " ").trim();
}

/** The candidate closest to `word`, always (Jenkins suggests one even when far off). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const s = editDistance(word, c);
    if (s < bestScore) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}
