import fs from "node:fs";
import type { Finding } from "./types.js";

/**
 * A baseline lists findings that are known and accepted. Entries are matched by fingerprint,
 * which for secrets hashes the rule, the file and the secret itself, so moving a line does not
 * bring a finding back, while changing the secret does.
 */
export interface Baseline {
  version: 1;
  createdAt: string;
  findings: { fingerprint: string; ruleId: string; file: string }[];
}

/** Reads a baseline file; a missing or malformed file is a usage error for the caller. */
export function readBaseline(file: string): Set<string> {
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Baseline>;
  if (!Array.isArray(data.findings)) throw new Error(`${file}: not a Gantry baseline (no "findings" array)`);
  return new Set(data.findings.map((f) => f.fingerprint));
}

/** Writes the current findings as the new baseline. */
export function writeBaseline(file: string, findings: readonly Finding[]): void {
  const data: Baseline = {
    version: 1,
    createdAt: new Date().toISOString(),
    findings: [
      ...new Map(
        findings.map((f) => [f.fingerprint, { fingerprint: f.fingerprint, ruleId: f.ruleId, file: f.file }]),
      ).values(),
    ],
  };
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
