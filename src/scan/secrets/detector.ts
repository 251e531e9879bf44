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
  return detectSecretsInBuffer(Buffer.from(text, "latin1"), compiled);
}

/**
 * Finds secrets in file bytes. Offsets are byte offsets. Only the lines around keyword hits are
 * decoded (as latin1, one char per byte), so clean files never become strings at all.
 */
export function detectSecretsInBuffer(bytes: Uint8Array, compiled: CompiledRules): RawSecret[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines = new Map<number, Set<SecretRule>>();
  // The current line [curStart, curEnd): hits on the same line need no newline search.
  let curStart = -1;
  let curEnd = -1;
  let curSet: Set<SecretRule> | undefined;
  compiled.automaton.scan(buf, (end, ids) => {
    if (curSet === undefined || end >= curEnd || end < curStart) {
      curStart = buf.lastIndexOf(10, end) + 1;
      const nl = buf.indexOf(10, end);
      curEnd = nl === -1 ? buf.length : nl;
      curSet = lines.get(curStart);
      if (!curSet) lines.set(curStart, (curSet = new Set()));
    }
    for (const id of ids) for (const r of compiled.byKeyword[id] ?? []) curSet.add(r);
  });
  if (lines.size === 0) return [];
  const len = buf.length;
  const found: RawSecret[] = [];
  const taken = new Set<number>();
  for (const [lineStart, ruleSet] of lines) {
    const rules =
      ruleSet.size > 1
        ? [...ruleSet].sort((a, b) => (compiled.rank.get(a) ?? 0) - (compiled.rank.get(b) ?? 0))
        : ruleSet;
    let lineEnd = buf.indexOf(10, lineStart);
    if (lineEnd === -1) lineEnd = len;
    // Include the next line: XML and YAML often put the value under its key.
    let nextEnd = lineEnd < len ? buf.indexOf(10, lineEnd + 1) : lineEnd;
    if (nextEnd === -1) nextEnd = len;
    for (const rule of rules) {
      if (rule.document) {
        const before = buf.lastIndexOf("\n---", lineStart, "latin1");
        const from = Math.max(before === -1 ? 0 : before + 1, lineStart - WINDOW);
        const after = buf.indexOf("\n---", lineStart, "latin1");
        runRule(
          rule,
          buf,
          from,
          after === -1 ? Math.min(len, lineStart + WINDOW) : after,
          lineEnd,
          found,
          taken,
        );
        continue;
      }
      const end = rule.multiline ? Math.min(len, lineStart + WINDOW) : nextEnd;
      runRule(rule, buf, lineStart, end, lineEnd, found, taken);
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

function runRule(
  rule: SecretRule,
  buf: Buffer,
  from: number,
  to: number,
  mustStartBefore: number,
  out: RawSecret[],
  taken: Set<number>,
): void {
  const re = rule.pattern;
  const window = buf.toString("latin1", from, to);
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

/** The identifier characters (`[\w.-]`, at most 40) that end just before `at`. */
function identifierBefore(text: string, at: number): string {
  let i = at;
  while (i > 0 && at - i < 40 && /[\w.-]/.test(text[i - 1] as string)) i--;
  return text.slice(i, at);
}
