import fs from "node:fs";
import path from "node:path";

/** The repository root and the shared corpora beside it. */
export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const corpusDir = path.resolve(repoRoot, "../shared/corpus");

/** Reads a JSON-lines corpus file. */
export function readJsonl<T>(name: string): T[] {
  return fs
    .readFileSync(path.join(corpusDir, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

/** Agreement per check: how often Gantry's verdict equals the expected one. */
export class Agreement {
  private readonly per = new Map<string, { n: number; ok: number; misses: string[] }>();

  add(check: string, expected: boolean, got: boolean, sample: string): void {
    const p = this.per.get(check) ?? { n: 0, ok: 0, misses: [] };
    this.per.set(check, p);
    p.n++;
    if (expected === got) p.ok++;
    else if (p.misses.length < 3)
      p.misses.push(`${expected ? "missed" : "false alarm"}: ${sample.replace(/\n/g, "⏎").slice(0, 120)}`);
  }

  get overall(): { n: number; ok: number; rate: number } {
    let n = 0;
    let ok = 0;
    for (const p of this.per.values()) {
      n += p.n;
      ok += p.ok;
    }
    return { n, ok, rate: n === 0 ? 0 : ok / n };
  }

  rows(): { check: string; n: number; rate: number; misses: string[] }[] {
    return [...this.per]
      .map(([check, p]) => ({ check, n: p.n, rate: p.ok / p.n, misses: p.misses }))
      .sort((a, b) => a.check.localeCompare(b.check));
  }

  /** Prints one line per check and the overall rate, as the docs quote them. */
  print(title: string): void {
    const o = this.overall;
    const lines = this.rows().map(
      (r) =>
        `  ${r.check.padEnd(58)} ${r.rate.toFixed(2)} (n=${r.n})${r.misses.length && r.rate < 1 ? `  ${r.misses[0]}` : ""}`,
    );
    console.log(
      `${title}: agreement ${o.rate.toFixed(3)} over ${o.n} cases, ${this.rows().length} checks\n${lines.join("\n")}`,
    );
  }
}
