import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { gantry, gantryBin, project, repoRoot } from "./helpers.js";

/** What Node prints at start-up when it loads NODE_EXTRA_CA_CERTS and cannot read the file. */
const LOADED_CA = "Ignoring extra certs";

describe("bin/gantry launcher", () => {
  it("does not make Node load NODE_EXTRA_CA_CERTS for a local run, and jobs still get it unchanged", async () => {
    const missing = path.join(os.tmpdir(), `gantry-no-such-ca-${process.pid}.pem`);
    const dir = project({
      ".gitlab-ci.yml": `show:\n  script:\n    - echo "ca=[$NODE_EXTRA_CA_CERTS] deferred=[\${GANTRY_DEFERRED_NODE_EXTRA_CA_CERTS-unset}]"\n`,
    });
    const r = await gantry(["run"], dir, { NODE_EXTRA_CA_CERTS: missing });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`show > ca=[${missing}] deferred=[unset]`);
    expect(r.stderr).not.toContain(LOADED_CA);
    // Commands that open TLS connections themselves keep it: Node loads (here: fails to load) it.
    const runner = await gantry(["runner", "--help"], dir, { NODE_EXTRA_CA_CERTS: missing });
    expect(runner.code).toBe(0);
    expect(runner.stderr).toContain(LOADED_CA);
  });

  it("runs through a symbolic link (as `npm install -g` installs it) and as JavaScript under node", () => {
    const version = (
      JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }
    ).version;
    const link = path.join(mkdtempSync(path.join(os.tmpdir(), "gantry-link-")), "gantry");
    symlinkSync(gantryBin, link);
    expect(execFileSync(link, ["--version"]).toString().trim()).toBe(version);
    expect(execFileSync(process.execPath, [gantryBin, "--version"]).toString().trim()).toBe(version);
  });
});
