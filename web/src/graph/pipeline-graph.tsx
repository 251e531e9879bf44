import { useMemo } from "react";
import { Link } from "wouter";
import type { JobSummary } from "../../../src/server/api-types.ts";
import { StatusIcon } from "../components/status.tsx";
import { formatDuration, liveDuration } from "../components/format.ts";
import { layoutPipeline } from "./layout.ts";

const NODE = { width: 210, height: 50 };
const HEAD = 28;

/** Props of {@link PipelineGraph}. */
export interface PipelineGraphProps {
  stages: string[];
  jobs: JobSummary[];
  /** Renders a job's action button (retry, play...) inside its node. */
  action?: (job: JobSummary) => React.ReactNode;
}

/** Stages as columns, jobs as nodes, `needs` as edges; each node links to its job page. */
export default function PipelineGraph({ stages, jobs, action }: PipelineGraphProps) {
  const shape = jobs.map((j) => `${j.key}|${j.stage}|${j.needs.join(",")}`).join(";");
  // Layout depends only on the graph's shape, not on statuses, so polling does not re-run dagre.
  const layout = useMemo(
    () =>
      layoutPipeline(
        stages,
        jobs.map((j) => ({ key: j.key, stage: j.stage, needs: j.needs })),
        NODE,
      ),
    [shape, stages.join("\n")],
  );
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const dur = (j: JobSummary) => liveDuration(j.durationMs, j.startedAt, j.status === "running");
  return (
    <div className="graph-scroll" data-testid="pipeline-graph">
      <div className="graph" style={{ width: layout.width, height: layout.height + HEAD }}>
        {layout.stages.map((s) => (
          <h3 key={s.name} className="stage-title" style={{ left: s.x - NODE.width / 2, width: NODE.width }}>
            {s.name}
          </h3>
        ))}
        <svg className="edges" width={layout.width} height={layout.height + HEAD} aria-hidden="true">
          {layout.edges.map((e) => {
            const [a, b] = e.points;
            if (!a || !b) return null;
            const mx = (a.x + b.x) / 2;
            // Within one column the edge bows out to the right instead of crossing the nodes.
            const d = e.sameColumn
              ? `M${a.x},${a.y + HEAD} C${a.x + 28},${a.y + HEAD} ${b.x + 28},${b.y + HEAD} ${b.x},${b.y + HEAD}`
              : `M${a.x},${a.y + HEAD} C${mx},${a.y + HEAD} ${mx},${b.y + HEAD} ${b.x},${b.y + HEAD}`;
            const done = byKey.get(e.from)?.status === "success";
            return <path key={`${e.from}->${e.to}`} d={d} className={done ? "edge done" : "edge"} />;
          })}
        </svg>
        {layout.nodes.map((n) => {
          const job = byKey.get(n.key);
          if (!job) return null;
          return (
            <div
              key={n.key}
              className={`node status-${job.status}`}
              style={{ left: n.x, top: n.y + HEAD, width: n.width, height: n.height }}
              data-testid={`job-node-${job.name}`}
              data-status={job.status}
            >
              <StatusIcon status={job.status} />
              <Link href={`/jobs/${job.id}`} className="node-link">
                <span className="node-name" title={job.name}>
                  {job.name}
                </span>
                <span className="node-meta">
                  {job.status}
                  {dur(job) !== null ? ` · ${formatDuration(dur(job))}` : ""}
                  {job.attempt > 1 ? ` · #${job.attempt}` : ""}
                </span>
              </Link>
              {action?.(job)}
            </div>
          );
        })}
      </div>
    </div>
  );
}
