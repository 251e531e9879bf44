import fs from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { renderReport } from "../../src/scan/render.js";
import { scan } from "../../src/scan/scanner.js";
import { GITHUB_PAT, tree } from "./fixtures.js";

const require = createRequire(import.meta.url);

async function sampleReport() {
  const dir = tree({
    "src/my file.ts": `const t = "${GITHUB_PAT}";\n`,
    Dockerfile: "FROM node\nRUN npm install express\n",
    "k8s/app.yaml":
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:latest\n",
  });
  return scan({ path: dir });
}

describe("report formats", () => {
  it("SARIF validates against the SARIF 2.1.0 schema and has what GitHub code scanning needs", async () => {
    const report = await sampleReport();
    const sarif = JSON.parse(await renderReport(report, "sarif"));
    const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
    const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
    // The schema is written in draft-04 style (`id`); Ajv 8 reads the same rules under `$id`.
    delete schema.$schema;
    schema.$id = schema.id;
    delete schema.id;
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false });
    const validate = ajv.compile(schema);
    expect(
      validate({ version: "2.1.0", runs: [{ results: [] }] }),
      "the validator must reject a run without a tool",
    ).toBe(false);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const run = sarif.runs[0];
    const results = run.results as {
      ruleId: string;
      ruleIndex: number;
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string; uriBaseId: string };
          region: Record<string, number>;
        };
      }[];
      partialFingerprints: Record<string, string>;
    }[];
    expect(results.length).toBeGreaterThanOrEqual(3);
    for (const r of results) {
      const loc = r.locations[0]?.physicalLocation;
      expect(loc?.artifactLocation.uri).not.toMatch(/^\/|^file:/);
      expect(loc?.artifactLocation.uriBaseId).toBe("%SRCROOT%");
      expect(Object.keys(loc?.region ?? {}).sort()).toEqual([
        "endColumn",
        "endLine",
        "startColumn",
        "startLine",
      ]);
      expect(r.partialFingerprints["gantryFingerprint/v1"]).toMatch(/^[0-9a-f]{32}$/);
      expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
    }
    expect(results.map((r) => r.locations[0]?.physicalLocation.artifactLocation.uri)).toContain(
      "src/my%20file.ts",
    );
    const dl = run.tool.driver.rules.find((x: { id: string }) => x.id === "dockerfile/pin-base-image");
    expect(dl.properties.equivalents).toContain("hadolint:DL3006");
    expect(dl.properties["security-severity"]).toBe("5.5");
  });

  it("GitLab report follows the security report format with identifiers and locations", async () => {
    const report = await sampleReport();
    const gl = JSON.parse(await renderReport(report, "gitlab"));
    expect(gl.version).toMatch(/^15\./);
    expect(gl.scan).toMatchObject({
      status: "success",
      analyzer: { id: "gantry" },
      scanner: { id: "gantry" },
    });
    expect(gl.scan.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const secret = gl.vulnerabilities.find((v: { identifiers: { name: string }[] }) =>
      v.identifiers[0]?.name.startsWith("secrets/"),
    );
    for (const v of gl.vulnerabilities)
      for (const gone of ["category", "message", "cve", "confidence", "scanner"])
        expect(v).not.toHaveProperty(gone);
    expect(secret).toMatchObject({ severity: "High", location: { file: "src/my file.ts", start_line: 1 } });
    expect(secret.identifiers[0]).toEqual({
      type: "gantry_rule_id",
      name: "secrets/github-pat",
      value: "secrets/github-pat",
    });
    expect(JSON.stringify(gl)).not.toContain(GITHUB_PAT);
    const onlySecrets = JSON.parse(
      await renderReport(await scan({ path: report.root, only: ["secrets"] }), "gitlab"),
    );
    expect(onlySecrets.scan.type).toBe("secret_detection");
  });

  it("the table groups by file and ends with a summary that counts skipped files", async () => {
    const report = await sampleReport();
    const table = await renderReport(report, "table");
    expect(table).toMatch(/^Dockerfile\n/m);
    expect(table).toMatch(/\n\d+ findings \(\d+ (?:critical|high)[^)]*\); \d+ files, [\d.]+ MiB in [\d.]+ s/);
    expect(table).not.toContain("\x1b[");
  });
});
