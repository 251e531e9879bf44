import { useState } from "react";
import { Link } from "wouter";
import type { CreateRunnerResponse, Runner } from "../../../src/server/api-types.ts";
import { api } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { formatAgo } from "../components/format.ts";
import { ActionButton, ErrorNote, PageTitle } from "../components/ui.tsx";

/** Runners: online state, labels, executors and the jobs they hold; admins register new ones. */
export function Runners() {
  const { data, error, reload } = useApi<Runner[]>("/api/v1/runners", { pollMs: 5000 });
  const [name, setName] = useState("");
  const [labels, setLabels] = useState("");
  const [created, setCreated] = useState<CreateRunnerResponse>();
  const [formError, setFormError] = useState<unknown>();
  return (
    <>
      <PageTitle>Runners</PageTitle>
      <ErrorNote error={error} />
      <table className="list" aria-label="Runners">
        <thead>
          <tr>
            <th>Name</th>
            <th>State</th>
            <th>Labels</th>
            <th>Executors</th>
            <th>Current jobs</th>
            <th>Last seen</th>
            <th>
              <span className="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data?.map((r) => (
            <tr key={r.id} data-testid={`runner-${r.name}`}>
              <td data-label="Name">
                {r.name} {r.builtin ? <span className="tag">built-in</span> : null}
              </td>
              <td data-label="State">
                <span className={r.online ? "s-success" : "muted"}>
                  {r.online ? "● online" : "○ offline"}
                </span>
              </td>
              <td data-label="Labels">
                {r.labels.length ? (
                  r.labels.map((l) => (
                    <span key={l} className="tag">
                      {l}
                    </span>
                  ))
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td data-label="Executors">{r.executors.join(", ") || "—"}</td>
              <td data-label="Current jobs">
                {r.currentJobs.length
                  ? r.currentJobs.map((j) => (
                      <Link key={j} href={`/jobs/${j}`} className="tag">
                        job {j}
                      </Link>
                    ))
                  : "idle"}
              </td>
              <td data-label="Last seen">{formatAgo(r.lastSeenAt)}</td>
              <td>
                {!r.builtin && (
                  <ActionButton
                    className="danger"
                    onAction={() => api("DELETE", `/api/v1/runners/${r.id}`).then(reload)}
                    label={`Remove runner ${r.name}`}
                  >
                    Remove
                  </ActionButton>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="panel form-grid"
        aria-label="Register a runner"
        onSubmit={(e) => {
          e.preventDefault();
          setFormError(undefined);
          const body = {
            name: name.trim(),
            labels: labels
              .split(",")
              .map((l) => l.trim())
              .filter(Boolean),
          };
          api<CreateRunnerResponse>("POST", "/api/v1/runners", body)
            .then((r) => {
              setCreated(r);
              setName("");
              setLabels("");
              reload();
            })
            .catch(setFormError);
        }}
      >
        <h2>Register a runner</h2>
        <label>
          Name <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Labels (comma-separated){" "}
          <input value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="linux, docker" />
        </label>
        <div className="row">
          <button type="submit" className="primary">
            Register
          </button>
        </div>
        <ErrorNote error={formError} />
        {created && (
          <div className="notice" role="status">
            Runner <strong>{created.runner.name}</strong> registered. Its token is shown only now:
            <pre className="mono">
              gantry runner --server {window.location.origin} --token {created.token}
            </pre>
          </div>
        )}
      </form>
    </>
  );
}
