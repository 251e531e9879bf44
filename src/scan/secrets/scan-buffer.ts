import fs from "node:fs";
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
    findings.push(...locateSecrets(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), raws, rel));
  }
  return { findings, binary: false };
}

let scratch = Buffer.alloc(1024 * 1024);

/**
 * Reads a file into a buffer reused across calls (the returned view is valid until the next
 * call): scanning thousands of files then allocates almost nothing for the garbage collector.
 */
export function readReused(abs: string): Buffer {
  const fd = fs.openSync(abs, "r");
  try {
    const size = fs.fstatSync(fd).size;
    if (size > scratch.length) scratch = Buffer.alloc(Math.max(size, scratch.length * 2));
    let n = 0;
    while (n < size) {
      const r = fs.readSync(fd, scratch, n, size - n, n);
      if (r === 0) break;
      n += r;
    }
    return scratch.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}
