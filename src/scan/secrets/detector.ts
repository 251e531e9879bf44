import { entropy, looksLikePlaceholder } from "./entropy.js";
import { KeywordAutomaton } from "./keyword-automaton.js";
import type { SecretRule } from "./rule.js";
import { rejectGeneric } from "./rules-generic.js";

/** A secret found in a text, by offsets; the caller turns it into a located, redacted finding. */
export interface RawSecret {
  rule: SecretRule;
  /** Offset of the secret itself (not the key before it). */
  start: number;
  end: number;
  secret: string;
}

/** Rules prepared for fast matching: one keyword automaton selects the rules per line. */
export interface CompiledRules {
  automaton: KeywordAutomaton;
  /** Rules per keyword id of the automaton. */
  byKeyword: SecretRule[][];
  /** Position in the rule list: specific rules run before generic ones on the same line. */
  rank: Map<SecretRule, number>;
}

/** Compiles rules once per process (or worker). */
export function compileRules(rules: readonly SecretRule[]): CompiledRules {
  const byKeyword = new Map<string, SecretRule[]>();
  for (const rule of rules) {
    if (rule.keywords.length === 0) throw new Error(`secret rule ${rule.id} has no keyword`);
    for (const kw of rule.keywords) {
      const k = kw.toLowerCase();
      const list = byKeyword.get(k) ?? [];
      list.push(rule);
      byKeyword.set(k, list);
    }
  }
  const keys = [...byKeyword.keys()];
  const rank = new Map(rules.map((r, i) => [r, i]));
  return { automaton: new KeywordAutomaton(keys), byKeyword: keys.map((k) => byKeyword.get(k) ?? []), rank };
}

/** Multi-line rules look this far past the keyword's line. */
const WINDOW = 16 * 1024;

/** Finds secrets in one text. Order: by offset; one finding per secret span (most specific rule wins). */
export function detectSecrets(text: string, compiled: CompiledRules): RawSecret[] {
  return detectSecretsInBuffer(Buffer.from(text, "latin1"), compiled, text);
}

/**
 * Finds secrets in file bytes. Offsets are byte offsets: the text is decoded as latin1 (one
 * char per byte), and only when a keyword occurs at all.
 */
export function detectSecretsInBuffer(
  buf: Uint8Array,
  compiled: CompiledRules,
  decoded?: string,
): RawSecret[] {
  const lines = new Map<number, Set<SecretRule>>();
  let lastLine = -1;
  let lastSet: Set<SecretRule> | undefined;
  compiled.automaton.scan(buf, (end, ids) => {
    let lineStart: number;
    if (lastSet !== undefined && lastLine <= end && !hasNewline(buf, lastLine, end)) lineStart = lastLine;
    else lineStart = lastIndexOfNewline(buf, end) + 1;
    let set = lineStart === lastLine ? lastSet : lines.get(lineStart);
    if (!set) lines.set(lineStart, (set = new Set()));
    for (const id of ids) for (const r of compiled.byKeyword[id] ?? []) set.add(r);
    lastLine = lineStart;
    lastSet = set;
  });
  if (lines.size === 0) return [];
  const text = decoded ?? Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("latin1");
  const found: RawSecret[] = [];
  const taken = new Set<number>();
  for (const [lineStart, ruleSet] of lines) {
    const rules =
      ruleSet.size > 1
        ? [...ruleSet].sort((a, b) => (compiled.rank.get(a) ?? 0) - (compiled.rank.get(b) ?? 0))
        : ruleSet;
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    // Include the next line: XML and YAML often put the value under its key.
    let nextEnd = lineEnd < text.length ? text.indexOf("\n", lineEnd + 1) : lineEnd;
    if (nextEnd === -1) nextEnd = text.length;
    for (const rule of rules) {
      if (rule.document) {
        const before = text.lastIndexOf("\n---", lineStart);
        const from = Math.max(before === -1 ? 0 : before + 1, lineStart - WINDOW);
        const after = text.indexOf("\n---", lineStart);
        runRule(
          rule,
          text,
          from,
          after === -1 ? Math.min(text.length, lineStart + WINDOW) : after,
          lineEnd,
          found,
          taken,
        );
        continue;
      }
      const end = rule.multiline ? Math.min(text.length, lineStart + WINDOW) : nextEnd;
      runRule(rule, text, lineStart, end, lineEnd, found, taken);
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

function runRule(
  rule: SecretRule,
  text: string,
  from: number,
  to: number,
  mustStartBefore: number,
  out: RawSecret[],
  taken: Set<number>,
): void {
  const re = rule.pattern;
  const window = from === 0 && to === text.length ? text : text.slice(from, to);
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(window)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    // Matches that start on the following line belong to that line's own pass.
    if (!rule.multiline && from + m.index > mustStartBefore) break;
    const secret = m.groups?.s ?? m[0];
    const start = from + m.index + m[0].length - secret.length;
    if (taken.has(start)) continue;
    // The pattern starts at the keyword (fast to find); the key's head is read backwards here.
    const key = m.groups?.k === undefined ? undefined : identifierBefore(window, m.index) + m.groups.k;
    if (!accept(rule, secret, key, window, m.index, m.groups)) continue;
    taken.add(start);
    out.push({ rule, start, end: start + secret.length, secret });
  }
}

function accept(
  rule: SecretRule,
  secret: string,
  key: string | undefined,
  window: string,
  at: number,
  groups: Record<string, string | undefined> | undefined,
): boolean {
  if (rule.minEntropy !== undefined && rule.minEntropy > 0 && entropy(secret) < rule.minEntropy) return false;
  if (rule.minEntropy !== 0 && looksLikePlaceholder(secret)) return false;
  if (rule.reject?.(secret, window.slice(Math.max(0, at - 200), at + 200), groups)) return false;
  if (rule.id.startsWith("generic-") && rejectGeneric(rule.id, key, secret)) return false;
  return true;
}

function lastIndexOfNewline(buf: Uint8Array, from: number): number {
  for (let i = from; i >= 0; i--) if (buf[i] === 10) return i;
  return -1;
}

function hasNewline(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i <= to; i++) if (buf[i] === 10) return true;
  return false;
}

/** The identifier characters (`[\w.-]`, at most 40) that end just before `at`. */
function identifierBefore(text: string, at: number): string {
  let i = at;
  while (i > 0 && at - i < 40 && /[\w.-]/.test(text[i - 1] as string)) i--;
  return text.slice(i, at);
}
