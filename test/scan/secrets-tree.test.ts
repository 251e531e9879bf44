import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeBaseline } from "../../src/scan/baseline.js";
import { renderReport } from "../../src/scan/render.js";
import { scan } from "../../src/scan/scanner.js";
import { AWS_KEY_ID, GITHUB_PAT, SLACK_BOT, SONAR_TOKEN, tree } from "./fixtures.js";

describe("secrets scan of a working tree", () => {
  it("finds tokens with their position and never prints the whole secret in any format", async () => {
    const dir = tree({
      "src/config.ts": `export const a = 1;\nconst slack = "${SLACK_BOT}";\n`,
      "ci.env": `SONAR_TOKEN=${SONAR_TOKEN}\n`,
    });
    const report = await scan({ path: dir, only: ["secrets"] });
    const slack = report.findings.find((f) => f.ruleId === "secrets/slack-bot-token");
    expect(slack).toMatchObject({
      file: "src/config.ts",
      line: 2,
      column: 16,
      endLine: 2,
      endColumn: 16 + SLACK_BOT.length,
      severity: "critical",
    });
    expect(report.findings.map((f) => f.ruleId)).toContain("secrets/sonarqube-token");
    for (const format of ["table", "json", "sarif", "gitlab"] as const) {
      const out = await renderReport(report, format);
      expect(out, format).not.toContain(SLACK_BOT);
      expect(out, format).not.toContain(SONAR_TOKEN);
      expect(out, format).not.toContain(SLACK_BOT.slice(10));
    }
  });

  it("honours .gitignore and .gantryignore and skips binary and huge files with a count", async () => {
    const dir = tree({
      ".gitignore": "build/\n",
      ".gantryignore": "fixtures/**\n!fixtures/keep.txt\n",
      "build/out.js": `t="${GITHUB_PAT}"`,
      "fixtures/fake.txt": `t="${GITHUB_PAT}"`,
      "fixtures/keep.txt": `t="${GITHUB_PAT}"`,
      "img.bin": Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(GITHUB_PAT)]),
      "big.txt": `${"x".repeat(2 * 1024 * 1024)}\n${GITHUB_PAT}\n`,
      "app.py": `key = "${AWS_KEY_ID}"\n`,
    });
    const report = await scan({ path: dir, only: ["secrets"], maxFileBytes: 1024 * 1024 });
    expect(report.findings.map((f) => f.file).sort()).toEqual(["app.py", "fixtures/keep.txt"]);
    expect(report.stats.skipped.binary).toBe(1);
    expect(report.stats.skipped.huge).toBe(1);
    expect(report.stats.skipped.ignored).toBeGreaterThanOrEqual(2);
  });

  it("accepts gantry:allow with a reason on the same or the previous line, and the policy switch turns it off", async () => {
    const dir = tree({
      "a.ts": [
        `const x = "${GITHUB_PAT}"; // gantry:allow test fixture token`,
        `// gantry:allow documented example`,
        `const y = "${SLACK_BOT}";`,
        `const z = "${AWS_KEY_ID}"; // gantry:allow`,
      ].join("\n"),
    });
    const report = await scan({ path: dir, only: ["secrets"] });
    expect(report.suppressed.map((s) => [s.ruleId, s.reason])).toEqual([
      ["secrets/github-pat", "test fixture token"],
      ["secrets/slack-bot-token", "documented example"],
    ]);
    // A bare gantry:allow without a reason does not suppress.
    expect(report.findings.map((f) => f.ruleId)).toEqual(["secrets/aws-access-key-id"]);
    const strict = await scan({ path: dir, only: ["secrets"], allowInline: false });
    expect(strict.suppressed).toEqual([]);
    expect(strict.findings).toHaveLength(3);
  });

  it("matches baselines by secret, not by line: moved lines stay baselined, a new secret does not", async () => {
    const dir = tree({ "a.ts": `const a = "${GITHUB_PAT}";\n` });
    const first = await scan({ path: dir, only: ["secrets"] });
    const baseline = path.join(dir, "..", `${path.basename(dir)}.baseline.json`);
    writeBaseline(baseline, first.findings);
    fs.writeFileSync(
      path.join(dir, "a.ts"),
      `// new header\n\n\nconst a = "${GITHUB_PAT}";\nconst b = "${SLACK_BOT}";\n`,
    );
    const second = await scan({ path: dir, only: ["secrets"], baseline });
    expect(second.baselined).toBe(1);
    expect(second.findings.map((f) => [f.ruleId, f.line])).toEqual([["secrets/slack-bot-token", 5]]);
    expect(fs.readFileSync(baseline, "utf8")).not.toContain(GITHUB_PAT);
  });

  it("finds private keys across lines and URL passwords", async () => {
    const body = Array.from(
      { length: 8 },
      (_, i) =>
        `${"MIIEpAIBAAKCAQEAq7".slice(0, 10)}${"Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe".repeat(2).slice(i, i + 54)}`,
    ).join("\n");
    const dir = tree({
      id_rsa: `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n`,
      "db.env": "DATABASE_URL=postgres://app:S3cr3tPassw0rdXy@db.internal:5432/prod\n",
    });
    const report = await scan({ path: dir, only: ["secrets"] });
    const key = report.findings.find((f) => f.ruleId === "secrets/private-key");
    expect(key).toMatchObject({ file: "id_rsa", line: 1, endLine: 10 });
    expect(report.findings.find((f) => f.ruleId === "secrets/url-credentials")?.redacted).not.toContain(
      "S3cr3tPassw0rdXy",
    );
  });
});
