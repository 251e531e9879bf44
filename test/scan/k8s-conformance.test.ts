import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkManifests } from "../../src/scan/k8s/check.js";
import { K8S_RULES } from "../../src/scan/k8s/rules.js";
import { Agreement, corpusDir } from "./corpus.js";

interface Expected {
  tool: string;
  check: string;
  file: string;
  expectViolation: boolean;
  config?: string;
}

/**
 * Disagreements we keep on purpose, with the reason; they are still counted and printed.
 * kube-score treats batch/v1beta1 CronJob as current (it targets old clusters); Kubernetes
 * removed it in 1.25, so Gantry reports it.
 */
const KNOWN_DISAGREEMENTS = new Set(["kube-score:Stable version"]);

/** `tool:check` → Gantry rule ids, from each rule's equivalents plus this corpus' own names. */
function toolMap(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of K8S_RULES) for (const e of r.equivalents) map.set(e, [...(map.get(e) ?? []), r.id]);
  map.set("platform:service-nodeport-range", ["k8s/nodeport-range"]);
  return map;
}

describe("Kubernetes conformance (../shared/corpus/k8s, polaris/kube-score/kube-linter cases)", () => {
  it("agrees with the source tool on at least 90% of the cases of each implemented check", async () => {
    const map = toolMap();
    const agreement = new Agreement();
    const expected = JSON.parse(
      fs.readFileSync(path.join(corpusDir, "k8s/expected.json"), "utf8"),
    ) as Expected[];
    // Cases run with a non-default configuration of the source tool are left out.
    for (const e of expected.filter((x) => !x.config)) {
      const ids = map.get(`${e.tool}:${e.check}`);
      if (!ids) continue;
      const text = fs.readFileSync(path.join(corpusDir, "k8s", e.file), "utf8");
      const findings = await checkManifests([{ file: e.file, text }]);
      agreement.add(
        `${e.tool}:${e.check}`,
        e.expectViolation,
        findings.some((f) => ids.includes(f.ruleId)),
        e.file,
      );
    }
    agreement.print("kubernetes");
    expect(agreement.rows().length).toBeGreaterThanOrEqual(40);
    expect(agreement.overall.rate).toBeGreaterThanOrEqual(0.9);
    const below = agreement.rows().filter((r) => r.rate < 0.9 && !KNOWN_DISAGREEMENTS.has(r.check));
    expect(below.map((r) => `${r.check} ${r.rate.toFixed(2)}`)).toEqual([]);
  });
});
