import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const src = path.join(root, "src");

/** The import table from docs/architecture.md: folder → folders it may import. */
function rules(): Map<string, Set<string>> {
  const md = readFileSync(path.join(root, "docs/architecture.md"), "utf8");
  const out = new Map<string, Set<string>>();
  for (const line of md.split("\n")) {
    const m = /^\| `([a-z]+)` \| (.*) \|$/.exec(line);
    if (!m) continue;
    const allowed = m[2]!.trim() === "—" ? [] : m[2]!.split(",").map((s) => s.trim());
    out.set(m[1]!, new Set(allowed));
  }
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("layering", () => {
  it("has a rule for every folder under src/", () => {
    const table = rules();
    const folders = readdirSync(src).filter((f) => statSync(path.join(src, f)).isDirectory());
    expect(folders.filter((f) => !table.has(f))).toEqual([]);
  });

  it("every relative import follows docs/architecture.md", () => {
    const table = rules();
    const violations: string[] = [];
    for (const file of files(src)) {
      const from = path.relative(src, file).split(path.sep)[0]!;
      const allowed = table.get(from) ?? new Set();
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)) {
        const target = path.relative(src, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
        if (target !== from && !allowed.has(target))
          violations.push(`${path.relative(root, file)} imports ${m[1]} (${from} → ${target})`);
      }
    }
    expect(violations).toEqual([]);
  });
});
