import path from "node:path";
import { fingerprint } from "../fingerprint.js";
import { isBinary } from "../files.js";
import { compileRules, detectSecretsInBuffer, type CompiledRules } from "./detector.js";
import { locateSecrets, type SecretFinding } from "./locate.js";
import { SECRET_RULES } from "./rules.js";

let compiled: CompiledRules | undefined;

/** The process-wide compiled rule set (built on first use). */
export function secretRules(): CompiledRules {
  return (compiled ??= compileRules(SECRET_RULES));
}

/** File names that are secrets by themselves, whatever their content. */
const SENSITIVE_NAMES: { re: RegExp; id: string; title: string }[] = [
  { re: /\.(?:p12|pfx)$/i, id: "pkcs12-file", title: "PKCS#12 key store (certificate with private key)" },
];

/** The outcome of scanning one file's bytes. */
export interface BufferScan {
  findings: SecretFinding[];
  binary: boolean;
}

/** Scans one file's bytes: binary files are skipped (but sensitive names still reported). */
export function scanBuffer(rel: string, buf: Uint8Array): BufferScan {
  const findings: SecretFinding[] = [];
  for (const s of SENSITIVE_NAMES)
    if (s.re.test(path.basename(rel)))
      findings.push({
        ruleId: `secrets/${s.id}`,
        scanner: "secrets",
        severity: "high",
        message: `${s.title}: ${path.basename(rel)}`,
        file: rel,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        fingerprint: fingerprint(s.id, rel),
      });
  if (isBinary(buf)) return { findings, binary: true };
  const raws = detectSecretsInBuffer(buf, secretRules());
  if (raws.length > 0) {
    const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("latin1");
    findings.push(...locateSecrets(text, raws, rel));
  }
  return { findings, binary: false };
}
