import { describe, expect, it } from "vitest";
import { compileRules, detectSecrets } from "../../src/scan/secrets/detector.js";
import { SECRET_RULES } from "../../src/scan/secrets/rules.js";
import { readJsonl } from "./corpus.js";

interface Case {
  rule: string;
  text?: string;
  expect: boolean;
}

// A case counts as detected when Gantry reports any secret in its text: the corpus names the
// source tool's rule, and several of Gantry's rules (specific and generic) may find the same secret.
describe("secrets conformance (../shared/corpus/secrets.jsonl)", () => {
  it("reaches precision and recall of at least 0.98", () => {
    const compiled = compileRules(SECRET_RULES);
    const cases = readJsonl<Case>("secrets.jsonl").filter((c) => typeof c.text === "string");
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    for (const c of cases) {
      const hit = detectSecrets(c.text as string, compiled).length > 0;
      if (c.expect && hit) tp++;
      else if (c.expect) fn++;
      else if (hit) fp++;
      else tn++;
    }
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    console.log(
      `secrets: precision ${precision.toFixed(3)} recall ${recall.toFixed(3)} (n=${cases.length}: tp ${tp}, fp ${fp}, fn ${fn}, tn ${tn})`,
    );
    expect(cases.length).toBeGreaterThan(4000);
    expect(precision).toBeGreaterThanOrEqual(0.98);
    expect(recall).toBeGreaterThanOrEqual(0.98);
  });

  it("covers at least 150 providers", async () => {
    const { secretProviderCount } = await import("../../src/scan/catalog.js");
    expect(secretProviderCount()).toBeGreaterThanOrEqual(150);
  });
});
