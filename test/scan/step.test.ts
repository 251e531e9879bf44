import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runScanStep, type ScanStep } from "../../src/scan/step.js";
import { GITHUB_PAT, tree } from "./fixtures.js";

const step = (over: Partial<ScanStep> = {}): ScanStep => ({
  kind: "scan",
  path: ".",
  failOn: "high",
  format: "sarif",
  output: "reports/scan.sarif",
  ...over,
});

describe("the Plan's scan step", () => {
  it("writes the report into the workspace and fails when a finding reaches the gate", async () => {
    const ws = tree({ "app/config.js": `module.exports = { token: "${GITHUB_PAT}" };\n` });
    const lines: string[] = [];
    const r = await runScanStep(step(), { workspace: ws, log: (l) => lines.push(l) });
    expect(r.ok).toBe(false);
    expect(r.reportPath).toBe(path.join(ws, "reports/scan.sarif"));
    const sarif = JSON.parse(fs.readFileSync(r.reportPath, "utf8"));
    expect(sarif.runs[0].results[0].ruleId).toBe("secrets/github-pat");
    expect(lines.join("\n")).toMatch(/HIGH app\/config\.js:1:\d+ GitHub personal access token/);
    expect(lines.join("\n")).not.toContain(GITHUB_PAT);
    expect(r.summary).toMatch(/^1 finding \(1 high\)/);
  });

  it("passes below the gate, honours only, and writes GitLab reports", async () => {
    const ws = tree({
      "app/config.js": `module.exports = { token: "${GITHUB_PAT}" };\n`,
      Dockerfile: "FROM node\n",
    });
    const onlyDocker = await runScanStep(
      step({ only: ["dockerfile"], failOn: "critical", format: "gitlab", output: "gl.json" }),
      { workspace: ws, log: () => {} },
    );
    expect(onlyDocker.ok).toBe(true);
    const gl = JSON.parse(fs.readFileSync(path.join(ws, "gl.json"), "utf8"));
    expect(
      gl.vulnerabilities.every((v: { identifiers: { name: string }[] }) =>
        v.identifiers[0]?.name.startsWith("dockerfile/"),
      ),
    ).toBe(true);
    const never = await runScanStep(step({ failOn: "never" }), { workspace: ws, log: () => {} });
    expect(never.ok).toBe(true);
  });
});
