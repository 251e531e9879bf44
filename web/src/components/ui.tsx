import { useState } from "react";
import { ApiFailure } from "../api/client.ts";

/** A readable message for anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiFailure) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error);
}

/** An error from the API or the network, shown in place. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const msg = errorMessage(error);
  return (
    <p className="error" role="alert">
      {msg}
    </p>
  );
}

/**
 * A button that runs an async action, disables itself while it runs, and shows what went
 * wrong next to it.
 */
export function ActionButton({
  onAction,
  children,
  className,
  label,
  testId,
}: {
  onAction: () => Promise<unknown>;
  children: React.ReactNode;
  className?: string;
  label?: string;
  testId?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <>
      <button
        type="button"
        className={className}
        disabled={busy}
        aria-label={label}
        data-testid={testId}
        onClick={(e) => {
          e.stopPropagation();
          setBusy(true);
          setError(undefined);
          onAction()
            .catch((err: unknown) => setError(err))
            .finally(() => setBusy(false));
        }}
      >
        {children}
      </button>
      {error ? (
        <span className="error inline" role="alert">
          {errorMessage(error)}
        </span>
      ) : null}
    </>
  );
}

/** A titled page section. */
export function PageTitle({ children, actions }: { children: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <div className="page-title">
      <h1>{children}</h1>
      {actions ? <div className="actions">{actions}</div> : null}
    </div>
  );
}
