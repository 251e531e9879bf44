/**
 * GitLab variable references inside values: `$VAR`, `${VAR}`, and `$$` for a literal `$`.
 * Unknown variables expand to the empty string, as in GitLab.
 */
export function expandVariables(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, a?: string, b?: string) => {
      if (m === "$$") return "$";
      return lookup((a ?? b)!) ?? "";
    },
  );
}

/** Whether `text` refers to any variable (so expanding it at compile time could lose run-time values). */
export function hasVariableReference(text: string): boolean {
  return /\$\{?[A-Za-z_]/.test(text.replace(/\$\$/g, ""));
}

/**
 * Expands only the variables `lookup` knows; others stay as written for the engine, and `$$`
 * stays `$$` so that the engine's own expansion still sees the escape.
 */
export function expandKnown(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, a?: string, b?: string) => {
      if (m === "$$") return m;
      return lookup((a ?? b)!) ?? m;
    },
  );
}
