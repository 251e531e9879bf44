/**
 * Diagnostics are data: every frontend and linter collects all of them in one pass and hands
 * them back; the CLI, the API and the UI show the same objects. Only `error`s block a run.
 */
export type Severity = "error" | "warning" | "info";

export interface Diagnostic {
  severity: Severity;
  /** Stable, documented identifier, e.g. `GL001` or `unknown-key`. */
  code: string;
  message: string;
  /** Path as the user gave it (relative to the project directory where possible). */
  file: string;
  /** 1-based; 0 when the position is unknown (e.g. a missing file). */
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** How to fix it. */
  hint?: string;
}

/** A collector that frontends pass around while compiling. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  error(code: string, message: string, at: Position, hint?: string): void {
    this.items.push({ severity: "error", code, message, ...at, ...(hint ? { hint } : {}) });
  }

  warning(code: string, message: string, at: Position, hint?: string): void {
    this.items.push({ severity: "warning", code, message, ...at, ...(hint ? { hint } : {}) });
  }

  info(code: string, message: string, at: Position, hint?: string): void {
    this.items.push({ severity: "info", code, message, ...at, ...(hint ? { hint } : {}) });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }
}

/** Where a diagnostic points. */
export interface Position {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders diagnostics by file, then position, errors before warnings at the same place. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      rank[a.severity] - rank[b.severity],
  );
}

/** `file:line:column: severity[code]: message` and an indented hint line, as compilers print them. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const head = `${where}: ${d.severity}[${d.code}]: ${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}

/** Damerau-free Levenshtein distance; small inputs only (keywords). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate to `word`, if it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const score = editDistance(lower, c.toLowerCase());
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

/** Hint text for an unknown key, or undefined when nothing is close. */
export function didYouMeanHint(word: string, candidates: Iterable<string>): string | undefined {
  const guess = didYouMean(word, candidates);
  return guess ? `did you mean "${guess}"?` : undefined;
}
