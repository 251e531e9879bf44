import { lazy, Suspense, useEffect, useState } from "react";
import { Link } from "wouter";
import type { PipelineDetail } from "../../../src/server/api-types.ts";
import { api, seg } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { InputForm } from "../components/input-form.tsx";
import { JobAction } from "../components/job-actions.tsx";
import { StatusBadge, StatusIcon, isActive } from "../components/status.tsx";
import { formatAgo, formatDuration, liveDuration } from "../components/format.ts";
import { ActionButton, ErrorNote, PageTitle } from "../components/ui.tsx";

// dagre is the largest dependency: keep it out of the first download, but fetch it as soon as
// the app is idle so that opening a pipeline later does not wait for it.
const loadGraph = () => import("../graph/pipeline-graph.tsx");
const PipelineGraph = lazy(loadGraph);
if (typeof window !== "undefined") window.setTimeout(() => void loadGraph(), 1500);

/** One pipeline: its graph with live status (polled), approvals, actions and a job list. */
export function PipelinePage({ id }: { id: number }) {
  // Poll fast while something runs, slowly once everything is done (a retry may restart it).
  const [pollMs, setPollMs] = useState(1000);
  const { data: p, error, reload } = useApi<PipelineDetail>(`/api/v1/pipelines/${id}`, { pollMs });
  const active = p ? isActive(p.status) || p.jobs.some((j) => isActive(j.status)) : true;
  useEffect(() => setPollMs(active ? 1000 : 5000), [active]);
  const waiting = p?.jobs.filter((j) => j.status === "input" && j.input) ?? [];
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Projects</Link> /{" "}
        {p ? <Link href={`/projects/${seg(p.project)}`}>{p.project}</Link> : "…"} / <span>#{id}</span>
      </nav>
      <PageTitle
        actions={
          p && (
            <>
              {active && (
                <ActionButton
                  className="danger"
                  onAction={() => api("POST", `/api/v1/pipelines/${id}/cancel`).then(reload)}
                  testId="pipeline-cancel"
                >
                  Cancel
                </ActionButton>
              )}
              {!active && ["failed", "canceled", "unstable", "error"].includes(p.status) && (
                <ActionButton
                  onAction={() => api("POST", `/api/v1/pipelines/${id}/retry`).then(reload)}
                  testId="pipeline-retry"
                >
                  Retry failed
                </ActionButton>
              )}
            </>
          )
        }
      >
        Pipeline #{id} {p && <StatusBadge status={p.status} />}
      </PageTitle>
      <ErrorNote error={error} />
      {p && (
        <>
          <dl className="facts">
            <div>
              <dt>Ref</dt>
              <dd className="mono">{p.ref}</dd>
            </div>
            <div>
              <dt>Commit</dt>
              <dd className="mono" title={p.sha}>
                {p.sha ? p.sha.slice(0, 12) : "—"}
              </dd>
            </div>
            <div>
              <dt>Trigger</dt>
              <dd>{p.trigger}</dd>
            </div>
            <div>
              <dt>By</dt>
              <dd>{p.createdBy}</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd title={p.startedAt ?? ""}>{formatAgo(p.startedAt ?? p.createdAt)}</dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd data-testid="pipeline-duration">
                {formatDuration(liveDuration(p.durationMs, p.startedAt, active))}
              </dd>
            </div>
          </dl>
          {p.error && (
            <p className="error" role="alert">
              {p.error}
            </p>
          )}
          {p.diagnostics.length > 0 && (
            <ul className="diagnostics" aria-label="Diagnostics">
              {p.diagnostics.map((d, i) => (
                <li key={i} className={`diag-${d.severity}`}>
                  <span className="mono">
                    {d.file}:{d.line}:{d.column}
                  </span>{" "}
                  {d.severity} {d.code}: {d.message}
                  {d.hint ? <div className="muted small">{d.hint}</div> : null}
                </li>
              ))}
            </ul>
          )}
          {waiting.map((j) => (
            <InputForm key={`${j.id}-${j.attempt}`} job={j} onDone={reload} />
          ))}
          {p.jobs.length > 0 && (
            <Suspense fallback={<p className="muted">Drawing the graph…</p>}>
              <PipelineGraph
                stages={p.stages}
                jobs={p.jobs}
                action={(j) => <JobAction job={j} onDone={reload} compact />}
              />
            </Suspense>
          )}
          <h2>Jobs</h2>
          <table className="list" aria-label="Jobs">
            <thead>
              <tr>
                <th>Status</th>
                <th>Job</th>
                <th>Stage</th>
                <th>Duration</th>
                <th>Attempt</th>
                <th>Note</th>
                <th>
                  <span className="sr-only">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {p.jobs.map((j) => (
                <tr key={j.id}>
                  <td data-label="Status">
                    <StatusIcon status={j.status} /> {j.status}
                  </td>
                  <td data-label="Job">
                    <Link href={`/jobs/${j.id}`}>{j.name}</Link>
                    {j.allowFailure ? <span className="tag">allowed to fail</span> : null}
                  </td>
                  <td data-label="Stage">{stagePath(j.parents, j.stage)}</td>
                  <td data-label="Duration">
                    {formatDuration(liveDuration(j.durationMs, j.startedAt, j.status === "running"))}
                  </td>
                  <td data-label="Attempt">{j.attempt}</td>
                  <td data-label="Note" className="muted small">
                    {j.reason ?? (j.exitCode ? `exit ${j.exitCode}` : "")}
                  </td>
                  <td>
                    <JobAction job={j} onDone={reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

/** `Outer › Inner` for nested Jenkins stages; the plain stage name otherwise. */
function stagePath(parents: string[] | undefined, stage: string): string {
  const path = [...(parents ?? [])];
  if (path.at(-1) !== stage) path.push(stage);
  return path.join(" › ");
}
