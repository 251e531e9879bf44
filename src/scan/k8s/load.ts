import { LineCounter, parseAllDocuments, isNode, type Document } from "yaml";

/** One Kubernetes object from a manifest file, with what is needed to point at its fields. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /** The plain JSON value of the document. */
  raw: Record<string, unknown>;
  file: string;
  /** 1-based line of the document start. */
  line: number;
  doc: Document;
  lines: LineCounter;
}

/** A YAML syntax error, reported as a finding by the caller. */
export interface LoadError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Parses a multi-document YAML file; documents that are not Kubernetes objects are skipped. */
export function loadManifests(text: string, file: string): { objects: K8sObject[]; errors: LoadError[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  const objects: K8sObject[] = [];
  const errors: LoadError[] = [];
  if (!Array.isArray(docs)) return { objects, errors };
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = lines.linePos(e?.pos[0] ?? 0);
      errors.push({
        file,
        line: pos.line,
        column: pos.col,
        message: e?.message.split("\n")[0] ?? "invalid YAML",
      });
      continue;
    }
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    if (!isObject(raw)) continue;
    // `List` wraps objects in `items`.
    const items = raw.kind === "List" && Array.isArray(raw.items) ? (raw.items as unknown[]) : [raw];
    for (const item of items) {
      if (!isObject(item) || typeof item.kind !== "string" || typeof item.apiVersion !== "string") continue;
      const meta = isObject(item.metadata) ? item.metadata : {};
      const start = doc.contents && isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : 0;
      objects.push({
        apiVersion: item.apiVersion,
        kind: item.kind,
        name: typeof meta.name === "string" ? meta.name : "",
        namespace: typeof meta.namespace === "string" ? meta.namespace : "default",
        raw: item,
        file,
        line: lines.linePos(start).line,
        doc,
        lines,
      });
    }
  }
  return { objects, errors };
}

/** Line and column of a field (or its nearest existing parent); falls back to the document start. */
export function locate(
  obj: K8sObject,
  path: readonly (string | number)[],
): { line: number; column: number; endLine: number; endColumn: number } {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = obj.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const a = obj.lines.linePos(node.range[0]);
      const b = obj.lines.linePos(node.range[1]);
      return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
    }
  }
  return { line: obj.line, column: 1, endLine: obj.line, endColumn: 1 };
}

/** A scalar field as text (objects as JSON), for messages and comparisons. */
export function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return v === undefined || v === null ? "" : JSON.stringify(v);
}

/** Type guard for plain objects. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads a nested field: `get(o, "spec", "template", "spec")`. */
export function get(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const p of path) {
    if (typeof p === "number") cur = Array.isArray(cur) ? cur[p] : undefined;
    else cur = isObject(cur) ? cur[p] : undefined;
  }
  return cur;
}
