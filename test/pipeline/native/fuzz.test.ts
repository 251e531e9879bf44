import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { compileGantry } from "../../../src/pipeline/native/index.js";
import { emptyGitInfo } from "../../../src/pipeline/git.js";

const ctx = (source: string) => ({
  projectDir: "/tmp",
  file: "gantry.yml",
  source,
  variables: {},
  params: {},
  git: emptyGitInfo("/tmp"),
  libraries: [],
  cacheDir: "/tmp/gantry-cache",
  env: {},
});

/** Every diagnostic is well-formed: a position in the file, a code and a message. */
function wellFormed(d: {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}): boolean {
  return d.file === "gantry.yml" && d.line >= 0 && d.column >= 0 && d.code.length > 0 && d.message.length > 0;
}

const keyword = fc.constantFrom(
  "pipeline",
  "agent",
  "stages",
  "stage",
  "steps",
  "parallel",
  "matrix",
  "axes",
  "when",
  "post",
  "always",
  "sh",
  "echo",
  "dir",
  "retry",
  "timeout",
  "needs",
  "input",
  "environment",
  "options",
  "branch",
  "expression",
  "excludes",
  "failFast",
  "parameters",
  "name",
  "type",
  "credentials",
  "path",
  "count",
  "time",
  "message",
);
const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), keyword);
const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("node"), { maxLength: 4 }),
    fc.dictionary(keyword, tie("node"), { maxKeys: 4 }),
  ),
})).node;

describe("gantry.yml loader fuzzing", () => {
  it("never throws on arbitrary text, only returns diagnostics", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (text) => {
        const r = await compileGantry(ctx(text));
        expect(r.diagnostics.every(wellFormed)).toBe(true);
        if (!r.plan) expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on structured documents built from its own keywords", async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (doc) => {
        const r = await compileGantry(ctx(stringify({ pipeline: doc })));
        expect(r.diagnostics.every(wellFormed)).toBe(true);
        if (r.plan) expect(JSON.parse(JSON.stringify(r.plan))).toEqual(r.plan);
      }),
      { numRuns: 400 },
    );
  });
});
