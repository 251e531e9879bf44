import { useCallback, useEffect, useState } from "react";
import { Link } from "wouter";
import type { Artifact, JobDetail, TestSummary } from "../../../src/server/api-types.ts";
import { download, seg } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { InputForm } from "../components/input-form.tsx";
import { JobAction } from "../components/job-actions.tsx";
import { StatusBadge, isActive } from "../components/status.tsx";
import { formatBytes, formatDuration, liveDuration } from "../components/format.ts";
import { ErrorNote, PageTitle } from "../components/ui.tsx";
import LogViewer from "../log/log-viewer.tsx";

/** A job: its facts, actions, approval form, live log, artifacts and test report. */
export default function JobPage({ id }: { id: number }) {
  const [pollMs, setPollMs] = useState(2000);
  const { data: job, error, reload } = useApi<JobDetail>(`/api/v1/jobs/${id}`, { pollMs });
  const active = job ? isActive(job.status) : true;
  useEffect(() => setPollMs(active ? 2000 : 10_000), [active]);
  const onStatus = useCallback(() => reload(), [reload]);
  const finishedKey = job && !active ? `${job.attempt}` : "";
  const artifacts = useApi<Artifact[]>(finishedKey ? `/api/v1/jobs/${id}/artifacts?a=${finishedKey}` : null);
  const tests = useApi<TestSummary>(finishedKey ? `/api/v1/jobs/${id}/tests?a=${finishedKey}` : null);

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Projects</Link> /{" "}
        {job ? <Link href={`/projects/${seg(job.project)}`}>{job.project}</Link> : "…"} /{" "}
        {job ? <Link href={`/pipelines/${job.pipelineId}`}>#{job.pipelineId}</Link> : "…"} /{" "}
        <span>{job?.name ?? id}</span>
      </nav>
      <PageTitle actions={job && <JobAction job={job} onDone={reload} />}>
        {job?.name ?? `Job ${id}`} {job && <StatusBadge status={job.status} />}
      </PageTitle>
      <ErrorNote error={error} />
      {job && (
        <>
          <dl className="facts">
            <div>
              <dt>Stage</dt>
              <dd>{job.stage}</dd>
            </div>
            <div>
              <dt>Attempt</dt>
              <dd>{job.attempt}</dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{formatDuration(liveDuration(job.durationMs, job.startedAt, job.status === "running"))}</dd>
            </div>
            <div>
              <dt>Runner</dt>
              <dd>{job.runner ?? "—"}</dd>
            </div>
            {job.exitCode !== undefined && job.exitCode !== null && (
              <div>
                <dt>Exit code</dt>
                <dd>{job.exitCode}</dd>
              </div>
            )}
            {job.reason && (
              <div>
                <dt>Reason</dt>
                <dd>{job.reason}</dd>
              </div>
            )}
          </dl>
          {job.status === "input" && <InputForm job={job} onDone={reload} />}
          {tests.data && tests.data.total > 0 && <Tests summary={tests.data} />}
          {artifacts.data && artifacts.data.length > 0 && (
            <section aria-label="Artifacts" className="panel">
              <h2>Artifacts</h2>
              <ul className="plain">
                {artifacts.data.map((a) => (
                  <li key={a.path}>
                    {a.expired ? (
                      <span className="muted">{a.path}</span>
                    ) : (
                      <button
                        type="button"
                        className="link"
                        onClick={() => void download(a.url, a.path.split("/").pop() ?? "artifact")}
                      >
                        {a.path}
                      </button>
                    )}{" "}
                    <span className="muted small">
                      {formatBytes(a.size)}
                      {a.expired
                        ? " · expired"
                        : a.expiresAt
                          ? ` · expires ${new Date(a.expiresAt).toLocaleString()}`
                          : ""}
                    </span>
                  </li>
                ))}
              </ul>
            </section>
          )}
          <LogViewer key={`${id}-${job.attempt}`} jobId={id} live={active} onStatus={onStatus} />
        </>
      )}
    </>
  );
}

function Tests({ summary }: { summary: TestSummary }) {
  const failed = summary.suites.flatMap((s) =>
    s.cases.filter((c) => c.status === "failed" || c.status === "error"),
  );
  return (
    <section aria-label="Test report" className="panel" data-testid="tests">
      <h2>Tests</h2>
      <p>
        <strong>{summary.total}</strong> tests: <span className="s-success">{summary.passed} passed</span>,{" "}
        <span className="s-failed">{summary.failed} failed</span>, {summary.errors} errors, {summary.skipped}{" "}
        skipped · {formatDuration(summary.durationMs)}
      </p>
      {failed.length > 0 && (
        <ul className="plain">
          {failed.slice(0, 50).map((c, i) => (
            <li key={i}>
              <span className="s-failed">✕</span> <span className="mono">{c.classname}</span> {c.name}
              {c.message ? <pre className="small">{c.message}</pre> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
