import { createHash } from "node:crypto";
import { Composer, Lexer, LineCounter, Parser } from "yaml";
import { cacheEntryFile, readCacheEntry, writeCacheEntry } from "../cache-files.js";
import { Reference, newMap, type Locator, type Parsed, type Span, type Value } from "./source.js";

/** A span in the file's text: [start, end]. */
type At = [number, number];
/** A value with the positions the compiler reports diagnostics at. Scalars are themselves. */
type Enc = null | boolean | number | string | EncSeq | EncMap | EncRef;
interface EncSeq {
  a: Enc[];
  /** Each item's span. */
  e: (At | null)[];
  s?: At;
}
interface EncMap {
  /** Key, value, the value's span, the key's span. */
  m: [string, Enc, At | null, At | null][];
  s?: At;
}
interface EncRef {
  r: string[];
  s?: At;
}
interface Entry {
  key: string;
  lineStarts: number[];
  value: Enc;
  header?: Enc;
}

/** Digest of the code that turns text into values (Gantry's converter, yaml's classes): once. */
let codeDigest: string | undefined;

/**
 * Parsed GitLab files kept between runs, under `<cacheDir>/parsed/`, one entry per file path.
 *
 * Why: the `yaml` package allocates heavily; parsing a 50-job file with cold code takes
 * 7–12 ms, a good part of a short local run. Parsing is a pure function of the text and of
 * the code that parses, so an entry is used only when both are the same: its key hashes the
 * text, the source of Gantry's converter and of the `yaml` classes that lex, parse and
 * compose. Only clean parses are kept (no warnings to replay). A broken or foreign entry is
 * a miss, and any failure to read or write the cache only costs the parse.
 */
export class ParseCache {
  private readonly file: string;
  private readonly key: string;

  /**
   * `parserSource`: the source of Gantry's own parsing code, asked for once per process;
   * `salt`: this user's cache salt (`cacheSalt()`), so that entries a repository brings never match.
   */
  constructor(
    cacheDir: string,
    private readonly name: string,
    text: string,
    parserSource: () => string,
    salt: string,
  ) {
    codeDigest ??= createHash("sha256")
      .update(parserSource())
      .update("\0")
      .update([Lexer, Parser, Composer].map(String).join("\n"))
      .digest("hex");
    this.file = cacheEntryFile(cacheDir, "parsed", name);
    this.key = createHash("sha256")
      .update(salt)
      .update("\0")
      .update(codeDigest)
      .update("\0")
      .update(text)
      .digest("hex");
  }

  /** The cached parse, its positions recorded in `locator`; undefined on a miss. */
  load(locator: Locator): Parsed | undefined {
    const entry = readCacheEntry(this.file) as Entry | undefined;
    if (entry?.key !== this.key || !Array.isArray(entry.lineStarts)) return undefined;
    const lc = new LineCounter();
    lc.lineStarts.push(...entry.lineStarts);
    const span = (at: At): Span => ({ file: this.name, lc, start: at[0], end: at[1] });
    const decode = (e: Enc): Value => {
      if (e === null || typeof e !== "object") return e;
      if ("a" in e) {
        const out: Value[] = [];
        if (e.s) locator.setNode(out, span(e.s));
        e.a.forEach((item, i) => {
          out.push(decode(item));
          const at = e.e[i];
          if (at) locator.setEntry(out, i, span(at));
        });
        return out;
      }
      if ("m" in e) {
        const out = newMap();
        if (e.s) locator.setNode(out, span(e.s));
        for (const [k, item, at, keyAt] of e.m) {
          out[k] = decode(item);
          if (at) locator.setEntry(out, k, span(at), keyAt ? span(keyAt) : undefined);
        }
        return out;
      }
      const ref = new Reference(e.r);
      if (e.s) locator.setNode(ref, span(e.s));
      return ref;
    };
    try {
      const value = decode(entry.value);
      locator.registerFile(this.name, { file: this.name, lc, start: 0, end: 0 });
      return entry.header === undefined ? { value, lc } : { value, header: decode(entry.header), lc };
    } catch {
      return undefined;
    }
  }

  /** Keeps a clean parse for the next run with the same text; quietly does nothing if it cannot. */
  save(parsed: Parsed, locator: Locator): void {
    if (parsed.value === undefined || !parsed.lc) return;
    const lc = parsed.lc;
    const at = (s: Span | undefined): At | null => {
      if (!s) return null;
      if (s.file !== this.name || s.lc !== lc) throw new Uncacheable(); // cannot happen from one parse
      return [s.start, s.end];
    };
    const encode = (v: Value): Enc => {
      if (Object.is(v, -0)) throw new Uncacheable(); // JSON would make it 0
      if (v === null || typeof v !== "object") return v;
      const { node, entries } = locator.recorded(v);
      const s = at(node);
      if (v instanceof Reference) return s ? { r: v.path, s } : { r: v.path };
      if (Array.isArray(v)) {
        const seq: EncSeq = { a: v.map(encode), e: v.map((_, i) => at(entries?.get(i)?.value)) };
        if (s) seq.s = s;
        return seq;
      }
      const map: EncMap = {
        m: Object.keys(v).map((k) => {
          const e = entries?.get(k);
          return [k, encode(v[k]!), at(e?.value), at(e?.key)];
        }),
      };
      if (s) map.s = s;
      return map;
    };
    let entry: Entry;
    try {
      entry = { key: this.key, lineStarts: lc.lineStarts, value: encode(parsed.value) };
      if (parsed.header !== undefined) entry.header = encode(parsed.header);
    } catch {
      return; // not representable: parsed again next time
    }
    writeCacheEntry(this.file, entry);
  }
}

class Uncacheable extends Error {}
