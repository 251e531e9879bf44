import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadBundle } from "../../src/cli/bundle-loader.js";
import { gantry, project, repoRoot } from "./helpers.js";

describe("single-file CLI with V8 code cache", () => {
  it("loads a CommonJS file, writes a code cache that the next process accepts, survives a bad one", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-bundle-"));
    const file = path.join(dir, "cli.cjs");
    writeFileSync(
      file,
      `const path = require("node:path");
       exports.main = async (argv) => argv.length + path.basename(__filename).length;
       exports.start = async () => {};`,
    );
    // Each load in a process of its own: V8 would reuse its in-process compilation instead.
    const load = (write: boolean) => {
      const code = `import { loadBundle } from ${JSON.stringify(path.join(repoRoot, "dist/cli/bundle-loader.js"))};
        const b = loadBundle(${JSON.stringify(file)}, { useCache: true });
        const wrote = ${write} ? b.writeCache() : false;
        console.log(JSON.stringify({ cached: b.cached, wrote, main: await b.cli.main(["a", "b"]) }));`;
      return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code]).toString()) as {
        cached: boolean;
        wrote: boolean;
        main: number;
      };
    };
    expect(load(true)).toEqual({ cached: false, wrote: true, main: 2 + "cli.cjs".length });
    expect(existsSync(`${file}.cache`)).toBe(true);
    expect(load(false).cached).toBe(true);
    writeFileSync(`${file}.cache`, "not a V8 code cache");
    expect(load(false)).toEqual({ cached: false, wrote: false, main: 2 + "cli.cjs".length });
  });

  it("the build's dist/gantry.cjs has a code cache this Node accepts", () => {
    const loaded = loadBundle(path.join(repoRoot, "dist/gantry.cjs"), { useCache: true });
    expect(loaded.cached).toBe(true);
    expect(typeof loaded.cli.main).toBe("function");
  });

  it("runs a pipeline the same from the bundle and from the separate modules", async () => {
    const files = {
      ".gitlab-ci.yml": `build:\n  stage: build\n  script: [mkdir -p out, echo built > out/a.txt]\n  artifacts: { paths: [out/] }\ntest:\n  stage: test\n  script: [cat out/a.txt]\n`,
    };
    const bundled = await gantry(["run"], project(files));
    const modules = await gantry(["run"], project(files), { GANTRY_NO_BUNDLE: "1" });
    expect(bundled.code).toBe(0);
    expect(modules.code).toBe(0);
    const lines = (s: string) => s.split("\n").filter((l) => l.includes(" > "));
    expect(lines(bundled.stdout)).toEqual(lines(modules.stdout));
    expect(lines(bundled.stdout)).toContain("test  > built");
  });
});
