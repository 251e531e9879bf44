import type { Level } from "../types.js";

/**
 * One secret rule. The scanner runs `pattern` only on lines where one of `keywords` occurs
 * (case-insensitive), so every rule must name at least one literal that any match contains.
 */
export interface SecretRule {
  /** Short id without the `secrets/` prefix, e.g. `github-pat`. */
  id: string;
  /** The provider, for docs and for counting coverage. */
  provider: string;
  title: string;
  severity: Level;
  /** Lower-case literals; a line must contain one for the pattern to run. */
  keywords: string[];
  /** Global regex; group `s` (or the whole match) is the secret. */
  pattern: RegExp;
  /** Minimum Shannon entropy (bits per char) of the secret; filters placeholders like `xxxx`. */
  minEntropy?: number;
  /** The pattern may span lines (private keys, YAML documents): it runs on a window, not a line. */
  multiline?: boolean;
  /** With `multiline`: the window is the YAML document (between `---` lines) around the keyword. */
  document?: boolean;
  /** Equivalent rule ids in other scanners. */
  equivalents: string[];
  /** Extra text after the generic fix advice. */
  help?: string;
  /** Reject a candidate secret (placeholders specific to this format). */
  reject?: (secret: string, line: string, groups?: Record<string, string | undefined>) => boolean;
}

/** Ways a key and a value are tied together in code, config, XML and shell. */
const KEY_TAIL = String.raw`[\w.\-]{0,40}?(?:[ \t]+(?:string|String|str))?`;
const ASSIGN_OPS = String.raw`=|:|=>|,|\?=|\.=|:{1,3}=|\|\|?=?|>`;
/** Generic rules accept only real assignment operators: `,`, `|` and `>` match too much prose and code. */
const STRICT_OPS = String.raw`=|:|=>|\?=|\.=|:{1,3}=`;
const VALUE_END = String.raw`(?=[\s'"\x60;,)<>\]\\}|&]|$)`;

/**
 * Builds a regex for "a key mentioning one of `keys`, an assignment, then a value of shape
 * `value`": `etsyToken = "…"`, `ETSY_TOKEN: …`, `<EtsyToken>…`, `setProperty("ETSY", "…")`.
 */
export function assigned(
  keys: string,
  value: string,
  opts: { flags?: string; strict?: boolean } = {},
): RegExp {
  // Strict (generic rules): the key starts an identifier, an operator is required and the value
  // is on the same line. Loose (provider rules): also `KEY value` and a value on the next line.
  const strict = opts.strict === true;
  const start = strict ? String.raw`(?<![\w.\-])[\w.\-]{0,40}?` : "";
  const assign = String.raw`[ \t'"\x60\])>]{0,4}(?:${strict ? STRICT_OPS : String.raw`${ASSIGN_OPS}|[ \t]+`})[ \t'"\x60=]{0,6}${strict ? "" : String.raw`(?:\r?\n[ \t]*)?`}`;
  return new RegExp(
    String.raw`${start}(?:${keys})${KEY_TAIL}${assign}(?<s>${value})${VALUE_END}`,
    opts.flags ?? "gi",
  );
}

/** A token that carries its own prefix: matched on word boundaries, anywhere. */
export function prefixed(body: string, flags = "g"): RegExp {
  return new RegExp(String.raw`(?<![\w\-.])(?<s>${body})(?![\w\-])`, flags);
}

/** Shorthand for a prefixed, self-identifying token rule. */
export function token(
  id: string,
  provider: string,
  title: string,
  keywords: string[],
  body: string,
  extra: Partial<SecretRule> & { flags?: string } = {},
): SecretRule {
  const { flags, ...rest } = extra;
  return {
    id,
    provider,
    title,
    severity: "high",
    keywords,
    pattern: prefixed(body, flags),
    minEntropy: 2.5,
    equivalents: [`gitleaks:${id}`],
    ...rest,
  };
}

/** Shorthand for a rule that needs the provider's name next to the value. */
export function keyed(
  id: string,
  provider: string,
  title: string,
  keywords: string[],
  value: string,
  extra: Partial<SecretRule> = {},
): SecretRule {
  return {
    id,
    provider,
    title,
    severity: "high",
    keywords,
    pattern: assigned(keywords.map(escapeRe).join("|"), value),
    minEntropy: 2.7,
    equivalents: [`gitleaks:${id}`],
    ...extra,
  };
}

/** Escapes a literal for use inside a RegExp. */
export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
