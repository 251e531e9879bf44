import { describe, expect, it } from "vitest";
import { checkDockerfile } from "../../src/scan/dockerfile/check.js";
import { DOCKER_RULES } from "../../src/scan/dockerfile/rules.js";
import { Agreement, readJsonl } from "./corpus.js";

interface Case {
  rule: string;
  dockerfile: string;
  expect: boolean;
  config?: string;
}

/** hadolint code → Gantry rule id, read from each rule's declared equivalents. */
function hadolintMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of DOCKER_RULES)
    for (const e of r.equivalents) if (e.startsWith("hadolint:")) map.set(e.slice("hadolint:".length), r.id);
  return map;
}

describe("Dockerfile conformance (../shared/corpus/dockerfile.jsonl, hadolint specs)", () => {
  it("agrees with hadolint on at least 90% of the cases of every implemented check", () => {
    const map = hadolintMap();
    const agreement = new Agreement();
    // Cases that need hadolint's configuration (label schemas, trusted registries) test options Gantry does not have.
    for (const c of readJsonl<Case>("dockerfile.jsonl").filter((x) => !x.config)) {
      const id = map.get(c.rule);
      if (!id) continue;
      const got = checkDockerfile(c.dockerfile, "Dockerfile").some((f) => f.ruleId === id);
      agreement.add(`hadolint:${c.rule} → ${id}`, c.expect, got, c.dockerfile);
    }
    agreement.print("dockerfile");
    expect(agreement.rows().length).toBeGreaterThanOrEqual(40);
    expect(agreement.overall.rate).toBeGreaterThanOrEqual(0.9);
    for (const row of agreement.rows()) expect(row.rate, row.check).toBeGreaterThanOrEqual(0.9);
  });

  it("has at least 40 rules, each with id, severity, title and help", () => {
    expect(DOCKER_RULES.length).toBeGreaterThanOrEqual(40);
    for (const r of DOCKER_RULES) {
      expect(r.id).toMatch(/^dockerfile\/[a-z0-9-]+$/);
      expect(r.title.length).toBeGreaterThan(5);
      expect(r.help.length).toBeGreaterThan(10);
    }
  });
});
