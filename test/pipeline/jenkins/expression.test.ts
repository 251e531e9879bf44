import { describe, expect, it } from "vitest";
import { evaluateExpr, type ConditionContext } from "../../../src/pipeline/conditions.js";
import { parseExpression } from "../../../src/pipeline/expression.js";

const at = { file: "gantry.yml", line: 12, column: 20 };

const ctx: ConditionContext = {
  env: { BRANCH_NAME: "release-2", COUNT: "7", EMPTY: "" },
  params: { DEPLOY: "true", TARGET: "prod" },
  branch: "release-2",
  tag: "",
  changedFiles: [],
  changeRequest: false,
  causes: [],
  currentBuild: { result: null, currentResult: "SUCCESS", number: 42 },
  fileExists: (p) => p === "package.json",
};

function value(text: string): unknown {
  const r = parseExpression(text, at);
  expect(r.diagnostics).toEqual([]);
  return evaluateExpr(r.expr!, ctx);
}

describe("parseExpression", () => {
  it.each([
    ["env.BRANCH_NAME == 'release-2'", true],
    ["return env.BRANCH_NAME.startsWith('release-') && params.DEPLOY.toBoolean()", true],
    ["params.TARGET != 'prod' || !params.DEPLOY", false],
    ["env.COUNT.toInteger() > 5", true],
    ["currentBuild.number >= 42 && currentBuild.result == null", true],
    ["env.BRANCH_NAME ==~ /release-\\d+/", true],
    ["env.BRANCH_NAME =~ 'lease'", true],
    ["env.EMPTY ? 'yes' : 'no'", "no"],
    ["env.MISSING ?: 'fallback'", "fallback"],
    ["\"${params.TARGET}-x\" == 'prod-x'", true],
    ["params.TARGET in ['dev', 'prod']", true],
    ["fileExists('package.json') && !fileExists('nope')", true],
    ["BRANCH_NAME.contains('2')", true],
    ["'abc'.equals('abc')", true],
  ])("%s → %s", (text, expected) => {
    expect(value(text)).toEqual(expected);
  });

  it("reports what is outside the language at its position in the file", () => {
    const r = parseExpression("env.X == 'a' && Jenkins.instance.getItem('x')", at);
    expect(r.expr).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({
      severity: "error",
      code: "JK-expression",
      file: "gantry.yml",
      line: 12,
      column: 36,
      message: 'method "getItem()" is not supported in expressions',
    });
    expect(r.diagnostics[0]!.hint).toContain("sh step");
  });

  it("reports syntax errors and more than one statement", () => {
    expect(parseExpression("env.X ==", at).diagnostics[0]).toMatchObject({ code: "JK-syntax", line: 12 });
    expect(parseExpression("def x = 1\nreturn x", at).diagnostics[0]!.message).toContain(
      "only one statement",
    );
    expect(parseExpression("", at).diagnostics[0]!.message).toBe("empty expression");
  });
});
