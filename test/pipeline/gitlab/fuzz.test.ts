import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { validatePlan } from "../../../src/pipeline/validate-plan.js";
import { compile } from "./helpers.js";

const KEYS = [
  "script",
  "stage",
  "stages",
  "needs",
  "rules",
  "extends",
  "variables",
  "parallel",
  "matrix",
  "when",
  "if",
  "include",
  "local",
  "job",
  "artifacts",
  "paths",
  "cache",
  "key",
  "dependencies",
  "only",
  "except",
  "image",
  "services",
  "retry",
  "timeout",
  "allow_failure",
  "environment",
  "default",
  "workflow",
  "a",
  ".hidden",
  "__proto__",
  "constructor",
  "toString",
];

/** Values shaped like GitLab configuration: names, expressions, nested maps and lists. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom(
      null,
      true,
      false,
      0,
      3,
      250,
      "build",
      "test",
      ".pre",
      "a",
      '$X == "1"',
      "manual",
      "never",
      "1h",
      "$[[ matrix.A ]]",
    ),
    fc.string({ maxLength: 12 }),
  ),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("leaf"), tie("list"), tie("map")),
  list: fc.array(tie("node"), { maxLength: 4 }),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie("node"), { maxKeys: 5 }),
})).node;

/** `GANTRY_FUZZ_SCALE=20` runs twenty times as many cases (for a longer local hunt). */
const SCALE = Number(process.env.GANTRY_FUZZ_SCALE ?? 1);

describe("gitlab loader fuzzing: never throws, only diagnostics", () => {
  it("random text", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200, unit: "binary" }), async (text) => {
        const r = await compile(text);
        expect(Array.isArray(r.diagnostics)).toBe(true);
        if (!r.plan) expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
      }),
      { numRuns: 150 * SCALE },
    );
  });

  it("YAML-ish text from GitLab fragments", async () => {
    const fragment = fc.constantFrom(
      "job:\n",
      "  script: [x]\n",
      "  needs: [job]\n",
      "  extends: .t\n",
      ".t: &t\n",
      "  <<: *t\n",
      "  - !reference [.t, script]\n",
      "  rules:\n    - if: $A\n",
      "stages: [a, b]\n",
      "  stage: b\n",
      "include: x.yml\n",
      "  parallel:\n    matrix:\n      - A: [1, 2]\n",
      "  :\n",
      "- -\n",
      "'\n",
      "{[\n",
      "---\n",
      "  variables: {A: {value: 1, expand: false}}\n",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { maxLength: 12 }), async (parts) => {
        const r = await compile(parts.join(""));
        for (const d of r.diagnostics) {
          expect(typeof d.message).toBe("string");
          expect(d.line).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 200 * SCALE },
    );
  });

  it("random structured documents", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...KEYS, "job2", "deploy"), value, { maxKeys: 6 }),
        async (doc) => {
          const r = await compile(stringify(doc));
          if (r.plan) {
            expect(r.diagnostics.some((d) => d.severity === "error")).toBe(false);
            expect(JSON.parse(JSON.stringify(r.plan))).toEqual(r.plan);
            expect(validatePlan(r.plan)).toEqual([]);
          }
        },
      ),
      { numRuns: 200 * SCALE },
    );
  });
});
