import { useState } from "react";
import { Link } from "wouter";
import type { CreateProjectRequest, Project } from "../../../src/server/api-types.ts";
import { api, seg } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { StatusBadge } from "../components/status.tsx";
import { formatAgo } from "../components/format.ts";
import { ErrorNote, PageTitle } from "../components/ui.tsx";

/** Projects the user can see, with the newest pipeline of each. */
export function Projects() {
  const { data, error, reload } = useApi<Project[]>("/api/v1/projects", { pollMs: 5000 });
  const [adding, setAdding] = useState(false);
  return (
    <>
      <PageTitle
        actions={
          <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>
            New project
          </button>
        }
      >
        Projects
      </PageTitle>
      {adding && <NewProject onDone={() => (setAdding(false), reload())} />}
      <ErrorNote error={error} />
      {data && data.length === 0 && <p className="muted">No projects yet. Create one with “New project”.</p>}
      <ul className="cards" aria-label="Projects">
        {data?.map((p) => (
          <li key={p.name} className="card">
            <Link href={`/projects/${seg(p.name)}`} className="card-title">
              {p.name}
            </Link>
            <div className="muted small mono">{p.repo}</div>
            <div className="row">
              {p.lastPipeline ? (
                <>
                  <Link href={`/pipelines/${p.lastPipeline.id}`} aria-label={`Pipeline ${p.lastPipeline.id}`}>
                    <StatusBadge status={p.lastPipeline.status} />
                  </Link>
                  <span className="muted small">
                    #{p.lastPipeline.id} on {p.lastPipeline.ref} · {formatAgo(p.lastPipeline.createdAt)}
                  </span>
                </>
              ) : (
                <span className="muted small">no pipelines yet</span>
              )}
              {p.role && <span className="tag">{p.role}</span>}
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}

function NewProject({ onDone }: { onDone: () => void }) {
  const [form, setForm] = useState<CreateProjectRequest>({ name: "", repo: "" });
  const [error, setError] = useState<unknown>();
  return (
    <form
      className="panel form-grid"
      onSubmit={(e) => {
        e.preventDefault();
        api("POST", "/api/v1/projects", {
          ...form,
          ...(form.defaultBranch ? {} : { defaultBranch: undefined }),
        })
          .then(onDone)
          .catch(setError);
      }}
    >
      <label>
        Name
        <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label>
        Repository (git URL or server path)
        <input required value={form.repo} onChange={(e) => setForm({ ...form, repo: e.target.value })} />
      </label>
      <label>
        Default branch
        <input
          placeholder="main"
          value={form.defaultBranch ?? ""}
          onChange={(e) => setForm({ ...form, defaultBranch: e.target.value || undefined })}
        />
      </label>
      <label>
        Pipeline file (empty: gantry.yml, .gitlab-ci.yml or Jenkinsfile, found by itself)
        <input
          value={form.pipelineFile ?? ""}
          onChange={(e) => setForm({ ...form, pipelineFile: e.target.value || undefined })}
        />
      </label>
      <div className="row">
        <button type="submit" className="primary">
          Create
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
