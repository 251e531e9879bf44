import { createHash } from "node:crypto";

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

/**
 * File names for a run's jobs (workspace folders, log files): each id's slug, with a short
 * hash of the id appended where several ids would get the same one (`build:docs` and
 * `build-docs`), so that no two jobs share a folder or a log.
 */
export function jobSlugs(ids: Iterable<string>): Map<string, string> {
  const bySlug = new Map<string, string[]>();
  for (const id of ids) {
    const slug = slugify(id);
    const list = bySlug.get(slug);
    if (list) list.push(id);
    else bySlug.set(slug, [id]);
  }
  const out = new Map<string, string>();
  for (const [slug, list] of bySlug)
    for (const id of list) out.set(id, list.length === 1 ? slug : hashedSlug(id));
  return out;
}

/**
 * A file-safe name for one job that no other job can get, without knowing the others: its
 * slug when that is the id itself, else the slug and a short hash of the id.
 */
export function uniqueSlug(id: string): string {
  return slugify(id) === id ? id : hashedSlug(id);
}

/** The name's slug and a short hash of the name: distinct for distinct names. */
export function hashedSlug(name: string): string {
  return `${slugify(name)}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
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
