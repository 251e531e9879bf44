/** Severity of a finding; ordered from least to most serious. */
export type Level = "info" | "low" | "medium" | "high" | "critical";

/** Every level, least serious first. */
export const LEVELS: readonly Level[] = ["info", "low", "medium", "high", "critical"];

/** The scanners `gantry scan --only` can select. */
export type ScannerKind = "secrets" | "dockerfile" | "kubernetes";

/** Every scanner kind, in the order reports list them. */
export const SCANNERS: readonly ScannerKind[] = ["secrets", "dockerfile", "kubernetes"];

/** What `--list-rules`, the docs and SARIF `rules[]` show about one rule. */
export interface RuleMeta {
  /** Stable id, e.g. `secrets/github-pat`, `dockerfile/pin-base-image`, `k8s/run-as-non-root`. */
  id: string;
  scanner: ScannerKind;
  severity: Level;
  title: string;
  /** How to fix it. */
  help: string;
  /** Ids of the same check in well-known tools, e.g. `hadolint:DL3006`, `gitleaks:github-pat`. */
  equivalents: string[];
}

/** One problem found. Positions are 1-based; `endColumn` is exclusive, as SARIF wants. */
export interface Finding {
  ruleId: string;
  scanner: ScannerKind;
  severity: Level;
  message: string;
  /** Path relative to the scanned root, with `/` separators. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Stable across line moves: for secrets a hash of the rule and the secret, never the secret itself. */
  fingerprint: string;
  /** Secrets only: the redacted match, e.g. `ghp_ab…(36 chars)`. Never the whole secret. */
  redacted?: string;
  /** For git history scans: the commit that introduced it. */
  commit?: string;
}

/** Returns true when `level` is at or above `gate`. `never` is above everything. */
export function reaches(level: Level, gate: Level | "never"): boolean {
  if (gate === "never") return false;
  return LEVELS.indexOf(level) >= LEVELS.indexOf(gate);
}

/** Parses a level name as users type it (`HIGH`, `warning` → medium, `error` → high). */
export function parseLevel(text: string): Level | "never" | undefined {
  const t = text.trim().toLowerCase();
  if (t === "never" || t === "none") return "never";
  if (t === "warning" || t === "warn") return "medium";
  if (t === "error") return "high";
  return (LEVELS as readonly string[]).includes(t) ? (t as Level) : undefined;
}
