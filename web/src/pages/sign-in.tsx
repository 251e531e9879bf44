import { useState } from "react";
import type { Me } from "../../../src/server/api-types.ts";
import { get } from "../api/client.ts";
import { setToken } from "../api/token.ts";
import { ErrorNote } from "../components/ui.tsx";

/** Sign in by pasting an API token (`gantry server` prints the first admin token once). */
export function SignIn() {
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const res = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${value.trim()}` } });
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
        throw new Error(body?.error?.message ?? `sign-in failed: ${res.status}`);
      }
      setToken(value.trim());
      await get<Me>("/api/v1/me");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="sign-in">
      <h1>
        <span className="logo" aria-hidden="true">
          G
        </span>{" "}
        Sign in to Gantry
      </h1>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          autoFocus
          required
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="gty_…"
        />
        <p className="hint">
          Use a token from <code>gantry server</code>&apos;s first start (or{" "}
          <code>GANTRY_BOOTSTRAP_TOKEN</code>), or one an admin created for you.
        </p>
        <button type="submit" className="primary" disabled={busy || !value.trim()}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <ErrorNote error={error} />
      </form>
    </div>
  );
}
