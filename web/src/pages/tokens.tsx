import { useState } from "react";
import type {
  CreateTokenRequest,
  CreateTokenResponse,
  Me,
  Token,
  TokenScope,
} from "../../../src/server/api-types.ts";
import { api } from "../api/client.ts";
import { useApi } from "../api/use-api.ts";
import { formatAgo } from "../components/format.ts";
import { ActionButton, ErrorNote, PageTitle } from "../components/ui.tsx";

/** API tokens: the caller's own (all of them for admins); a new token's value is shown once. */
export function Tokens() {
  const me = useApi<Me>("/api/v1/me");
  const { data, error, reload } = useApi<Token[]>("/api/v1/tokens");
  const [name, setName] = useState("");
  const [scope, setScope] = useState<TokenScope>("write");
  const [days, setDays] = useState("");
  const [created, setCreated] = useState<CreateTokenResponse>();
  const [formError, setFormError] = useState<unknown>();
  return (
    <>
      <PageTitle>Tokens</PageTitle>
      {me.data && (
        <p className="muted">
          Signed in as <strong>{me.data.user}</strong>
          {me.data.admin ? " (admin)" : ""} with scopes {me.data.scopes.join(", ")}.
        </p>
      )}
      <ErrorNote error={error} />
      <table className="list" aria-label="Tokens">
        <thead>
          <tr>
            <th>Name</th>
            <th>User</th>
            <th>Scopes</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>
              <span className="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data?.map((t) => (
            <tr key={t.id}>
              <td data-label="Name">{t.name}</td>
              <td data-label="User">{t.user}</td>
              <td data-label="Scopes">{t.scopes.join(", ")}</td>
              <td data-label="Expires">
                {t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : "never"}
              </td>
              <td data-label="Last used">{formatAgo(t.lastUsedAt)}</td>
              <td>
                <ActionButton
                  className="danger"
                  onAction={() => api("DELETE", `/api/v1/tokens/${t.id}`).then(reload)}
                  label={`Revoke token ${t.name}`}
                >
                  Revoke
                </ActionButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="panel form-grid"
        aria-label="Create a token"
        onSubmit={(e) => {
          e.preventDefault();
          setFormError(undefined);
          const body: CreateTokenRequest = {
            name: name.trim(),
            scopes: scope === "write" ? ["read", "write"] : ["read"],
          };
          if (days) body.expiresInDays = Number(days);
          api<CreateTokenResponse>("POST", "/api/v1/tokens", body)
            .then((r) => {
              setCreated(r);
              setName("");
              reload();
            })
            .catch(setFormError);
        }}
      >
        <h2>Create a token</h2>
        <label>
          Name <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="laptop" />
        </label>
        <label>
          Scope{" "}
          <select value={scope} onChange={(e) => setScope(e.target.value as TokenScope)}>
            <option value="write">read and write</option>
            <option value="read">read only</option>
          </select>
        </label>
        <label>
          Expires in days (empty: never){" "}
          <input type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <div className="row">
          <button type="submit" className="primary">
            Create token
          </button>
        </div>
        <ErrorNote error={formError} />
        {created && (
          <div className="notice" role="status">
            Token <strong>{created.info.name}</strong> created. Copy it now; it is not shown again:
            <pre className="mono">{created.token}</pre>
          </div>
        )}
      </form>
    </>
  );
}
