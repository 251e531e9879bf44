/** Shannon entropy in bits per character; random base64 is near 6, English words near 3. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const PLACEHOLDER = /x{5,}|\*{4,}|\.{3}|placeholder|your[_-]|<[a-z_\- ]+>|\$\{|\{\{|redacted|0{12,}/i;

/** True for values that are obviously not real: `xxxx`, `<your-token>`, `${VAR}`. */
export function looksLikePlaceholder(secret: string): boolean {
  return PLACEHOLDER.test(secret);
}
