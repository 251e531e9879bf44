/**
 * Syntax tree of the Groovy subset in Jenkinsfiles. Every node carries its 1-based position
 * and its source offsets so that diagnostics point at the right place and raw text (of a
 * `script {}` block, of an `expression {}`) can be recovered.
 */
export interface Span {
  line: number;
  column: number;
  offset: number;
  end: number;
}

/** One argument of a call: positional (`name` undefined) or named (`name: value`). */
export interface Arg {
  name?: string;
  value: Node;
}

export type Node = Span &
  (
    | {
        type: "string";
        /** Text pieces and interpolated expressions (`${expr}`, `$name`), in order. */
        parts: (string | Node)[];
        quote: string;
      }
    | { type: "number"; value: number; text: string }
    | { type: "bool"; value: boolean }
    | { type: "null" }
    | { type: "ident"; name: string }
    | { type: "property"; target: Node; name: string; safe: boolean }
    | { type: "index"; target: Node; index: Node }
    | {
        type: "call";
        /** `null` for a bare call such as `sh 'x'`. */
        target: Node | null;
        name: string;
        args: Arg[];
        closure?: Closure;
        /** Whether the call used parentheses (`foo(...)`) or command syntax (`foo x`). */
        parens: boolean;
      }
    | { type: "binary"; op: string; left: Node; right: Node }
    | { type: "unary"; op: string; arg: Node }
    | { type: "ternary"; test: Node; then: Node | null; else: Node }
    | { type: "list"; items: Node[] }
    | { type: "map"; entries: { key: string; value: Node }[] }
    | Closure
    | { type: "new"; className: string; args: Arg[] }
    /** `${...}` outside a string: Groovy parses it as a call of `$`; Jenkins reports it. */
    | { type: "bareDollar"; text: string }
    | { type: "error"; message: string }
  );

export type Closure = Span & {
  type: "closure";
  params: string[];
  body: Stmt[];
  bodyStart: number;
  bodyEnd: number;
};

export type Stmt = Span &
  (
    | { type: "expr"; expr: Node }
    | { type: "assign"; target: Node; op: string; value: Node }
    | { type: "decl"; name: string; declType: string; value?: Node }
    | { type: "return"; value?: Node }
    | { type: "import"; path: string }
    | {
        type: "annotation";
        name: string;
        args: Arg[];
        /** What it annotates: `_`, an import, a declaration. */ target?: Stmt;
      }
    /** A method definition (`def call(Map args = [:]) { ... }`). */
    | {
        type: "method";
        name: string;
        params: { name: string; declType: string; default?: Node }[];
        body: Closure;
      }
    /** Control flow and anything else Gantry does not evaluate (`if`, `for`, `try`, ...): kept raw. */
    | { type: "raw"; keyword: string }
  );

export interface Script {
  statements: Stmt[];
}
