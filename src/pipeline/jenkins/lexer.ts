/**
 * Tokenizer for the declarative subset of Groovy used by Jenkinsfiles. It never throws: a
 * malformed input produces diagnostics and the best token stream it can.
 *
 * Newlines are significant only where Groovy treats them as statement ends: not inside
 * `(...)`/`[...]`, and not after a token that needs a continuation (a binary operator, a
 * comma, `=`). Inside a closure nested in parentheses they are significant again.
 */

/** A piece of a string literal: plain text, or an interpolated `${expr}` / `$name` with its source. */
export type StringPart = string | { expr: string; line: number; column: number; offset: number };

export type TokenKind = "ident" | "number" | "string" | "op" | "newline" | "eof";

export interface Token {
  kind: TokenKind;
  /** Identifier name, operator text, number text; for strings the raw source text. */
  value: string;
  line: number;
  column: number;
  offset: number;
  end: number;
  /** For strings: decoded parts. A string with no interpolation has a single text part (or none). */
  parts?: StringPart[];
  /** For strings: the quote style. */
  quote?: "'" | '"' | "'''" | '"""' | "/";
}

export interface LexError {
  message: string;
  line: number;
  column: number;
}

const OPERATORS = [
  "==~",
  "?.",
  "*.",
  "?:",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "=~",
  "->",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "<<",
  "**",
  "..",
  "::",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ".",
  ":",
  ";",
  "=",
  "<",
  ">",
  "!",
  "+",
  "-",
  "*",
  "/",
  "%",
  "?",
  "&",
  "|",
  "^",
  "@",
  "~",
];

/** Tokens after which a newline does not end the statement. */
const CONTINUES = new Set([
  "==~",
  "?.",
  "?:",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "=~",
  "->",
  "+=",
  "-=",
  "*=",
  "/=",
  ",",
  ".",
  ":",
  "=",
  "<",
  ">",
  "!",
  "+",
  "-",
  "*",
  "/",
  "%",
  "?",
  "&",
  "|",
  "{",
  "(",
  "[",
]);

const isIdentStart = (c: string): boolean => /[A-Za-z_$]/.test(c) || c > "\u007f";
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_$]/.test(c) || c > "\u007f";

/** Splits `source` into tokens; positions are 1-based and may be shifted by `base` (for embedded code). */
export function tokenize(
  source: string,
  base: { line: number; column: number; offset: number } = { line: 1, column: 1, offset: 0 },
): { tokens: Token[]; errors: LexError[] } {
  const tokens: Token[] = [];
  const errors: LexError[] = [];
  const brackets: string[] = [];
  let i = 0;
  let line = base.line;
  let col = base.column;

  const peek = (n = 0): string => source[i + n] ?? "";
  const advance = (n = 1): void => {
    for (let k = 0; k < n && i < source.length; k++) {
      if (source[i] === "\n") {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  const here = (): { line: number; column: number; offset: number } => ({
    line,
    column: col,
    offset: base.offset + i,
  });
  const last = (): Token | undefined => tokens[tokens.length - 1];
  const push = (
    kind: TokenKind,
    value: string,
    start: { line: number; column: number; offset: number },
    extra?: Partial<Token>,
  ): void => {
    tokens.push({
      kind,
      value,
      line: start.line,
      column: start.column,
      offset: start.offset,
      end: base.offset + i,
      ...extra,
    });
  };
  const newlineSignificant = (): boolean => {
    const top = brackets[brackets.length - 1];
    if (top === "(" || top === "[") return false;
    const prev = last();
    if (!prev || prev.kind === "newline") return false;
    if (prev.kind === "op" && CONTINUES.has(prev.value)) return false;
    return true;
  };
  /** Whether a `/` here starts a slashy string rather than a division. */
  const slashStartsString = (): boolean => {
    const prev = last();
    if (!prev || prev.kind === "newline") return true;
    if (prev.kind === "ident" || prev.kind === "number" || prev.kind === "string") return false;
    return !(prev.value === ")" || prev.value === "]" || prev.value === "}");
  };

  if (source.startsWith("\uFEFF") && base.offset === 0) i = 1;
  if (source.startsWith("#!", i) && base.offset === 0) {
    while (i < source.length && peek() !== "\n") advance();
  }

  while (i < source.length) {
    const c = peek();
    if (c === "\n") {
      const start = here();
      advance();
      if (newlineSignificant()) push("newline", "\n", start);
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f") {
      advance();
      continue;
    }
    if (c === "\\" && (peek(1) === "\n" || (peek(1) === "\r" && peek(2) === "\n"))) {
      advance(peek(1) === "\r" ? 3 : 2);
      continue;
    }
    if (c === "/" && peek(1) === "/") {
      while (i < source.length && peek() !== "\n") advance();
      continue;
    }
    if (c === "/" && peek(1) === "*") {
      const start = here();
      advance(2);
      while (i < source.length && !(peek() === "*" && peek(1) === "/")) advance();
      if (i >= source.length)
        errors.push({ message: "unterminated comment", line: start.line, column: start.column });
      else advance(2);
      continue;
    }
    const start = here();
    if (c === "'" || c === '"') {
      const triple = peek(1) === c && peek(2) === c;
      const quote = (triple ? c.repeat(3) : c) as Token["quote"];
      advance(triple ? 3 : 1);
      const parts = readString(quote!, c === '"', start);
      push("string", source.slice(start.offset - base.offset, i), start, { parts, quote });
      continue;
    }
    if (c === "/" && slashStartsString() && peek(1) !== "=" && peek(1) !== " ") {
      advance();
      const parts = readString("/", true, start);
      push("string", source.slice(start.offset - base.offset, i), start, { parts, quote: "/" });
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (/[0-9_]/.test(source[j] ?? "")) j++;
      if (source[j] === "." && /[0-9]/.test(source[j + 1] ?? "")) {
        j++;
        while (/[0-9_]/.test(source[j] ?? "")) j++;
      }
      if (/[eE]/.test(source[j] ?? "") && /[0-9+-]/.test(source[j + 1] ?? "")) {
        j += 2;
        while (/[0-9]/.test(source[j] ?? "")) j++;
      }
      const text = source.slice(i, j);
      advance(j - i);
      if (/[lLiIgGdDfF]/.test(peek()) && !isIdentPart(peek(1))) advance();
      push("number", text.replace(/_/g, ""), start);
      continue;
    }
    if (isIdentStart(c)) {
      let j = i;
      while (j < source.length && isIdentPart(source[j]!)) j++;
      const name = source.slice(i, j);
      advance(j - i);
      push("ident", name, start);
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      advance(op.length);
      if (op === "(" || op === "[" || op === "{") brackets.push(op);
      else if (op === ")" || op === "]" || op === "}") brackets.pop();
      push("op", op, start);
      continue;
    }
    errors.push({ message: `unexpected character "${c}"`, line, column: col });
    advance();
  }
  tokens.push({ kind: "eof", value: "", line, column: col, offset: base.offset + i, end: base.offset + i });
  return { tokens, errors };

  /** Reads a string body after its opening quote; decodes escapes and, for GStrings, `$` parts. */
  function readString(
    quote: NonNullable<Token["quote"]>,
    interpolate: boolean,
    open: { line: number; column: number },
  ): StringPart[] {
    const parts: StringPart[] = [];
    let text = "";
    const flush = (): void => {
      if (text) parts.push(text);
      text = "";
    };
    for (;;) {
      if (i >= source.length) {
        errors.push({ message: "unterminated string", line: open.line, column: open.column });
        break;
      }
      if (source.startsWith(quote, i)) {
        advance(quote.length);
        break;
      }
      const ch = peek();
      if (ch === "\n" && quote.length === 1 && quote !== "/") {
        errors.push({ message: "unterminated string", line: open.line, column: open.column });
        break;
      }
      if (ch === "\\") {
        const next = peek(1);
        if (quote === "/") {
          // Slashy strings only escape the slash itself.
          text += next === "/" ? "/" : "\\";
          advance(next === "/" ? 2 : 1);
          continue;
        }
        const map: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          b: "\b",
          f: "\f",
          "\\": "\\",
          "'": "'",
          '"': '"',
          $: "$",
        };
        if (next === "\n") {
          advance(2);
          continue;
        }
        if (next === "u" && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
          text += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
          advance(6);
          continue;
        }
        text += map[next] ?? next;
        advance(2);
        continue;
      }
      if (interpolate && ch === "$" && peek(1) === "{") {
        flush();
        advance(2);
        const at = here();
        const startI = i;
        let depth = 0;
        while (i < source.length) {
          const d = peek();
          if (d === "'" || d === '"') {
            skipNestedString(d);
            continue;
          }
          if (d === "{") depth++;
          if (d === "}") {
            if (depth === 0) break;
            depth--;
          }
          advance();
        }
        if (i >= source.length) {
          errors.push({ message: "unterminated ${...} in string", line: at.line, column: at.column });
          break;
        }
        parts.push({ expr: source.slice(startI, i), ...at });
        advance();
        continue;
      }
      if (interpolate && ch === "$" && isIdentStart(peek(1)) && peek(1) !== "$") {
        flush();
        advance();
        const at = here();
        let j = i;
        while (j < source.length && isIdentPart(source[j]!) && source[j] !== "$") j++;
        // `$a.b.c` is a dotted property path in Groovy.
        while (source[j] === "." && isIdentStart(source[j + 1] ?? "") && source[j + 1] !== "$") {
          j++;
          while (j < source.length && isIdentPart(source[j]!) && source[j] !== "$") j++;
        }
        parts.push({ expr: source.slice(i, j), ...at });
        advance(j - i);
        continue;
      }
      text += ch;
      advance();
    }
    flush();
    return parts;
  }

  function skipNestedString(q: string): void {
    advance();
    while (i < source.length && peek() !== q && peek() !== "\n") {
      if (peek() === "\\") advance();
      advance();
    }
    advance();
  }
}
