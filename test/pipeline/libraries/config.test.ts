import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readLibrariesConfig } from "../../../src/pipeline/libraries/config.js";
import { writeTree } from "../jenkins/helpers.js";

function project(yml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gantry-libcfg-"));
  writeTree(dir, { ".gantry/libraries.yml": yml });
  return dir;
}

describe(".gantry/libraries.yml", () => {
  it("reads the list form and the map form; directories are relative to the project", () => {
    const dir = project(
      "libraries:\n  - name: a\n    source: ../a\n    defaultVersion: v1\n    implicit: true\n",
    );
    expect(readLibrariesConfig(dir)).toEqual({
      sources: [{ name: "a", source: path.resolve(dir, "../a"), defaultVersion: "v1", implicit: true }],
      diagnostics: [],
    });
    const map = project(
      "libraries:\n  b: https://git.example.com/b.git\n  c: { source: git@example.com:c.git, defaultVersion: main }\n",
    );
    expect(readLibrariesConfig(map).sources).toEqual([
      { name: "b", source: "https://git.example.com/b.git" },
      { name: "c", source: "git@example.com:c.git", defaultVersion: "main" },
    ]);
  });

  it("is optional", () => {
    expect(readLibrariesConfig(mkdtempSync(path.join(tmpdir(), "gantry-libcfg-")))).toEqual({
      sources: [],
      diagnostics: [],
    });
  });

  it("reports a wrong key and broken YAML at the file", () => {
    const bad = readLibrariesConfig(project("libraries:\n  - name: a\n    sauce: ../a\n"));
    expect(bad.diagnostics[0]).toMatchObject({
      severity: "error",
      code: "LIB-config",
      file: ".gantry/libraries.yml",
    });
    const broken = readLibrariesConfig(project("libraries: [\n"));
    expect(broken.diagnostics[0]).toMatchObject({ code: "LIB-config", line: 2 });
  });
});
