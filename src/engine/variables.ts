/**
 * Expands `$NAME`, `${NAME}` and `$$` (a literal `$`) in a value, GitLab style. Unknown
 * names expand to the empty string. Runs once; expanded text is not expanded again.
 */
export function expandVariables(value: string, lookup: (name: string) => string | undefined): string {
  if (!value.includes("$")) return value;
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, braced, bare) => {
      if (m === "$$") return "$";
      return lookup((braced ?? bare) as string) ?? "";
    },
  );
}

/** A name safe for files, container names and URLs. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return slug || "job";
}

/** `KEY=value` lines (GitLab dotenv reports): no `export`, optional quotes, `#` comments. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2] ?? "";
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** Parses `K=V` pairs from the command line; throws with the offending text. */
export function parseAssignments(pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new Error(`${flag} "${p}" must be KEY=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Single-quotes a string for POSIX sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
