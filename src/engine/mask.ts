/** Replacement shown in place of a secret. */
export const MASK = "[MASKED]";

/** Shortest value that is masked; shorter ones would mask ordinary words. */
const MIN_SECRET_LENGTH = 3;

/**
 * Replaces secrets in text. Output is split into lines before masking (see `LineSplitter`),
 * so a secret split across output chunks is still found; multi-line secrets (PEM keys) are
 * masked line by line.
 */
export class Masker {
  private values: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  add(value: string): void {
    for (const part of [value, ...value.split(/\r?\n/)]) {
      const v = part.trim() === part ? part : part.trim();
      if (v.length >= MIN_SECRET_LENGTH && !v.includes("\n") && !this.values.includes(v)) this.values.push(v);
    }
    // Longest first so that a secret containing another is masked whole.
    this.values.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.values.length;
  }

  mask(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }
}

/** Longest line kept in memory before it is emitted anyway (progress bars without newlines). */
const MAX_LINE = 64 * 1024;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** Turns a byte stream into lines; keeps a partial line until its newline arrives. */
export class LineSplitter {
  private partial = "";
  private readonly decoder = new TextDecoder("utf-8");

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    let data = this.partial + text;
    let nl = data.indexOf("\n");
    while (nl !== -1) {
      this.emit(data.slice(0, nl).replace(/\r$/, ""));
      data = data.slice(nl + 1);
      nl = data.indexOf("\n");
    }
    while (data.length > MAX_LINE) {
      // Never between the halves of a surrogate pair: each half alone would become U+FFFD.
      const cut = isHighSurrogate(data.charCodeAt(MAX_LINE - 1)) ? MAX_LINE - 1 : MAX_LINE;
      this.emit(data.slice(0, cut));
      data = data.slice(cut);
    }
    this.partial = data;
  }

  flush(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    if (rest.length > 0) this.emit(rest.replace(/\r$/, ""));
  }
}
