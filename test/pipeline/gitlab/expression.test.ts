import { describe, expect, it } from "vitest";
import { ExpressionError, evaluate, parseExpression } from "../../../src/pipeline/gitlab/expression.js";
import { parseDuration } from "../../../src/pipeline/gitlab/duration.js";
import { expandVariables } from "../../../src/pipeline/gitlab/expand.js";

const vars: Record<string, string> = {
  BRANCH: "feature/login",
  EMPTY: "",
  ONE: "1",
  PATTERN: "/^feature\\//",
  MAIN: "main",
};
const lookup = (n: string): string | undefined => vars[n];

describe("gitlab rules:if expressions", () => {
  const table: [string, boolean][] = [
    ["$BRANCH", true],
    ["$EMPTY", false],
    ["$MISSING", false],
    ["${BRANCH}", true],
    ['$BRANCH == "feature/login"', true],
    ["$BRANCH == 'feature/login'", true],
    ['$BRANCH != "main"', true],
    ["$MISSING == null", true],
    ["$EMPTY == null", false],
    ['$EMPTY == ""', true],
    ["null == $MISSING", true],
    ["$BRANCH =~ /^feature\\//", true],
    ["$BRANCH =~ /^FEATURE/i", true],
    ["$BRANCH =~ /^FEATURE/", false],
    ["$BRANCH !~ /^release/", true],
    ["$MISSING =~ /.*/", false],
    ["$BRANCH =~ $PATTERN", true],
    ['$ONE == "1" && $BRANCH', true],
    ['$ONE == "2" || $EMPTY', false],
    ['$ONE == "2" || $BRANCH && $MAIN == "main"', true],
    ['($ONE == "2" || $BRANCH) && $MAIN == "x"', false],
    ['$ONE == "2" || ($BRANCH && $MAIN == "main")', true],
    ["$MAIN == $MAIN", true],
    ["$BRANCH =~ /(?i)^FEATURE/", true],
  ];
  for (const [src, want] of table) {
    it(`${src} → ${want}`, () => {
      expect(evaluate(parseExpression(src), lookup)).toBe(want);
    });
  }

  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["$", /variable name/],
    ['$A == "x', /unterminated string/],
    ["$A =~ /x", /unterminated regular/],
    ["($A", /missing \)/],
    ["$A ==", /unexpected end/],
    ["$A $B", /unexpected token/],
    ["$A =~ /(/", /invalid regular expression/],
    ["$A = 1", /unexpected/],
  ];
  for (const [src, msg] of bad) {
    it(`rejects ${JSON.stringify(src)}`, () => {
      let err: unknown;
      try {
        parseExpression(src);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExpressionError);
      expect((err as Error).message).toMatch(msg);
    });
  }
});

describe("gitlab durations and expansion", () => {
  it.each([
    ["1h 30m", 5_400_000],
    ["90 minutes", 5_400_000],
    ["3 hours", 10_800_000],
    ["2h30m", 9_000_000],
    ["1 day", 86_400_000],
    ["45", 45_000],
    ["30 sec", 30_000],
  ])("%s → %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it("refuses non-durations", () => {
    expect(parseDuration("forever")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
    expect(parseDuration("1 fortnight")).toBeUndefined();
  });

  it("expands $VAR, ${VAR} and $$", () => {
    const v: Record<string, string> = { A: "x", B: "y" };
    expect(expandVariables("$A-${B}-$$A-$C.", (n) => v[n])).toBe("x-y-$A-.");
  });
});
