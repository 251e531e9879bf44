import { useEffect, useState } from "react";
import { Link } from "wouter";
import type { Page, PipelineStatus, PipelineSummary } from "../../../src/server/api-types.ts";
import { get, seg } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { StatusBadge } from "../components/status.tsx";
import { formatAgo, formatDuration } from "../components/format.ts";
import { ErrorNote, PageTitle } from "../components/ui.tsx";

const STATUSES: PipelineStatus[] = [
  "pending",
  "running",
  "blocked",
  "success",
  "unstable",
  "failed",
  "canceled",
  "error",
];

/** A project's pipelines, newest first, filtered by status and ref, with "load more". */
export function Pipelines({ project }: { project: string }) {
  const [status, setStatus] = useState<PipelineStatus | "">("");
  const [ref, setRef] = useState("");
  const [refQuery, setRefQuery] = useState("");
  const q = new URLSearchParams({ limit: "20" });
  if (status) q.set("status", status);
  if (refQuery) q.set("ref", refQuery);
  const path = `/api/v1/projects/${seg(project)}/pipelines?${q.toString()}`;
  const { data, error } = useApi<Page<PipelineSummary>>(path, { pollMs: 3000 });
  const [more, setMore] = useState<PipelineSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>();
  useEffect(() => {
    setMore([]);
    setCursor(null);
  }, [path]);
  const next = cursor ?? data?.nextCursor ?? null;
  const items = [...(data?.items ?? []), ...more.filter((m) => !data?.items.some((d) => d.id === m.id))];

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Projects</Link> / <span>{project}</span>
      </nav>
      <PageTitle
        actions={
          <Link href={`/projects/${seg(project)}/run`} className="button primary" data-testid="run-pipeline">
            Run pipeline
          </Link>
        }
      >
        {project}
      </PageTitle>
      <form
        className="filters"
        role="search"
        aria-label="Filter pipelines"
        onSubmit={(e) => {
          e.preventDefault();
          setRefQuery(ref.trim());
        }}
      >
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setStatus(e.target.value as PipelineStatus | "")}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Ref{" "}
          <input
            value={ref}
            onChange={(e) => setRef(e.target.value)}
            placeholder="main"
            onBlur={() => setRefQuery(ref.trim())}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={error} />
      {data && items.length === 0 && (
        <p className="muted">No pipelines{status || refQuery ? " match these filters" : " yet"}.</p>
      )}
      {items.length > 0 && (
        <table className="list" aria-label="Pipelines">
          <thead>
            <tr>
              <th>Status</th>
              <th>Pipeline</th>
              <th>Ref</th>
              <th>Commit</th>
              <th>Trigger</th>
              <th>Duration</th>
              <th>By</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id} data-testid={`pipeline-row-${p.id}`}>
                <td data-label="Status">
                  <StatusBadge status={p.status} />
                </td>
                <td data-label="Pipeline">
                  <Link href={`/pipelines/${p.id}`}>#{p.id}</Link>
                </td>
                <td data-label="Ref" className="mono">
                  {p.ref}
                </td>
                <td data-label="Commit" className="mono" title={p.sha}>
                  {p.sha ? p.sha.slice(0, 8) : "—"}
                </td>
                <td data-label="Trigger">{p.trigger}</td>
                <td data-label="Duration">{formatDuration(p.durationMs)}</td>
                <td data-label="By">{p.createdBy}</td>
                <td data-label="Created" title={p.createdAt}>
                  {formatAgo(p.createdAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button
          type="button"
          onClick={() => {
            const mq = new URLSearchParams(q);
            mq.set("cursor", next);
            get<Page<PipelineSummary>>(`/api/v1/projects/${seg(project)}/pipelines?${mq.toString()}`)
              .then((p) => {
                setMore((m) => [...m, ...p.items]);
                setCursor(p.nextCursor ?? "");
              })
              .catch(setMoreError);
          }}
        >
          Load more
        </button>
      )}
      <ErrorNote error={moreError} />
    </>
  );
}
