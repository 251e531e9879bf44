import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { DiagnosticBag, Position } from "./diagnostics.js";

/** A parsed YAML file that can say where any value came from. */
export class YamlSource {
  readonly lines = new LineCounter();
  readonly doc: Document.Parsed;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
    });
  }

  /** Reports YAML syntax errors and warnings; true when the document is usable. */
  report(bag: DiagnosticBag): boolean {
    for (const e of this.doc.errors) {
      const p = this.lines.linePos(e.pos[0]);
      bag.error(
        "yaml-syntax",
        e.message.split("\n")[0] ?? e.message,
        { file: this.file, line: p.line, column: p.col },
        "fix the YAML syntax",
      );
    }
    for (const w of this.doc.warnings) {
      const p = this.lines.linePos(w.pos[0]);
      bag.warning("yaml-warning", w.message.split("\n")[0] ?? w.message, {
        file: this.file,
        line: p.line,
        column: p.col,
      });
    }
    return this.doc.errors.length === 0;
  }

  /** Position of an offset. */
  at(offset: number): Position {
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, column: p.col };
  }

  /** The node at a path of keys and indexes, or the deepest existing ancestor. */
  node(path: readonly (string | number)[]): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key),
        );
        if (!pair) return node;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof key === "number") {
        const item = node.items[key];
        if (item === undefined) return node;
        node = item;
      } else {
        return node as Node | undefined;
      }
    }
    return node as Node | undefined;
  }

  /** Position of the value at `path` (its key, with `key: true`). */
  pos(path: readonly (string | number)[], opts: { key?: boolean } = {}): Position {
    if (opts.key && path.length > 0) {
      const parent = this.node(path.slice(0, -1));
      if (isMap(parent)) {
        const last = path[path.length - 1];
        const pair = parent.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(last),
        );
        const key = pair?.key as Node | undefined;
        if (key?.range) return this.at(key.range[0]);
      }
    }
    const n = this.node(path);
    return n?.range ? this.at(n.range[0]) : { file: this.file, line: 1, column: 1 };
  }
}
