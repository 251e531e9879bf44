import { createHash } from "node:crypto";

/** A stable id for a finding made of the parts that survive edits elsewhere in the file. */
export function fingerprint(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
}
