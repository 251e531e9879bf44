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
 * Turns raw matches in `text` into located, redacted findings. Lines are 1-based; columns are
 * 1-based and `endColumn` exclusive. `lineOffset` shifts lines (for diff hunks).
 */
export function locateSecrets(
  text: string,
  raws: readonly RawSecret[],
  file: string,
  lineMap?: readonly number[],
): SecretFinding[] {
  const out: SecretFinding[] = [];
  let line = 1;
  let lineStart = 0;
  let pos = 0;
  const advance = (to: number): void => {
    for (; pos < to; pos++)
      if (text.charCodeAt(pos) === 10) {
        line++;
        lineStart = pos + 1;
      }
  };
  for (const raw of raws) {
    advance(raw.start);
    const startLine = line;
    const startCol = raw.start - lineStart + 1;
    const thisLineStart = lineStart;
    let endLine = startLine;
    let endLineStart = thisLineStart;
    for (let i = raw.start; i < raw.end; i++)
      if (text.charCodeAt(i) === 10) {
        endLine++;
        endLineStart = i + 1;
      }
    const prevStart = thisLineStart === 0 ? 0 : text.lastIndexOf("\n", thisLineStart - 2) + 1;
    let lineEnd = text.indexOf("\n", thisLineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const here = ALLOW.exec(text.slice(thisLineStart, lineEnd));
    const above = thisLineStart === 0 ? null : ALLOW.exec(text.slice(prevStart, thisLineStart));
    const allow = here ?? above;
    const mapLine = (l: number): number => (lineMap ? (lineMap[l - 1] ?? l) : l);
    const f: SecretFinding = {
      ruleId: `secrets/${raw.rule.id}`,
      scanner: "secrets",
      severity: raw.rule.severity,
      message: `${raw.rule.title}: ${redact(raw.secret)}`,
      file,
      line: mapLine(startLine),
      column: startCol,
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
