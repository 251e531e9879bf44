/**
 * Recursive-descent parser for the Groovy that Jenkinsfiles are written in: statements,
 * command syntax (`sh 'x'`, `agent any`), calls with named arguments and trailing closures,
 * strings and GStrings, lists, maps, and the usual operators. Control flow (`if`, `for`,
 * `try`) is recognised and kept raw, never evaluated. It never throws: errors become
 * diagnostics and parsing resumes at the next statement.
 */
import type { Diagnostic } from "../diagnostics.js";
import type { Arg, Closure, Node, Script, Span, Stmt } from "./ast.js";
import { tokenize, type Token } from "./lexer.js";

const RAW_KEYWORDS = new Set([
  "if",
  "for",
  "while",
  "try",
  "switch",
  "synchronized",
  "do",
  "throw",
  "break",
  "continue",
]);
const TYPE_KEYWORDS = new Set(["class", "interface", "enum", "trait"]);
const MODIFIERS = new Set(["static", "private", "public", "protected", "final", "abstract"]);
/** Identifiers that cannot start a command-syntax argument (they are operators or keywords). */
const NOT_ARGUMENT = new Set(["in", "instanceof", "as", "else", "catch", "finally"]);
const MAX_DEPTH = 200;
const PRIMITIVES = new Set(["void", "boolean", "int", "long", "double", "float", "char", "byte", "short"]);

const BINARY_LEVELS: string[][] = [
  ["||"],
  ["&&"],
  ["|", "^", "&"],
  ["==", "!=", "=~", "==~", "<=>"],
  ["<", "<=", ">", ">=", "in", "instanceof", "as"],
  ["<<", ".."],
  ["+", "-"],
  ["*", "/", "%"],
  ["**"],
];

/** Parses a whole Jenkinsfile (or a library `vars/*.groovy` file). */
export function parseGroovy(source: string, file: string): { script: Script; diagnostics: Diagnostic[] } {
  const { tokens, errors } = tokenize(source);
  const diagnostics: Diagnostic[] = errors.map((e) => syntax(file, e.line, e.column, e.message));
  const p = new Parser(tokens, file, diagnostics, source);
  const statements = p.statements(false);
  return { script: { statements }, diagnostics };
}

/** Parses one expression, e.g. an interpolated `${...}` or a gantry.yml `when.expression` string. */
export function parseGroovyExpression(
  text: string,
  file: string,
  base: { line: number; column: number; offset: number },
): { statements: Stmt[]; diagnostics: Diagnostic[] } {
  const { tokens, errors } = tokenize(text, base);
  const diagnostics: Diagnostic[] = errors.map((e) => syntax(file, e.line, e.column, e.message));
  const p = new Parser(tokens, file, diagnostics, text, base.offset);
  const statements = p.statements(false);
  return { statements, diagnostics };
}

function syntax(file: string, line: number, column: number, message: string, hint?: string): Diagnostic {
  return { severity: "error", code: "JK-syntax", message, file, line, column, ...(hint ? { hint } : {}) };
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly file: string,
    private readonly diags: Diagnostic[],
    private readonly source: string,
    private readonly sourceOffset = 0,
  ) {}

  private peek(n = 0): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }

  private isOp(value: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === "op" && t.value === value;
  }

  private isIdent(value?: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === "ident" && (value === undefined || t.value === value);
  }

  private eat(value: string): boolean {
    if (this.isOp(value)) {
      this.next();
      return true;
    }
    return false;
  }

  private expect(value: string, what: string): boolean {
    if (this.eat(value)) return true;
    const t = this.peek();
    this.error(t, `expected "${value}" ${what} but found ${describe(t)}`);
    return false;
  }

  private error(t: { line: number; column: number }, message: string, hint?: string): void {
    // One error per position is enough; cascades only add noise.
    if (this.diags.some((d) => d.line === t.line && d.column === t.column && d.code === "JK-syntax")) return;
    this.diags.push(syntax(this.file, t.line, t.column, message, hint));
  }

  private skipSeparators(): void {
    while (this.peek().kind === "newline" || this.isOp(";")) this.next();
  }

  private atStatementEnd(): boolean {
    const t = this.peek();
    return (
      t.kind === "newline" || t.kind === "eof" || (t.kind === "op" && (t.value === ";" || t.value === "}"))
    );
  }

  private span(start: Token): Span {
    const prev = this.toks[Math.max(0, this.pos - 1)]!;
    return {
      line: start.line,
      column: start.column,
      offset: start.offset,
      end: Math.max(prev.end, start.offset),
    };
  }

  /** Statements until `}` (when `inBlock`) or the end of input. */
  statements(inBlock: boolean): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (t.kind === "eof") {
        if (inBlock) this.error(t, `missing "}" at end of file`, "check that every { has a matching }");
        return out;
      }
      if (t.kind === "op" && t.value === "}") {
        if (inBlock) return out;
        this.error(t, `unexpected "}"`, "remove it or add the matching {");
        this.next();
        continue;
      }
      const before = this.pos;
      const stmt = this.statement();
      if (stmt) out.push(stmt);
      if (!this.atStatementEnd()) {
        const bad = this.peek();
        this.error(bad, `unexpected ${describe(bad)}`, "put each statement on its own line");
        this.skipToStatementEnd();
      }
      if (this.pos === before) this.next();
    }
  }

  /** Skips tokens up to the end of the current statement, keeping brackets balanced. */
  private skipToStatementEnd(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") return;
      if (depth === 0 && this.atStatementEnd()) {
        // `} else {`, `} catch (e) {` continue the same statement across a newline.
        const prev = this.toks[this.pos - 1];
        if (t.kind === "newline" && prev?.value === "}") {
          let k = 1;
          while (this.peek(k).kind === "newline") k++;
          const after = this.peek(k);
          if (
            after.kind === "ident" &&
            (after.value === "else" || after.value === "catch" || after.value === "finally")
          ) {
            this.pos += k;
            continue;
          }
        }
        return;
      }
      if (t.kind === "op" && (t.value === "(" || t.value === "[" || t.value === "{")) depth++;
      if (t.kind === "op" && (t.value === ")" || t.value === "]" || t.value === "}"))
        depth = Math.max(0, depth - 1);
      this.next();
    }
  }

  private statement(): Stmt | undefined {
    const start = this.peek();
    if (this.depth > MAX_DEPTH) {
      this.error(start, "nesting is too deep");
      this.skipToStatementEnd();
      return undefined;
    }
    if (this.isOp("@")) return this.annotation();
    if (start.kind === "ident") {
      if (start.value === "import") return this.importStmt();
      if (start.value === "package") {
        this.skipToStatementEnd();
        return { type: "raw", keyword: "package", ...this.span(start) };
      }
      if (start.value === "return") {
        this.next();
        const value = this.atStatementEnd() ? undefined : this.expression();
        return { type: "return", ...(value ? { value } : {}), ...this.span(start) };
      }
      if (RAW_KEYWORDS.has(start.value) || TYPE_KEYWORDS.has(start.value)) {
        this.next();
        this.skipToStatementEnd();
        return { type: "raw", keyword: start.value, ...this.span(start) };
      }
      const decl = this.declaration();
      if (decl) return decl;
    }
    const expr = this.commandExpression();
    const t = this.peek();
    if (t.kind === "op" && ["=", "+=", "-=", "*=", "/="].includes(t.value)) {
      this.next();
      const value = this.commandExpression();
      return { type: "assign", target: expr, op: t.value, value, ...this.span(start) };
    }
    return { type: "expr", expr, ...this.span(start) };
  }

  private annotation(): Stmt {
    const start = this.next();
    let name = this.isIdent() ? this.next().value : "";
    while (this.isOp(".") && this.isIdent(undefined, 1)) {
      this.next();
      name += "." + this.next().value;
    }
    if (!name) this.error(this.peek(), "expected an annotation name after @");
    const args = this.isOp("(") ? this.parenArgs() : [];
    this.skipSeparators();
    let target: Stmt | undefined;
    if (this.isIdent("_")) {
      const u = this.next();
      target = { type: "expr", expr: { type: "ident", name: "_", ...this.span(u) }, ...this.span(u) };
    } else if (this.isIdent("import")) {
      target = this.importStmt();
    } else if (this.peek().kind !== "eof" && !this.isOp("@")) {
      target = this.statement();
    }
    return { type: "annotation", name, args, ...(target ? { target } : {}), ...this.span(start) };
  }

  private importStmt(): Stmt {
    const start = this.next();
    const parts: string[] = [];
    while (this.isIdent() || this.isOp(".") || this.isOp("*")) parts.push(this.next().value);
    return { type: "import", path: parts.join(""), ...this.span(start) };
  }

  /** `def x = ...`, `String x = ...`, `def call(Map args = [:]) {...}`; undefined when not a declaration. */
  private declaration(): Stmt | undefined {
    const save = this.pos;
    const start = this.peek();
    while (this.isIdent() && MODIFIERS.has(this.peek().value)) this.next();
    let declType = "";
    if (this.isIdent("def")) {
      this.next();
      declType = "def";
      if (this.isIdent() && this.isIdent(undefined, 1)) declType = this.next().value;
    } else if (this.isIdent() && this.isTypeThenName()) {
      declType = this.typeName();
    } else {
      this.pos = save;
      return undefined;
    }
    if (!this.isIdent()) {
      this.error(this.peek(), `expected a name after "${declType}"`);
      this.skipToStatementEnd();
      return { type: "raw", keyword: declType, ...this.span(start) };
    }
    const name = this.next().value;
    if (this.isOp("(")) return this.method(start, name);
    let value: Node | undefined;
    if (this.eat("=")) value = this.commandExpression();
    return { type: "decl", name, declType, ...(value ? { value } : {}), ...this.span(start) };
  }

  /** Whether the tokens here read `Type name =` / `Type name(` / `Type<X> name`. */
  private isTypeThenName(): boolean {
    let k = 0;
    while (this.isIdent(undefined, k) && this.isOp(".", k + 1)) k += 2;
    if (!this.isIdent(undefined, k)) return false;
    k++;
    if (this.isOp("<", k)) {
      let depth = 0;
      for (; ; k++) {
        const t = this.peek(k);
        if (t.kind === "eof" || t.kind === "newline") return false;
        if (t.value === "<") depth++;
        if (t.value === ">") {
          depth--;
          if (depth === 0) {
            k++;
            break;
          }
        }
      }
    }
    if (this.isOp("[", k) && this.isOp("]", k + 1)) k += 2;
    if (!this.isIdent(undefined, k)) return false;
    if (this.isOp("=", k + 1)) return true;
    // `logRotator(...)` after a command name is an argument, not a method declaration: only
    // treat `Type name(` as one when the type looks like a type.
    const type = this.peek().value;
    return this.isOp("(", k + 1) && (/^[A-Z]/.test(type) || PRIMITIVES.has(type));
  }

  private typeName(): string {
    let name = this.next().value;
    while (this.isOp(".")) {
      this.next();
      name += "." + this.next().value;
    }
    if (this.isOp("<")) {
      let depth = 0;
      do {
        const t = this.next();
        if (t.value === "<") depth++;
        if (t.value === ">") depth--;
        name += t.value;
      } while (depth > 0 && this.peek().kind !== "eof");
    }
    if (this.isOp("[") && this.isOp("]", 1)) {
      this.next();
      this.next();
      name += "[]";
    }
    return name;
  }

  private method(start: Token, name: string): Stmt {
    this.next();
    const params: { name: string; declType: string; default?: Node }[] = [];
    while (!this.isOp(")") && this.peek().kind !== "eof") {
      let declType = "def";
      if (this.isIdent() && (this.isIdent(undefined, 1) || this.isOp("<", 1) || this.isOp(".", 1)))
        declType = this.typeName();
      const pname = this.isIdent() ? this.next().value : "";
      if (!pname) {
        this.error(this.peek(), `expected a parameter name in method "${name}"`);
        break;
      }
      const def = this.eat("=") ? this.expression() : undefined;
      params.push({ name: pname, declType, ...(def ? { default: def } : {}) });
      if (!this.eat(",")) break;
    }
    this.expect(")", `to close the parameters of "${name}"`);
    if (!this.isOp("{")) {
      this.error(this.peek(), `expected "{" to start the body of method "${name}"`);
      this.skipToStatementEnd();
      return { type: "raw", keyword: "def", ...this.span(start) };
    }
    const body = this.closure();
    return { type: "method", name, params, body, ...this.span(start) };
  }

  /** An expression, or a command-syntax call (`sh 'x'`, `agent any`, `label "x"`). */
  commandExpression(): Node {
    const start = this.peek();
    const expr = this.expression();
    if ((expr.type === "ident" || expr.type === "property") && this.startsCommandArgument()) {
      const args = this.argList(null);
      const closure = this.isOp("{") ? this.closure() : undefined;
      const target = expr.type === "property" ? expr.target : null;
      return {
        type: "call",
        target,
        name: expr.name,
        args,
        ...(closure ? { closure } : {}),
        parens: false,
        ...this.span(start),
      };
    }
    return expr;
  }

  private startsCommandArgument(): boolean {
    const t = this.peek();
    if (t.kind === "string" || t.kind === "number") return true;
    if (t.kind === "ident") return !NOT_ARGUMENT.has(t.value);
    return t.kind === "op" && (t.value === "[" || t.value === "!");
  }

  /** Comma-separated arguments, named or positional, up to `close` (or the statement end). */
  private argList(close: string | null): Arg[] {
    const args: Arg[] = [];
    for (;;) {
      if (close && this.isOp(close)) break;
      if (!close && this.atStatementEnd()) break;
      const t = this.peek();
      if (t.kind === "eof") break;
      if ((t.kind === "ident" || t.kind === "string" || t.kind === "number") && this.isOp(":", 1)) {
        this.next();
        this.next();
        const name = t.kind === "string" ? stringText(t) : t.value;
        args.push({ name, value: this.expression() });
      } else {
        args.push({ value: this.expression() });
      }
      if (!this.eat(",")) break;
    }
    return args;
  }

  private parenArgs(): Arg[] {
    this.next();
    const args = this.argList(")");
    this.expect(")", "to close the argument list");
    return args;
  }

  expression(): Node {
    this.depth++;
    try {
      if (this.depth > MAX_DEPTH) {
        const t = this.next();
        this.error(t, "expression is nested too deeply");
        return { type: "error", message: "too deep", ...this.span(t) };
      }
      return this.ternary();
    } finally {
      this.depth--;
    }
  }

  private ternary(): Node {
    const start = this.peek();
    const test = this.binary(0);
    if (this.eat("?:")) {
      const other = this.expression();
      return { type: "ternary", test, then: null, else: other, ...this.span(start) };
    }
    if (this.eat("?")) {
      const then = this.expression();
      this.expect(":", "in the ?: operator");
      const other = this.expression();
      return { type: "ternary", test, then, else: other, ...this.span(start) };
    }
    return test;
  }

  private binary(level: number): Node {
    if (level >= BINARY_LEVELS.length) return this.unary();
    const start = this.peek();
    let left = this.binary(level + 1);
    const ops = BINARY_LEVELS[level]!;
    for (;;) {
      const t = this.peek();
      const isOp =
        (t.kind === "op" ||
          (t.kind === "ident" && (t.value === "in" || t.value === "instanceof" || t.value === "as"))) &&
        ops.includes(t.value);
      if (!isOp) return left;
      this.next();
      const right = this.binary(level + 1);
      left = { type: "binary", op: t.value, left, right, ...this.span(start) };
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === "op" && ["!", "-", "+", "~", "++", "--"].includes(t.value)) {
      this.next();
      this.depth++;
      try {
        if (this.depth > MAX_DEPTH) {
          this.error(t, "expression is nested too deeply");
          return { type: "error", message: "too deep", ...this.span(t) };
        }
        const arg = this.unary();
        return { type: "unary", op: t.value, arg, ...this.span(t) };
      } finally {
        this.depth--;
      }
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    const start = node;
    for (;;) {
      const t = this.peek();
      if (t.kind !== "op") return node;
      if (t.value === "." || t.value === "?." || t.value === "*.") {
        this.next();
        const nameTok = this.peek();
        let name: string;
        if (nameTok.kind === "ident") name = this.next().value;
        else if (nameTok.kind === "string") name = stringText(this.next());
        else {
          this.error(nameTok, `expected a name after "${t.value}"`);
          return node;
        }
        if (this.isOp("(")) {
          const args = this.parenArgs();
          const closure = this.isOp("{") ? this.closure() : undefined;
          node = {
            type: "call",
            target: node,
            name,
            args,
            ...(closure ? { closure } : {}),
            parens: true,
            ...this.spanFrom(start),
          };
        } else if (this.isOp("{")) {
          const closure = this.closure();
          node = {
            type: "call",
            target: node,
            name,
            args: [],
            closure,
            parens: false,
            ...this.spanFrom(start),
          };
        } else {
          node = { type: "property", target: node, name, safe: t.value === "?.", ...this.spanFrom(start) };
        }
        continue;
      }
      if (t.value === "(") {
        const args = this.parenArgs();
        const closure = this.isOp("{") ? this.closure() : undefined;
        if (node.type === "ident")
          node = {
            type: "call",
            target: null,
            name: node.name,
            args,
            ...(closure ? { closure } : {}),
            parens: true,
            ...this.spanFrom(start),
          };
        else
          node = {
            type: "call",
            target: node,
            name: "call",
            args,
            ...(closure ? { closure } : {}),
            parens: true,
            ...this.spanFrom(start),
          };
        continue;
      }
      if (t.value === "{" && (node.type === "ident" || (node.type === "call" && !node.closure))) {
        const closure = this.closure();
        if (node.type === "ident")
          node = {
            type: "call",
            target: null,
            name: node.name,
            args: [],
            closure,
            parens: false,
            ...this.spanFrom(start),
          };
        else node = { ...node, closure, ...this.spanFrom(start) };
        continue;
      }
      if (t.value === "[") {
        this.next();
        const index = this.expression();
        this.expect("]", "to close the index");
        node = { type: "index", target: node, index, ...this.spanFrom(start) };
        continue;
      }
      if (t.value === "++" || t.value === "--") {
        this.next();
        node = { type: "unary", op: t.value, arg: node, ...this.spanFrom(start) };
        continue;
      }
      return node;
    }
  }

  private spanFrom(start: Span): Span {
    const prev = this.toks[Math.max(0, this.pos - 1)]!;
    return { line: start.line, column: start.column, offset: start.offset, end: prev.end };
  }

  private primary(): Node {
    const t = this.peek();
    switch (t.kind) {
      case "number":
        this.next();
        return { type: "number", value: Number(t.value), text: t.value, ...this.span(t) };
      case "string":
        this.next();
        return { type: "string", parts: this.stringParts(t), quote: t.quote ?? "'", ...this.span(t) };
      case "ident": {
        this.next();
        if (t.value === "true" || t.value === "false")
          return { type: "bool", value: t.value === "true", ...this.span(t) };
        if (t.value === "null") return { type: "null", ...this.span(t) };
        if (t.value === "new") return this.newExpr(t);
        if (t.value === "$" && this.isOp("{")) {
          const c = this.closure();
          const text = this.source.slice(t.offset - this.sourceOffset, c.end - this.sourceOffset);
          return { type: "bareDollar", text, ...this.span(t) };
        }
        return { type: "ident", name: t.value, ...this.span(t) };
      }
      case "op":
        if (t.value === "(") {
          this.next();
          const inner = this.expression();
          this.expect(")", "to close the parenthesis");
          return inner;
        }
        if (t.value === "[") return this.listOrMap();
        if (t.value === "{") return this.closure();
        break;
      default:
        break;
    }
    this.error(
      t,
      `unexpected ${describe(t)}`,
      t.kind === "eof" ? "the file ends too early: check for a missing } or )" : undefined,
    );
    if (t.kind !== "eof" && !(t.kind === "op" && (t.value === "}" || t.value === ")" || t.value === "]")))
      this.next();
    return { type: "error", message: `unexpected ${describe(t)}`, ...this.span(t) };
  }

  private newExpr(start: Token): Node {
    let className = this.isIdent() ? this.next().value : "";
    while (this.isOp(".") && this.isIdent(undefined, 1)) {
      this.next();
      className += "." + this.next().value;
    }
    const args = this.isOp("(") ? this.parenArgs() : [];
    return { type: "new", className, args, ...this.span(start) };
  }

  private listOrMap(): Node {
    const start = this.next();
    if (this.isOp(":") && this.isOp("]", 1)) {
      this.next();
      this.next();
      return { type: "map", entries: [], ...this.span(start) };
    }
    const first = this.peek();
    if ((first.kind === "ident" || first.kind === "string" || first.kind === "number") && this.isOp(":", 1)) {
      const entries: { key: string; value: Node }[] = [];
      while (!this.isOp("]") && this.peek().kind !== "eof") {
        const k = this.next();
        const key = k.kind === "string" ? stringText(k) : k.value;
        if (!this.expect(":", "after a map key")) break;
        entries.push({ key, value: this.expression() });
        if (!this.eat(",")) break;
      }
      this.expect("]", "to close the map");
      return { type: "map", entries, ...this.span(start) };
    }
    const items: Node[] = [];
    while (!this.isOp("]") && this.peek().kind !== "eof") {
      items.push(this.expression());
      if (!this.eat(",")) break;
    }
    this.expect("]", "to close the list");
    return { type: "list", items, ...this.span(start) };
  }

  private closure(): Closure {
    const open = this.next();
    this.depth++;
    try {
      const params: string[] = [];
      // `{ a, b -> ... }`: look ahead for an arrow before anything that is not a name or comma.
      let k = 0;
      while (this.isIdent(undefined, k) || this.isOp(",", k)) k++;
      if (this.isOp("->", k)) {
        for (let j = 0; j < k; j++) {
          const t = this.next();
          if (t.kind === "ident") params.push(t.value);
        }
        this.next();
      }
      const bodyStart = this.peek().offset;
      const body = this.depth > MAX_DEPTH ? this.tooDeep() : this.statements(true);
      const bodyEnd = this.peek().offset;
      this.expect("}", "to close the block");
      return { type: "closure", params, body, bodyStart, bodyEnd, ...this.span(open) };
    } finally {
      this.depth--;
    }
  }

  private tooDeep(): Stmt[] {
    this.error(this.peek(), "blocks are nested too deeply");
    let depth = 0;
    while (this.peek().kind !== "eof") {
      if (this.isOp("{")) depth++;
      if (this.isOp("}")) {
        if (depth === 0) break;
        depth--;
      }
      this.next();
    }
    return [];
  }

  private stringParts(t: Token): (string | Node)[] {
    return (t.parts ?? []).map((part) => {
      if (typeof part === "string") return part;
      const { tokens, errors } = tokenize(part.expr, part);
      for (const e of errors) this.diags.push(syntax(this.file, e.line, e.column, e.message));
      const sub = new Parser(tokens, this.file, this.diags, part.expr, part.offset);
      sub.depth = this.depth + 1;
      const span = {
        line: part.line,
        column: part.column,
        offset: part.offset,
        end: part.offset + part.expr.length,
      };
      if (tokens[0]?.kind === "eof") {
        this.error(part, "empty ${} in string");
        return { type: "error" as const, message: "empty interpolation", ...span };
      }
      const node = sub.commandExpression();
      if (sub.peek().kind !== "eof") sub.error(sub.peek(), `unexpected ${describe(sub.peek())} in \${...}`);
      return node;
    });
  }
}

/** The literal text of a string token without interpolation (interpolations are kept as `${...}`). */
function stringText(t: Token): string {
  return (t.parts ?? []).map((p) => (typeof p === "string" ? p : "${" + p.expr + "}")).join("");
}

function describe(t: Token): string {
  if (t.kind === "eof") return "end of file";
  if (t.kind === "newline") return "end of line";
  if (t.kind === "string") return "a string";
  return `"${t.value}"`;
}
