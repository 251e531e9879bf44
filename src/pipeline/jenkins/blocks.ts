/** Reading declarative blocks: each statement of a section is a call such as `label 'x'`. */
import type { Arg, Closure, Node, Stmt } from "./ast.js";
import { report, type Cx } from "./context.js";

export interface Entry {
  name: string;
  args: Arg[];
  closure?: Closure;
  /** The statement (for its position). */
  at: Stmt;
  /** Whether it was written with parentheses. */
  parens: boolean;
}

/** The calls of a block; anything else is reported as not allowed in `what`. */
export function entries(closure: Closure | undefined, cx: Cx, what: string): Entry[] {
  const out: Entry[] = [];
  for (const s of closure?.body ?? []) {
    const e = asEntry(s);
    if (e) out.push(e);
    else if (!(s.type === "expr" && s.expr.type === "error"))
      report(cx, "error", "JK-syntax", `expected a directive in ${what}, found ${describeStmt(s)}`, s);
  }
  return out;
}

export function asEntry(s: Stmt): Entry | undefined {
  if (s.type !== "expr") return undefined;
  const e = s.expr;
  if (e.type === "call" && e.target === null)
    return {
      name: e.name,
      args: e.args,
      ...(e.closure ? { closure: e.closure } : {}),
      at: s,
      parens: e.parens,
    };
  if (e.type === "ident") return { name: e.name, args: [], at: s, parens: false };
  return undefined;
}

function describeStmt(s: Stmt): string {
  switch (s.type) {
    case "assign":
      return "an assignment";
    case "decl":
      return `a declaration of "${s.name}"`;
    case "raw":
      return `"${s.keyword}" (Groovy code)`;
    case "return":
      return "return";
    default:
      return "an expression";
  }
}

/** The single unnamed argument of an entry, if it has exactly that. */
export function soleArg(e: Entry): Node | undefined {
  return e.args.length === 1 && e.args[0]!.name === undefined ? e.args[0]!.value : undefined;
}

/** Named arguments as a map (a single unnamed argument is returned under `""`). */
export function namedArgs(e: { args: Arg[] }): Record<string, Node> {
  const out: Record<string, Node> = {};
  for (const a of e.args) out[a.name ?? ""] = a.value;
  return out;
}

/** Replaces `${NAME}` for names known at compile time (matrix axes), leaving the rest. */
export function substitute(text: string, known: Readonly<Record<string, string>>): string {
  if (!text.includes("${")) return text;
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => known[name] ?? m);
}
