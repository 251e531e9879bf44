import { useState } from "react";
import type { Project, PutSecretRequest, Secret } from "../../../src/server/api-types.ts";
import { api, seg } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { formatAgo } from "../components/format.ts";
import { ActionButton, ErrorNote, PageTitle } from "../components/ui.tsx";

/** Secrets, global or per project. Values are write-only: the page can set them, never read them. */
export function Secrets() {
  const projects = useApi<Project[]>("/api/v1/projects");
  const [scope, setScope] = useState("");
  const base = scope ? `/api/v1/projects/${seg(scope)}/secrets` : "/api/v1/secrets";
  const { data, error, reload } = useApi<Secret[]>(base);
  const [form, setForm] = useState<{ name: string } & PutSecretRequest>({
    name: "",
    kind: "secret",
    value: "",
    protected: false,
  });
  const [formError, setFormError] = useState<unknown>();
  const [saved, setSaved] = useState("");
  return (
    <>
      <PageTitle>Secrets</PageTitle>
      <label className="inline-label">
        Scope{" "}
        <select value={scope} onChange={(e) => setScope(e.target.value)}>
          <option value="">global (every project)</option>
          {projects.data?.map((p) => (
            <option key={p.name} value={p.name}>
              project {p.name}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={error} />
      <table className="list" aria-label="Secrets">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Protected</th>
            <th>Updated</th>
            <th>
              <span className="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data?.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No secrets here yet.
              </td>
            </tr>
          )}
          {data?.map((s) => (
            <tr key={s.name}>
              <td data-label="Name" className="mono">
                {s.name}
              </td>
              <td data-label="Kind">{s.kind}</td>
              <td data-label="Protected">{s.protected ? "yes" : "no"}</td>
              <td data-label="Updated">{formatAgo(s.updatedAt)}</td>
              <td>
                <ActionButton
                  className="danger"
                  onAction={() => api("DELETE", `${base}/${seg(s.name)}`).then(reload)}
                  label={`Delete secret ${s.name}`}
                >
                  Delete
                </ActionButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="panel form-grid"
        aria-label="Set a secret"
        autoComplete="off"
        onSubmit={(e) => {
          e.preventDefault();
          setFormError(undefined);
          const { name, ...body } = form;
          api("PUT", `${base}/${seg(name.trim())}`, body)
            .then(() => {
              setSaved(name.trim());
              setForm({
                name: "",
                kind: form.kind,
                value: "",
                username: "",
                password: "",
                protected: form.protected,
              });
              reload();
            })
            .catch(setFormError);
        }}
      >
        <h2>Set a secret</h2>
        <p className="muted small">
          Values are stored encrypted and can never be read back; setting a name again replaces its value.
        </p>
        <label>
          Name{" "}
          <input
            required
            pattern="[A-Za-z_][A-Za-z0-9_.\-]*"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </label>
        <label>
          Kind{" "}
          <select
            value={form.kind}
            onChange={(e) => setForm({ ...form, kind: e.target.value as PutSecretRequest["kind"] })}
          >
            <option value="secret">secret</option>
            <option value="usernamePassword">username and password</option>
            <option value="file">file</option>
          </select>
        </label>
        {form.kind === "usernamePassword" ? (
          <>
            <label>
              Username{" "}
              <input
                value={form.username ?? ""}
                onChange={(e) => setForm({ ...form, username: e.target.value })}
              />
            </label>
            <label>
              Password{" "}
              <input
                type="password"
                autoComplete="new-password"
                value={form.password ?? ""}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
              />
            </label>
          </>
        ) : (
          <label>
            Value
            {form.kind === "file" ? (
              <textarea
                rows={4}
                value={form.value ?? ""}
                onChange={(e) => setForm({ ...form, value: e.target.value })}
                spellCheck={false}
              />
            ) : (
              <input
                type="password"
                autoComplete="new-password"
                value={form.value ?? ""}
                onChange={(e) => setForm({ ...form, value: e.target.value })}
              />
            )}
          </label>
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={form.protected ?? false}
            onChange={(e) => setForm({ ...form, protected: e.target.checked })}
          />{" "}
          Protected (default branch and tags only)
        </label>
        <div className="row">
          <button type="submit" className="primary">
            Save secret
          </button>
        </div>
        <ErrorNote error={formError} />
        {saved && (
          <p className="notice" role="status">
            Saved <span className="mono">{saved}</span>.
          </p>
        )}
      </form>
    </>
  );
}
