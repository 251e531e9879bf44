import {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
} from "yaml";
import type { DiagnosticBag, Position } from "../diagnostics.js";
import { cacheSalt } from "../cache-files.js";
import { ParseCache } from "./parse-cache.js";

/**
 * GitLab configuration values as plain data. Maps are prototype-less objects so that job
 * names such as `__proto__` or `constructor` are just keys. `!reference [a, b]` stays a
 * `Reference` until the reference resolver replaces it.
 */
export type Value = null | boolean | number | string | Value[] | YMap | Reference;
export type YMap = { [key: string]: Value };

/** One parsed file: its value (undefined if the YAML is broken) and a `spec:` header if any. */
export interface Parsed {
  value: Value | undefined;
  header?: Value;
  /** Line starts of the text (positions of everything in it). */
  lc?: LineCounter;
}

/** An unresolved `!reference [job, key, ...]` tag. */
export class Reference {
  constructor(readonly path: string[]) {}
}

/** A place in one source file, kept as offsets and turned into line/column on demand. */
export interface Span {
  file: string;
  lc: LineCounter;
  start: number;
  end: number;
}

/**
 * Remembers where every map, sequence and map entry came from, so a diagnostic found after
 * includes, `extends` and merges still points at the node the user wrote.
 */
export class Locator {
  private readonly nodes = new WeakMap<object, Span>();
  private readonly entries = new WeakMap<object, Map<string | number, { key?: Span; value: Span }>>();
  private readonly fileStarts = new Map<string, Span>();

  setNode(obj: object, span: Span): void {
    this.nodes.set(obj, span);
  }

  setEntry(obj: object, key: string | number, value: Span, keySpan?: Span): void {
    let m = this.entries.get(obj);
    if (!m) this.entries.set(obj, (m = new Map()));
    m.set(key, keySpan ? { key: keySpan, value } : { value });
  }

  /** Copies the entry position of `from[key]` onto `to[key]`. */
  copyEntry(from: object, to: object, key: string | number, toKey: string | number = key): void {
    const e = this.entries.get(from)?.get(key);
    if (e) this.setEntry(to, toKey, e.value, e.key);
  }

  copyNode(from: object, to: object): void {
    const s = this.nodes.get(from);
    if (s && !this.nodes.has(to)) this.nodes.set(to, s);
  }

  /** What was recorded for `obj`: its own span and its entries' (for saving a parse). */
  recorded(obj: object): {
    node: Span | undefined;
    entries: ReadonlyMap<string | number, { key?: Span; value: Span }> | undefined;
  } {
    return { node: this.nodes.get(obj), entries: this.entries.get(obj) };
  }

  registerFile(file: string, span: Span): void {
    if (!this.fileStarts.has(file)) this.fileStarts.set(file, span);
  }

  /** Position of `obj[key]` (the value; `keyPos` for the key), else of `obj`, else of `fallbackFile`. */
  at(obj: unknown, key?: string | number, fallbackFile = ""): Position {
    if (obj !== null && typeof obj === "object") {
      if (key !== undefined) {
        const e = this.entries.get(obj)?.get(key);
        if (e) return toPosition(e.value);
      }
      const s = this.nodes.get(obj);
      if (s) return toPosition(s);
    }
    const f = this.fileStarts.get(fallbackFile);
    return f ? toPosition(f) : { file: fallbackFile, line: 0, column: 0 };
  }

  /** Position of the key `key` of `obj` (for unknown-keyword diagnostics). */
  keyAt(obj: object, key: string, fallbackFile = ""): Position {
    const e = this.entries.get(obj)?.get(key);
    if (e?.key) return toPosition(e.key);
    return this.at(obj, key, fallbackFile);
  }
}

export function toPosition(s: Span): Position {
  const a = s.lc.linePos(s.start);
  const b = s.lc.linePos(s.end);
  return { file: s.file, line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
}

export function isMapValue(v: unknown): v is YMap {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Reference);
}

export function newMap(): YMap {
  return Object.create(null) as YMap;
}

/** Nesting deeper than this is refused: it protects the converter's recursion. */
const MAX_DEPTH = 200;

/**
 * Parses one GitLab YAML file. YAML errors become diagnostics (with positions); the value is
 * whatever could be recovered, `undefined` when nothing could. Duplicate keys are allowed
 * (last one wins, with a warning) because GitLab accepts them.
 */
export function parseGitlabYaml(
  text: string,
  file: string,
  locator: Locator,
  bag: DiagnosticBag,
  cacheDir?: string,
): Parsed {
  const salt = cacheDir === undefined ? undefined : cacheSalt();
  const cache = salt === undefined ? undefined : new ParseCache(cacheDir!, file, text, parserSource, salt);
  const cached = cache?.load(locator);
  if (cached) return cached;
  const before = bag.items.length;
  const parsed = parseUncached(text, file, locator, bag);
  // Only clean parses are kept: a file with warnings is parsed again, and they are reported again.
  if (cache && parsed.value !== undefined && bag.items.length === before) cache.save(parsed, locator);
  return parsed;
}

function parseUncached(text: string, file: string, locator: Locator, bag: DiagnosticBag): Parsed {
  const lc = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, {
      lineCounter: lc,
      uniqueKeys: false,
      merge: false,
      prettyErrors: false,
      customTags: [
        { tag: "!reference", collection: "seq", default: false, resolve: (s: unknown) => s as never },
      ],
    }) as Document.Parsed[];
  } catch (err) {
    bag.error("GL001", `invalid YAML: ${err instanceof Error ? err.message : String(err)}`, {
      file,
      line: 1,
      column: 1,
    });
    return { value: undefined };
  }
  if (!Array.isArray(docs)) docs = [docs];
  locator.registerFile(file, { file, lc, start: 0, end: 0 });
  let hadError = false;
  for (const doc of docs) {
    for (const e of doc.errors) {
      hadError = true;
      const [start, end] = e.pos;
      const pos = toPosition({ file, lc, start, end });
      bag.error(
        "GL001",
        `invalid YAML: ${firstLine(e.message)}`,
        pos,
        "fix the YAML syntax at this position",
      );
    }
    for (const w of doc.warnings) {
      const pos = toPosition({ file, lc, start: w.pos[0], end: w.pos[1] });
      bag.warning("GL002", `YAML: ${firstLine(w.message)}`, pos);
    }
  }
  if (hadError) return { value: undefined };
  const conv = new Converter(file, lc, locator, bag);
  const values = docs.map((d) => conv.convert(d.contents as YamlNode | null, d, 0));
  // GitLab's `spec:` header: a first document with only `spec`, the pipeline in the second.
  if (values.length >= 2 && isMapValue(values[0]) && Object.keys(values[0]).every((k) => k === "spec")) {
    return { value: values[1], header: values[0], lc };
  }
  if (values.length > 1) {
    bag.warning("GL003", "more than one YAML document: only the first is used", { file, line: 1, column: 1 });
  }
  return { value: values[0] ?? null, lc };
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

class Converter {
  constructor(
    private readonly file: string,
    private readonly lc: LineCounter,
    private readonly locator: Locator,
    private readonly bag: DiagnosticBag,
  ) {}

  private span(node: { range?: [number, number, number] | null } | null | undefined): Span {
    const r = node?.range;
    return { file: this.file, lc: this.lc, start: r?.[0] ?? 0, end: r?.[1] ?? 0 };
  }

  convert(
    node: YamlNode | null | undefined,
    doc: Document.Parsed,
    depth: number,
    seen = new Set<YamlNode>(),
  ): Value {
    if (node === null || node === undefined) return null;
    if (depth > MAX_DEPTH) {
      this.bag.error("GL004", "YAML nested too deeply", toPosition(this.span(node)));
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc) as YamlNode | undefined;
      if (!target || seen.has(target)) {
        this.bag.error("GL005", `alias *${node.source} cannot be resolved`, toPosition(this.span(node)));
        return null;
      }
      const next = new Set(seen).add(target);
      return this.convert(target, doc, depth + 1, next);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || v === undefined) return null;
      if (typeof v === "boolean" || typeof v === "string") return v;
      if (typeof v === "number") return Number.isFinite(v) ? v : String(node.source ?? v);
      if (typeof v === "bigint") return String(v);
      return v instanceof Date ? v.toISOString() : (JSON.stringify(v) ?? "");
    }
    if (isSeq(node)) {
      const out: Value[] = [];
      this.locator.setNode(out, this.span(node));
      node.items.forEach((item, i) => {
        const v = this.convert(item as YamlNode, doc, depth + 1, seen);
        out.push(v);
        this.locator.setEntry(out, i, this.span(item as YamlNode));
      });
      if (node.tag === "!reference") {
        const path = out.map((p) => (typeof p === "string" || typeof p === "number" ? String(p) : ""));
        const ref = new Reference(path);
        this.locator.setNode(ref, this.span(node));
        if (path.length === 0 || path.some((p) => p === "")) {
          this.bag.error(
            "GL006",
            "!reference needs a list of keys, e.g. !reference [.setup, script]",
            toPosition(this.span(node)),
          );
          return null;
        }
        return ref;
      }
      return out;
    }
    if (isMap(node)) {
      const out = newMap();
      this.locator.setNode(out, this.span(node));
      const explicit = new Set<string>();
      const merges: YamlNode[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as YamlNode | null;
        const rawKey = isScalar(keyNode)
          ? keyNode.value
          : keyNode
            ? this.convert(keyNode, doc, depth + 1, seen)
            : null;
        const key =
          typeof rawKey === "string"
            ? rawKey
            : typeof rawKey === "number" || typeof rawKey === "boolean"
              ? String(rawKey)
              : "";
        if (isScalar(keyNode) && key === "<<" && keyNode.type === "PLAIN") {
          merges.push(pair.value as YamlNode);
          continue;
        }
        if (!isScalar(keyNode)) {
          this.bag.error("GL007", "map keys must be plain values", toPosition(this.span(keyNode)));
          continue;
        }
        if (explicit.has(key)) {
          this.bag.warning(
            "GL008",
            `duplicated mapping key "${key}": the last one wins`,
            toPosition(this.span(keyNode)),
            "remove one of the duplicates",
          );
        }
        explicit.add(key);
        out[key] = this.convert(pair.value as YamlNode, doc, depth + 1, seen);
        this.locator.setEntry(out, key, this.span((pair.value as YamlNode) ?? keyNode), this.span(keyNode));
      }
      for (const m of merges) this.applyMerge(out, explicit, m, doc, depth, seen);
      return out;
    }
    return null;
  }

  /** YAML merge keys: keys written in the map win over merged ones, earlier merges over later. */
  private applyMerge(
    out: YMap,
    explicit: Set<string>,
    node: YamlNode,
    doc: Document.Parsed,
    depth: number,
    seen: Set<YamlNode>,
  ): void {
    const sources: YamlNode[] = isSeq(node) ? (node.items as YamlNode[]) : [node];
    for (const src of sources) {
      const v = this.convert(src, doc, depth + 1, seen);
      if (!isMapValue(v)) {
        this.bag.error(
          "GL009",
          "a merge key (<<) needs a map or an alias of a map",
          toPosition(this.span(src)),
        );
        continue;
      }
      for (const k of Object.keys(v)) {
        if (explicit.has(k)) continue;
        explicit.add(k);
        out[k] = v[k]!;
        this.locator.copyEntry(v, out, k);
      }
    }
  }
}

/** The code that turns text into values, for the parse cache's key (see ParseCache). */
function parserSource(): string {
  return [parseUncached, Converter].map(String).join("\n");
}
