import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const webSrc = path.join(root, "web/src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(p) ? [p] : [];
  });
}

describe("web/ layering", () => {
  it("takes only the API types from the server, as types (the UI talks to the REST API only)", () => {
    const violations: string[] = [];
    let typeImports = 0;
    for (const file of files(webSrc)) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+["'](\.[^"']+)["']/gm)) {
        const target = path.relative(root, path.resolve(path.dirname(file), m[2]!));
        if (target.startsWith(`web${path.sep}`)) continue;
        if (target === path.join("src", "server", "api-types.ts") && m[1]) typeImports++;
        else
          violations.push(`${path.relative(root, file)} imports ${m[2]}${m[1] ? "" : " (not import type)"}`);
      }
    }
    expect(violations).toEqual([]);
    expect(typeImports).toBeGreaterThan(5);
  });
});
