import { fingerprint } from "../fingerprint.js";
import type { Finding } from "../types.js";
import type { RawSecret } from "./detector.js";
import { redact } from "./redact.js";

/** A secret finding plus the inline suppression that covers it, if any. */
export interface SecretFinding extends Finding {
  /** The reason given in `gantry:allow <reason>` on the same or the previous line. */
  suppressed?: string;
}

const ALLOW = /gantry:allow(?:[ \t]+([^\r\n]*\S))?/;

/**
 * Turns raw matches into located, redacted findings. `source` is the scanned text or its bytes
 * (offsets are the same: text is handled as latin1). Lines are 1-based; columns are 1-based and
 * `endColumn` exclusive. `lineMap` maps lines of a diff's added text to the file's lines.
 */
export function locateSecrets(
  source: string | Buffer,
  raws: readonly RawSecret[],
  file: string,
  lineMap?: readonly number[],
): SecretFinding[] {
  const buf = typeof source === "string" ? Buffer.from(source, "latin1") : source;
  const out: SecretFinding[] = [];
  let line = 1;
  let lineStart = 0;
  // Advance line by line (native newline search) up to each match, in offset order.
  const advance = (to: number): void => {
    for (let nl = buf.indexOf(10, lineStart); nl !== -1 && nl < to; nl = buf.indexOf(10, lineStart)) {
      line++;
      lineStart = nl + 1;
    }
  };
  const mapLine = (l: number): number => (lineMap ? (lineMap[l - 1] ?? l) : l);
  for (const raw of [...raws].sort((a, b) => a.start - b.start)) {
    advance(raw.start);
    const startLine = line;
    let endLine = startLine;
    let endLineStart = lineStart;
    for (let nl = buf.indexOf(10, raw.start); nl !== -1 && nl < raw.end; nl = buf.indexOf(10, nl + 1)) {
      endLine++;
      endLineStart = nl + 1;
    }
    let lineEnd = buf.indexOf(10, lineStart);
    if (lineEnd === -1) lineEnd = buf.length;
    const prevStart = lineStart < 2 ? 0 : buf.lastIndexOf(10, lineStart - 2) + 1;
    const here = ALLOW.exec(buf.toString("latin1", lineStart, lineEnd));
    const above = lineStart === 0 ? null : ALLOW.exec(buf.toString("latin1", prevStart, lineStart));
    const allow = here ?? above;
    const f: SecretFinding = {
      ruleId: `secrets/${raw.rule.id}`,
      scanner: "secrets",
      severity: raw.rule.severity,
      message: `${raw.rule.title}: ${redact(raw.secret)}`,
      file,
      line: mapLine(startLine),
      column: raw.start - lineStart + 1,
      endLine: mapLine(endLine),
      endColumn: raw.end - endLineStart + 1,
      fingerprint: fingerprint(raw.rule.id, file, raw.secret),
      redacted: redact(raw.secret),
    };
    // A bare `gantry:allow` without a reason does not count: the reason is the audit trail.
    if (allow?.[1]) f.suppressed = allow[1].trim();
    out.push(f);
  }
  return out;
}
