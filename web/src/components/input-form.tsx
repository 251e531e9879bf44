import { useState } from "react";
import type { ApproveRequest, JobSummary } from "../../../src/server/api-types.ts";
import { api } from "../api/client.ts";
import { ParamField } from "../pages/run-pipeline.tsx";
import { ErrorNote } from "./ui.tsx";

/** A job waiting for approval: its message, its parameters, approve (with its `ok` label) or reject. */
export function InputForm({ job, onDone }: { job: JobSummary; onDone: () => void }) {
  const input = job.input;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries((input?.parameters ?? []).map((p) => [p.name, p.default ?? p.choices?.[0] ?? ""])),
  );
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (!input) return null;
  const decide = (action: "approve" | "reject") => {
    setBusy(true);
    setError(undefined);
    const body: ApproveRequest = action === "approve" ? { params: values } : {};
    api("POST", `/api/v1/jobs/${job.id}/${action}`, body)
      .then(onDone)
      .catch(setError)
      .finally(() => setBusy(false));
  };
  return (
    <form
      className="panel input-form"
      aria-label={`Input for ${job.name}`}
      data-testid={`input-${job.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        decide("approve");
      }}
    >
      <p>
        <strong>{job.name}</strong> is waiting: {input.message}
        {input.submitter ? <span className="muted small"> (may approve: {input.submitter})</span> : null}
      </p>
      {input.parameters.map((p) => (
        <ParamField
          key={p.name}
          param={p}
          value={values[p.name] ?? ""}
          onChange={(v) => setValues({ ...values, [p.name]: v })}
        />
      ))}
      <div className="row">
        <button type="submit" className="primary" disabled={busy} data-testid={`approve-${job.name}`}>
          {input.ok || "Proceed"}
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => decide("reject")}
          data-testid={`reject-${job.name}`}
        >
          Reject
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
