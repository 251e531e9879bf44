import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseExpression } from "../../../src/pipeline/expression.js";
import { compileJenkinsfileDetailed, parseGroovy } from "../../../src/pipeline/jenkins/index.js";
import { context, corpusDir } from "./helpers.js";

const projectDir = mkdtempSync(path.join(tmpdir(), "gantry-fuzz-"));
const samples = readdirSync(corpusDir)
  .filter((f) => /\.(groovy|Jenkinsfile)$/.test(f))
  .map((f) => readFileSync(path.join(corpusDir, f), "utf8"));
const alphabet = [..."pipeline{}()[]'\"$/\\*\n :,.=!<>?&|@_#-+"].concat([
  "stage",
  "steps",
  "sh",
  "'''",
  '"""',
  "${",
  "script",
  "agent",
  "when",
  "matrix",
  "//",
  "/*",
  "*/",
]);
const groovyish = fc.array(fc.constantFrom(...alphabet), { maxLength: 200 }).map((a) => a.join(""));

function wellFormed(d: { line: number; column: number; message: string; severity: string }): boolean {
  return (
    Number.isInteger(d.line) &&
    d.line >= 0 &&
    Number.isInteger(d.column) &&
    d.column >= 0 &&
    d.message.length > 0 &&
    ["error", "warning", "info"].includes(d.severity)
  );
}

describe("fuzz: the Jenkinsfile parser and compiler only ever return diagnostics", () => {
  it("random Groovy-ish text", async () => {
    await fc.assert(
      fc.asyncProperty(groovyish, async (text) => {
        const parsed = parseGroovy(text, "Jenkinsfile");
        expect(parsed.diagnostics.every(wellFormed)).toBe(true);
        const r = await compileJenkinsfileDetailed(context(text, { projectDir }));
        expect(r.diagnostics.every(wellFormed)).toBe(true);
        expect(() => JSON.stringify(r.plan)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it("corpus files with a slice cut out or repeated", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(samples.length - 1),
        fc.nat(),
        fc.nat(400),
        fc.boolean(),
        async (i, start, len, dup) => {
          const s = samples[i]!;
          const a = start % (s.length + 1);
          const mutated = dup ? s.slice(0, a + len) + s.slice(a) : s.slice(0, a) + s.slice(a + len);
          const r = await compileJenkinsfileDetailed(context(mutated, { projectDir }));
          expect(r.diagnostics.every(wellFormed)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("deep nesting does not overflow the stack", () => {
    const deep = "pipeline { " + "(".repeat(5000) + "x" + ")".repeat(5000) + " }";
    expect(parseGroovy(deep, "J").diagnostics.some((d) => d.message.includes("too deep"))).toBe(true);
    const blocks = "a { ".repeat(3000) + "}".repeat(3000);
    expect(() => parseGroovy(blocks, "J")).not.toThrow();
    expect(() => parseExpression("!".repeat(10000) + "x", { file: "f", line: 1, column: 1 })).not.toThrow();
  });

  it("random expression strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const r = parseExpression(text, { file: "f", line: 1, column: 1 });
        expect(r.diagnostics.every(wellFormed)).toBe(true);
        expect(r.expr !== undefined || r.diagnostics.some((d) => d.severity === "error")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
