/** Single-quotes a value for POSIX sh (`'` becomes `'\''`). */
export function shellQuoteValue(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
