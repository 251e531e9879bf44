/**
 * GitLab's CI/CD variable expressions (`rules:if`, `only/except:variables`, `include:rules`):
 * `$VAR`, `${VAR}`, "strings", 'strings', `null`, `/regex/flags`, `==`, `!=`, `=~`, `!~`,
 * `&&`, `||` and parentheses. A tokenizer, a recursive-descent parser and an evaluator; no
 * `eval`.
 */

export type GlExpr =
  | { kind: "var"; name: string }
  | { kind: "string"; value: string }
  | { kind: "null" }
  | { kind: "regex"; source: string; flags: string }
  | { kind: "cmp"; op: "==" | "!=" | "=~" | "!~"; left: GlExpr; right: GlExpr }
  | { kind: "and" | "or"; left: GlExpr; right: GlExpr };

/** A syntax or regex error in an expression; `offset` is into the expression text. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

type Token =
  | { t: "var"; name: string; at: number }
  | { t: "string"; value: string; at: number }
  | { t: "regex"; source: string; flags: string; at: number }
  | { t: "null"; at: number }
  | { t: "op"; op: "==" | "!=" | "=~" | "!~" | "&&" | "||" | "(" | ")"; at: number };

const VAR_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === "==" || two === "!=" || two === "=~" || two === "!~" || two === "&&" || two === "||") {
      out.push({ t: "op", op: two, at: i });
      i += 2;
      continue;
    }
    if (c === "(" || c === ")") {
      out.push({ t: "op", op: c, at: i });
      i++;
      continue;
    }
    if (c === "$") {
      if (src[i + 1] === "{") {
        const close = src.indexOf("}", i + 2);
        const name = close < 0 ? "" : src.slice(i + 2, close);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ExpressionError("invalid ${VARIABLE}", i);
        out.push({ t: "var", name, at: i });
        i = close + 1;
        continue;
      }
      VAR_NAME.lastIndex = i + 1;
      const m = VAR_NAME.exec(src);
      if (!m) throw new ExpressionError("expected a variable name after $", i);
      out.push({ t: "var", name: m[0], at: i });
      i = VAR_NAME.lastIndex;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      while (j < src.length && src[j] !== c) {
        // GitLab strings have no escape sequences except an escaped quote.
        if (src[j] === "\\" && src[j + 1] === c) {
          value += c;
          j += 2;
          continue;
        }
        value += src[j];
        j++;
      }
      if (j >= src.length) throw new ExpressionError("unterminated string", i);
      out.push({ t: "string", value, at: i });
      i = j + 1;
      continue;
    }
    if (c === "/") {
      let j = i + 1;
      let inClass = false;
      while (j < src.length) {
        const d = src[j]!;
        if (d === "\\") {
          j += 2;
          continue;
        }
        if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      if (j >= src.length) throw new ExpressionError("unterminated regular expression", i);
      const source = src.slice(i + 1, j);
      let k = j + 1;
      while (k < src.length && /[a-z]/i.test(src[k]!)) k++;
      out.push({ t: "regex", source, flags: src.slice(j + 1, k), at: i });
      i = k;
      continue;
    }
    if (src.startsWith("null", i) && !/[A-Za-z0-9_]/.test(src[i + 4] ?? "")) {
      out.push({ t: "null", at: i });
      i += 4;
      continue;
    }
    throw new ExpressionError(`unexpected "${c}"`, i);
  }
  return out;
}

/** Parses an expression; throws `ExpressionError`. */
export function parseExpression(src: string): GlExpr {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (op: string): boolean => {
    const t = peek();
    return t?.t === "op" && t.op === op;
  };

  function orExpr(): GlExpr {
    let left = andExpr();
    while (isOp("||")) {
      pos++;
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  }
  function andExpr(): GlExpr {
    let left = cmpExpr();
    while (isOp("&&")) {
      pos++;
      left = { kind: "and", left, right: cmpExpr() };
    }
    return left;
  }
  function cmpExpr(): GlExpr {
    const left = primary();
    const t = peek();
    if (t?.t === "op" && (t.op === "==" || t.op === "!=" || t.op === "=~" || t.op === "!~")) {
      pos++;
      const right = primary();
      if (
        (t.op === "=~" || t.op === "!~") &&
        right.kind !== "regex" &&
        right.kind !== "var" &&
        right.kind !== "string"
      ) {
        throw new ExpressionError(`the right side of ${t.op} must be a /regex/ or a variable`, t.at);
      }
      return { kind: "cmp", op: t.op, left, right };
    }
    return left;
  }
  function primary(): GlExpr {
    const t = peek();
    if (!t) throw new ExpressionError("unexpected end of expression", src.length);
    pos++;
    switch (t.t) {
      case "var":
        return { kind: "var", name: t.name };
      case "string":
        return { kind: "string", value: t.value };
      case "null":
        return { kind: "null" };
      case "regex":
        compileRegex(t.source, t.flags, t.at);
        return { kind: "regex", source: t.source, flags: t.flags };
      case "op":
        if (t.op === "(") {
          const inner = orExpr();
          if (!isOp(")")) throw new ExpressionError("missing )", peek()?.at ?? src.length);
          pos++;
          return inner;
        }
        throw new ExpressionError(`unexpected "${t.op}"`, t.at);
    }
  }

  if (tokens.length === 0) throw new ExpressionError("empty expression", 0);
  const e = orExpr();
  if (pos < tokens.length) throw new ExpressionError("unexpected token", tokens[pos]!.at);
  return e;
}

/**
 * Compiles a GitLab (RE2) pattern to a JS RegExp. A leading `(?i)`/`(?s)`/`(?m)` becomes a
 * flag, since JS has no inline flag groups.
 */
export function compileRegex(source: string, flags: string, at = 0): RegExp {
  let src = source;
  let fl = "";
  const inline = /^\(\?([ims]+)\)/.exec(src);
  if (inline) {
    fl += inline[1];
    src = src.slice(inline[0].length);
  }
  for (const f of flags) {
    if (!"ims".includes(f)) throw new ExpressionError(`unsupported regex flag "${f}"`, at);
    fl += f;
  }
  try {
    return new RegExp(src, [...new Set(fl)].join(""));
  } catch (err) {
    throw new ExpressionError(`invalid regular expression /${source}/: ${(err as Error).message}`, at);
  }
}

type Val = string | null | { regex: RegExp };

/** Evaluates an expression against variables (undefined = not defined = `null`). */
export function evaluate(e: GlExpr, vars: (name: string) => string | undefined): boolean {
  return truthy(evalValue(e, vars));
}

function truthy(v: Val | boolean): boolean {
  if (typeof v === "boolean") return v;
  if (v === null) return false;
  if (typeof v === "string") return v.length > 0;
  return true;
}

function evalValue(e: GlExpr, vars: (name: string) => string | undefined): Val | boolean {
  switch (e.kind) {
    case "var":
      return vars(e.name) ?? null;
    case "string":
      return e.value;
    case "null":
      return null;
    case "regex":
      return { regex: compileRegex(e.source, e.flags) };
    case "and":
      return truthy(evalValue(e.left, vars)) && truthy(evalValue(e.right, vars));
    case "or":
      return truthy(evalValue(e.left, vars)) || truthy(evalValue(e.right, vars));
    case "cmp": {
      const l = evalValue(e.left, vars);
      const r = evalValue(e.right, vars);
      if (e.op === "==" || e.op === "!=") {
        const eq = scalar(l) === scalar(r);
        return e.op === "==" ? eq : !eq;
      }
      const re = toRegex(r);
      const text = scalar(l);
      const m = re !== undefined && typeof text === "string" && re.test(text);
      return e.op === "=~" ? m : !m;
    }
  }
}

function scalar(v: Val | boolean): string | null {
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v === null || typeof v === "string") return v;
  return v.regex.source;
}

/** A regex operand: a literal, or a variable/string holding `/pattern/flags` (GitLab 15.0+). */
function toRegex(v: Val | boolean): RegExp | undefined {
  if (v !== null && typeof v === "object") return v.regex;
  if (typeof v !== "string") return undefined;
  const m = /^\/(.*)\/([a-z]*)$/s.exec(v);
  try {
    return m ? compileRegex(m[1]!, m[2]!) : compileRegex(escapeRegex(v), "");
  } catch {
    return undefined;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
