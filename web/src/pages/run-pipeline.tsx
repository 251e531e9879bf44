import { useEffect, useState } from "react";
import { Link, useLocation } from "wouter";
import type {
  CreatePipelineRequest,
  CreatePipelineResponse,
  Page,
  Parameter,
  PipelineDetail,
  PipelineSummary,
  Project,
} from "../../../src/server/api-types.ts";
import { api, get, seg } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { ErrorNote, PageTitle } from "../components/ui.tsx";

/**
 * Starts a pipeline with a ref, variables and the pipeline's declared parameters (taken
 * from the newest pipeline, since a file's parameters are known once it was compiled).
 */
export function RunPipeline({ project }: { project: string }) {
  const [, navigate] = useLocation();
  const proj = useApi<Project>(`/api/v1/projects/${seg(project)}`);
  const [ref, setRef] = useState("");
  const [vars, setVars] = useState("");
  const [extra, setExtra] = useState("");
  const [params, setParams] = useState<Record<string, string>>({});
  const [declared, setDeclared] = useState<Parameter[]>([]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let gone = false;
    get<Page<PipelineSummary>>(`/api/v1/projects/${seg(project)}/pipelines?limit=1`)
      .then(async (p) => {
        const last = p.items[0];
        if (!last) return;
        const d = await get<PipelineDetail>(`/api/v1/pipelines/${last.id}`);
        if (gone) return;
        setDeclared(d.parameters);
        setParams(Object.fromEntries(d.parameters.map((x) => [x.name, x.default ?? x.choices?.[0] ?? ""])));
      })
      .catch(() => undefined);
    return () => {
      gone = true;
    };
  }, [project]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const variables = keyValues(vars, "variable");
      const body: CreatePipelineRequest = {
        variables,
        params: { ...keyValues(extra, "parameter"), ...params },
      };
      if (ref.trim()) body.ref = ref.trim();
      const res = await api<CreatePipelineResponse>(
        "POST",
        `/api/v1/projects/${seg(project)}/pipelines`,
        body,
      );
      navigate(`/pipelines/${res.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Projects</Link> / <Link href={`/projects/${seg(project)}`}>{project}</Link> /{" "}
        <span>Run</span>
      </nav>
      <PageTitle>Run pipeline</PageTitle>
      <form className="panel form-grid" onSubmit={(e) => void submit(e)}>
        <label>
          Branch, tag or commit
          <input
            name="ref"
            value={ref}
            onChange={(e) => setRef(e.target.value)}
            placeholder={proj.data?.defaultBranch ?? "main"}
          />
        </label>
        {declared.length > 0 && (
          <fieldset>
            <legend>Parameters</legend>
            {declared.map((p) => (
              <ParamField
                key={p.name}
                param={p}
                value={params[p.name] ?? ""}
                onChange={(v) => setParams({ ...params, [p.name]: v })}
              />
            ))}
          </fieldset>
        )}
        <label>
          <span>
            Variables (one <code>KEY=value</code> a line)
          </span>
          <textarea
            name="variables"
            rows={4}
            value={vars}
            onChange={(e) => setVars(e.target.value)}
            spellCheck={false}
          />
        </label>
        <details>
          <summary>Other parameters</summary>
          <label>
            <span>
              Parameters the form above does not list (one <code>NAME=value</code> a line; a first run of a
              pipeline file shows none until it has been compiled once)
            </span>
            <textarea
              name="parameters"
              rows={3}
              value={extra}
              onChange={(e) => setExtra(e.target.value)}
              spellCheck={false}
            />
          </label>
        </details>
        <div className="row">
          <button type="submit" className="primary" disabled={busy} data-testid="run-submit">
            {busy ? "Starting…" : "Run pipeline"}
          </button>
        </div>
        <ErrorNote error={error} />
      </form>
    </>
  );
}

/** One input for a declared parameter (also used by the approval form). */
export function ParamField({
  param,
  value,
  onChange,
}: {
  param: Parameter;
  value: string;
  onChange: (v: string) => void;
}) {
  const label = (
    <span>
      {param.name}
      {param.description ? <span className="muted small"> — {param.description}</span> : null}
    </span>
  );
  switch (param.type) {
    case "boolean":
      return (
        <label className="check">
          <input
            type="checkbox"
            checked={value === "true"}
            onChange={(e) => onChange(String(e.target.checked))}
          />{" "}
          {label}
        </label>
      );
    case "choice":
      return (
        <label>
          {label}
          <select value={value} onChange={(e) => onChange(e.target.value)}>
            {(param.choices ?? []).map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
      );
    case "text":
      return (
        <label>
          {label}
          <textarea rows={3} value={value} onChange={(e) => onChange(e.target.value)} />
        </label>
      );
    default:
      return (
        <label>
          {label}
          <input
            type={param.type === "password" ? "password" : "text"}
            name={param.name}
            value={value}
            onChange={(e) => onChange(e.target.value)}
          />
        </label>
      );
  }
}

/** Parses `KEY=value` lines; blank lines are skipped. */
function keyValues(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const eq = t.indexOf("=");
    if (eq <= 0) throw new Error(`${what} line "${t}" must be KEY=value`);
    out[t.slice(0, eq).trim()] = t.slice(eq + 1);
  }
  return out;
}
