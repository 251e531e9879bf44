import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { forgetValidator, loadValidator, validatorStats } from "../../../src/pipeline/gitlab/schema.js";
import { compile } from "./helpers.js";

const made: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "gantry-gl-schema-"));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe("gitlab schema validation", () => {
  it("compiles GitLab's schema once, then loads it from the cache folder", async () => {
    const dir = tmp();
    forgetValidator();
    const first = await loadValidator(dir);
    expect(validatorStats.last).toBe("compiled");
    expect(readdirSync(dir).filter((f) => /^gitlab-ci-schema-[0-9a-f]{16}\.cjs$/.test(f))).toHaveLength(1);
    forgetValidator();
    const second = await loadValidator(dir);
    expect(validatorStats.last).toBe("disk-cache");
    expect(first?.({ job: { script: "x" } })).toBe(true);
    expect(second?.({ job: { script: "x", when: "sometimes" } })).toBe(false);
    await loadValidator(dir);
    expect(validatorStats.last).toBe("memory");
  });

  it("a clean file does not load the validator; an odd one does and gets its positions", async () => {
    const before = validatorStats.loads;
    const ok = await compile("job:\n  script: x\n  artifacts: {paths: [a]}\n");
    expect(ok.plan).toBeDefined();
    expect(validatorStats.loads).toBe(before);

    const odd = await compile("job:\n  script: x\n  artifacts:\n    pathz: [a]\n");
    expect(validatorStats.loads).toBe(before + 1);
    expect(odd.plan).toBeUndefined();
    expect(odd.diagnostics).toContainEqual(
      expect.objectContaining({
        code: "GL000",
        line: 4,
        column: 5,
        message: expect.stringMatching(/"pathz" is not allowed in job\.artifacts/),
      }),
    );
  });

  it("the cache folder is created when missing", async () => {
    const dir = path.join(tmp(), "nested", "cache");
    forgetValidator();
    await loadValidator(dir);
    expect(existsSync(dir)).toBe(true);
  });
});
