/**
 * The safe expression language shared by Jenkins `when { expression { ... } }` and gantry.yml
 * `when: {expression: "..."}`: Groovy-flavoured syntax, compiled to the Plan's `Expr` data and
 * evaluated by `src/pipeline/conditions.ts`. No `eval`, no host access but `fileExists`.
 */
import type { Diagnostic } from "./diagnostics.js";
import { parseGroovyExpression } from "./jenkins/parser.js";
import { statementsToExpr } from "./jenkins/to-expr.js";
import type { Expr } from "./plan.js";

export { EXPR_FUNCTIONS, EXPR_METHODS } from "./jenkins/to-expr.js";

/**
 * Parses `text` (e.g. `env.BRANCH == 'main' && params.DEPLOY`, `return` optional) into an
 * `Expr`. `at` is where the text starts in its file, so diagnostics point into that file.
 * Returns `expr` only when there are no errors.
 */
export function parseExpression(
  text: string,
  at: { file: string; line: number; column: number },
): { expr?: Expr; diagnostics: Diagnostic[] } {
  const { statements, diagnostics } = parseGroovyExpression(text, at.file, {
    line: at.line,
    column: at.column,
    offset: 0,
  });
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  const expr = statementsToExpr(statements, at.file, diagnostics, at);
  return expr && !diagnostics.some((d) => d.severity === "error") ? { expr, diagnostics } : { diagnostics };
}
