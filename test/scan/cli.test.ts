import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GITHUB_PAT, SLACK_BOT, tree } from "./fixtures.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const gantryBin = path.join(repoRoot, "bin/gantry");

function gantry(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(gantryBin, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// Runs the built CLI (`npm run build` first, as `npm test` does).
describe("gantry scan (built CLI)", () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, "dist/cli/main.js"))) throw new Error("run `npm run build` first");
  });

  it("exits 1 at or above --fail-on, 0 below it, and prints a table by default", async () => {
    const dir = tree({ "a.ts": `const t = "${GITHUB_PAT}";\n` });
    const high = await gantry(["scan", "."], dir);
    expect(high.code).toBe(1);
    expect(high.stdout).toMatch(/a\.ts\n\s+1:12\s+HIGH\s+GitHub personal access token: ghp_…\(40 chars\)/);
    expect(high.stdout).not.toContain(GITHUB_PAT);
    const critical = await gantry(["scan", ".", "--fail-on", "critical"], dir);
    expect(critical.code).toBe(0);
  });

  it("exits 2 with a hint for usage errors, never a stack trace", async () => {
    const dir = tree({ "a.txt": "x\n" });
    for (const args of [
      ["scan", ".", "--format", "xml"],
      ["scan", ".", "--fail-on", "severe"],
      ["scan", ".", "--only", "secretz"],
      ["scan", "missing-dir"],
    ]) {
      const r = await gantry(args, dir);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^gantry: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("writes SARIF to --output and lists rules with their equivalents", async () => {
    const dir = tree({
      "k8s/pod.yaml":
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    });
    const r = await gantry(
      ["scan", ".", "--only", "kubernetes", "--format", "sarif", "--output", "out.sarif"],
      dir,
    );
    expect(r.stderr).toMatch(/report written to out\.sarif/);
    const sarif = JSON.parse(fs.readFileSync(path.join(dir, "out.sarif"), "utf8"));
    expect(sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toContain("k8s/image-tag");
    const rules = await gantry(["scan", "--list-rules"], dir);
    expect(rules.code).toBe(0);
    expect(rules.stdout).toMatch(/^dockerfile\/pin-base-image\s+medium\s+.*hadolint:DL3006/m);
    expect(rules.stdout).toMatch(/^(\d+) rules$/m);
  });

  it("uses worker threads on large trees and finds the same secrets", async () => {
    const filler = "const value = computeSomething(alpha, beta, gamma); // ordinary line\n".repeat(1200);
    const files: Record<string, string> = {};
    for (let i = 0; i < 80; i++)
      files[`src/f${i}.ts`] = filler + (i % 20 === 0 ? `const s = "${SLACK_BOT}";\n` : "");
    const dir = tree(files);
    const multi = await gantry(["scan", ".", "--only", "secrets", "--format", "json", "--workers", "2"], dir);
    const single = await gantry(
      ["scan", ".", "--only", "secrets", "--format", "json", "--workers", "1"],
      dir,
    );
    const a = JSON.parse(multi.stdout);
    const b = JSON.parse(single.stdout);
    expect(a.stats.bytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(a.findings).toHaveLength(4);
    expect(a.findings.map((f: { fingerprint: string }) => f.fingerprint).sort()).toEqual(
      b.findings.map((f: { fingerprint: string }) => f.fingerprint).sort(),
    );
  });
});
