/**
 * Shows enough of a secret to recognise it and never the whole: a short prefix, then the
 * length. Private keys keep only their header line.
 */
export function redact(secret: string): string {
  const oneLine = secret.replace(/\r?\n/g, "\\n");
  if (oneLine.startsWith("-----BEGIN"))
    return `${oneLine.slice(0, oneLine.indexOf("-----", 10) + 5)}…(redacted)`;
  const keep = secret.length >= 16 ? 4 : secret.length >= 8 ? 2 : 0;
  return `${oneLine.slice(0, keep)}…(${secret.length} chars)`;
}
