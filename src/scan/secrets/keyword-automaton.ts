/**
 * A case-insensitive Aho–Corasick automaton over bytes: one pass over a file finds every
 * keyword occurrence, however many keywords there are. Far faster than a RegExp alternation of
 * a few hundred literals, which V8 tries one by one at each position.
 */
export class KeywordAutomaton {
  private readonly classes = new Uint8Array(256);
  private readonly width: number;
  private readonly delta: Int32Array;
  /** For each state: the keyword ids that end there (including through failure links). */
  private readonly outputs: number[][];
  /** Offset of the first state with output (states are ordered: without output first). */
  private readonly firstFinal: number;

  constructor(readonly keywords: readonly string[]) {
    let next = 1;
    for (const kw of keywords)
      for (const byte of Buffer.from(kw.toLowerCase(), "latin1")) {
        if (this.classes[byte] === 0) {
          this.classes[byte] = next;
          const ch = String.fromCharCode(byte);
          const upper = ch.toUpperCase().charCodeAt(0);
          if (upper !== byte && upper < 256) this.classes[upper] = next;
          next++;
        }
      }
    this.width = next;
    // Trie with goto edges over byte classes.
    const edges: Int32Array[] = [new Int32Array(this.width).fill(-1)];
    const out: (number[] | undefined)[] = [undefined];
    keywords.forEach((kw, id) => {
      let s = 0;
      for (const byte of Buffer.from(kw.toLowerCase(), "latin1")) {
        const c = this.classes[byte] ?? 0;
        const row = edges[s] as Int32Array;
        if (row[c] === -1) {
          row[c] = edges.length;
          edges.push(new Int32Array(this.width).fill(-1));
          out.push(undefined);
        }
        s = row[c] as number;
      }
      out[s] = [...(out[s] ?? []), id];
    });
    // Breadth-first failure links, folded into a complete transition table (a DFA).
    const fail = new Int32Array(edges.length);
    const delta = new Int32Array(edges.length * this.width);
    const queue: number[] = [];
    const root = edges[0] as Int32Array;
    for (let c = 0; c < this.width; c++) {
      const t = root[c] as number;
      if (t === -1 || c === 0) delta[c] = 0;
      else {
        delta[c] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    while (queue.length > 0) {
      const s = queue.shift() as number;
      const f = fail[s] as number;
      if (out[f]) out[s] = [...(out[s] ?? []), ...out[f]];
      const row = edges[s] as Int32Array;
      for (let c = 0; c < this.width; c++) {
        const t = row[c] as number;
        if (t === -1 || c === 0) delta[s * this.width + c] = delta[f * this.width + c] as number;
        else {
          delta[s * this.width + c] = t;
          fail[t] = delta[f * this.width + c] as number;
          queue.push(t);
        }
      }
    }
    // Renumber states so that every state with output comes last: the hot loop then tests
    // "has output" with one comparison instead of a memory load. Targets are stored
    // pre-multiplied by the row width, saving a multiply per byte.
    const n = out.length;
    const order = [...Array(n).keys()].sort(
      (a, b) => Number(out[a] !== undefined) - Number(out[b] !== undefined) || a - b,
    );
    const newId = new Int32Array(n);
    order.forEach((old, i) => (newId[old] = i));
    const w = this.width;
    const packed = new Int32Array(n * w);
    for (let old = 0; old < n; old++)
      for (let c = 0; c < w; c++)
        packed[(newId[old] as number) * w + c] = (newId[delta[old * w + c] as number] as number) * w;
    this.delta = packed;
    this.outputs = order.map((old) => out[old] ?? []);
    const firstFinal = order.findIndex((old) => out[old] !== undefined);
    this.firstFinal = (firstFinal === -1 ? n : firstFinal) * w;
  }

  /** Calls `onHit(endOffset, keywordIds)` for every occurrence; `endOffset` is the last byte's index. */
  scan(buf: Uint8Array, onHit: (end: number, ids: readonly number[]) => void): void {
    const { classes, delta, firstFinal, outputs, width } = this;
    let s = 0;
    for (let i = 0, n = buf.length; i < n; i++) {
      s = delta[s + (classes[buf[i] as number] as number)] as number;
      if (s >= firstFinal) onHit(i, outputs[s / width] as number[]);
    }
  }
}
