import { parseExpression } from "../expression.js";
import type { Expr } from "../plan.js";
import type { NativeCompiler } from "./index.js";

/** Parses a `when: expression:` string with the shared safe expression parser. */
export function parseExpressionText(
  c: NativeCompiler,
  text: string,
  path: (string | number)[],
): Expr | undefined {
  const at = c.src.pos(path);
  const r = parseExpression(text, at);
  for (const d of r.diagnostics) c.bag.add(d);
  return r.expr;
}
