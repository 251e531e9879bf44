import dagre from "@dagrejs/dagre";

/** What the layout needs of a job. */
export interface GraphJob {
  key: string;
  stage: string;
  needs: string[];
}

/** A placed job: top-left corner and size, in pixels. */
export interface PlacedNode {
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A `needs` edge as a polyline. */
export interface PlacedEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
  /** Both jobs are in one stage: the edge joins their right sides. */
  sameColumn: boolean;
}

/** The laid-out graph, plus each stage column's horizontal centre for its heading. */
export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  stages: { name: string; x: number }[];
  width: number;
  height: number;
}

/**
 * Lays out a pipeline with dagre, left to right: stages are columns, jobs are nodes, `needs`
 * are edges. Invisible anchor nodes between stages pin every job of a stage into the same
 * rank, so a column is a stage even where `needs` skip stages; dagre still orders the jobs
 * within a column to keep edges from crossing.
 */
export function layoutPipeline(
  stages: string[],
  jobs: GraphJob[],
  size = { width: 200, height: 48 },
): GraphLayout {
  if (jobs.length === 0) return { nodes: [], edges: [], stages: [], width: 0, height: 0 };
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 36, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const order = [...stages];
  for (const j of jobs) if (!order.includes(j.stage)) order.push(j.stage);
  const anchor = (i: number) => `\u0000stage:${i}`;
  for (let i = 0; i <= order.length; i++) {
    g.setNode(anchor(i), { width: 0, height: 0 });
    if (i > 0) g.setEdge(anchor(i - 1), anchor(i), { minlen: 2, weight: 0 });
  }
  const keys = new Set(jobs.map((j) => j.key));
  for (const j of jobs) {
    const col = order.indexOf(j.stage);
    g.setNode(j.key, { width: size.width, height: size.height });
    g.setEdge(anchor(col), j.key, { minlen: 1, weight: 0 });
    g.setEdge(j.key, anchor(col + 1), { minlen: 1, weight: 0 });
  }
  const edges: { from: string; to: string; sameColumn: boolean }[] = [];
  for (const j of jobs) {
    for (const n of j.needs) {
      const from = jobs.find((o) => o.key === n);
      // A need inside the same stage cannot be a left-to-right edge between columns: draw it, do not rank by it.
      if (!keys.has(n) || !from) continue;
      if (from.stage !== j.stage) g.setEdge(n, j.key, { minlen: 1, weight: 1 });
      edges.push({ from: n, to: j.key, sameColumn: from.stage === j.stage });
    }
  }
  dagre.layout(g);

  // Anchors are invisible: measure and shift by the jobs alone, so no empty margin remains.
  const raw = jobs.map((j) => {
    const n = g.node(j.key);
    return { key: j.key, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  });
  const minX = Math.min(...raw.map((n) => n.x));
  const minY = Math.min(...raw.map((n) => n.y));
  const pad = 8;
  const nodes: PlacedNode[] = raw.map((n) => ({ ...n, x: n.x - minX + pad, y: n.y - minY + pad }));
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const placedEdges: PlacedEdge[] = edges.map((e) => {
    const a = byKey.get(e.from);
    const b = byKey.get(e.to);
    if (!a || !b) return { ...e, points: [] };
    return {
      ...e,
      points: [
        { x: a.x + a.width, y: a.y + a.height / 2 },
        { x: e.sameColumn ? b.x + b.width : b.x, y: b.y + b.height / 2 },
      ],
    };
  });
  const stageX = order.map((name) => {
    const col = nodes.filter((n) => jobs.find((j) => j.key === n.key)?.stage === name);
    const x = col.length ? col.reduce((s, n) => s + n.x + n.width / 2, 0) / col.length : 0;
    return { name, x };
  });
  // Room on the right for an edge that bows out of the last column.
  const width = Math.max(0, ...nodes.map((n) => n.x + n.width + pad + 24));
  const height = Math.max(0, ...nodes.map((n) => n.y + n.height + pad));
  return { nodes, edges: placedEdges, stages: stageX.filter((s) => s.x > 0), width, height };
}
