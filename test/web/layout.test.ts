import { describe, expect, it } from "vitest";
import { layoutPipeline, type GraphJob } from "../../web/src/graph/layout.js";

const jobs: GraphJob[] = [
  { key: "lint", stage: "test", needs: [] },
  { key: "build", stage: "build", needs: [] },
  { key: "unit", stage: "test", needs: ["build"] },
  { key: "e2e", stage: "test", needs: ["build"] },
  // Skips the test stage: still drawn in the deploy column.
  { key: "deploy", stage: "deploy", needs: ["build"] },
  { key: "notify", stage: "deploy", needs: ["unit", "e2e", "deploy"] },
];

describe("layoutPipeline", () => {
  const l = layoutPipeline(["build", "test", "deploy"], jobs, { width: 200, height: 48 });
  const at = (k: string) => l.nodes.find((n) => n.key === k)!;

  it("puts every job of a stage in one column, columns in stage order", () => {
    expect(new Set(["lint", "unit", "e2e"].map((k) => at(k).x)).size).toBe(1);
    expect(at("deploy").x).toBe(at("notify").x);
    expect(at("build").x).toBeLessThan(at("unit").x);
    expect(at("unit").x).toBeLessThan(at("deploy").x);
    expect(l.stages.map((s) => s.name)).toEqual(["build", "test", "deploy"]);
    expect(l.stages[1]!.x).toBe(at("unit").x + 100);
  });

  it("never overlaps two jobs of a column and fits them in the box", () => {
    const col = ["lint", "unit", "e2e"].map(at).sort((a, b) => a.y - b.y);
    for (let i = 1; i < col.length; i++) expect(col[i]!.y).toBeGreaterThanOrEqual(col[i - 1]!.y + 48);
    for (const n of l.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.y).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width).toBeLessThanOrEqual(l.width);
      expect(n.y + n.height).toBeLessThanOrEqual(l.height);
    }
  });

  it("draws one edge per need, from the right side of the needed job to the left of the job", () => {
    expect(l.edges).toHaveLength(6);
    const e = l.edges.find((x) => x.from === "build" && x.to === "deploy")!;
    expect(e.points[0]).toEqual({ x: at("build").x + 200, y: at("build").y + 24 });
    expect(e.points[1]).toEqual({ x: at("deploy").x, y: at("deploy").y + 24 });
  });

  it("joins the right sides of two jobs of one stage", () => {
    const same = layoutPipeline(
      ["s"],
      [
        { key: "a", stage: "s", needs: [] },
        { key: "b", stage: "s", needs: ["a"] },
      ],
    );
    const [e] = same.edges;
    expect(e?.sameColumn).toBe(true);
    const b = same.nodes.find((n) => n.key === "b")!;
    expect(e?.points[1]).toEqual({ x: b.x + b.width, y: b.y + b.height / 2 });
  });

  it("handles an empty pipeline and needs on unknown jobs", () => {
    expect(layoutPipeline(["a"], []).nodes).toEqual([]);
    expect(layoutPipeline(["a"], [{ key: "x", stage: "a", needs: ["ghost"] }]).edges).toEqual([]);
  });
});
