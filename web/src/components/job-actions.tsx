import type { JobSummary } from "../../../src/server/api-types.ts";
import { api } from "../api/client.ts";
import { ActionButton } from "./ui.tsx";

/** The one action that fits a job's state: play a manual job, retry a finished one, cancel a live one. */
export function JobAction({
  job,
  onDone,
  compact,
}: {
  job: JobSummary;
  onDone: () => void;
  compact?: boolean;
}) {
  const post = (action: string) => async () => {
    await api("POST", `/api/v1/jobs/${job.id}/${action}`);
    onDone();
  };
  if (job.status === "manual")
    return (
      <ActionButton
        className="icon-btn"
        onAction={post("play")}
        label={`Play ${job.name}`}
        testId={`play-${job.name}`}
      >
        {compact ? "▶" : "▶ Play"}
      </ActionButton>
    );
  if (["failed", "canceled", "unstable", "success"].includes(job.status))
    return (
      <ActionButton
        className="icon-btn"
        onAction={post("retry")}
        label={`Retry ${job.name}`}
        testId={`retry-${job.name}`}
      >
        {compact ? "↻" : "↻ Retry"}
      </ActionButton>
    );
  if (["running", "waiting", "created"].includes(job.status))
    return (
      <ActionButton
        className="icon-btn"
        onAction={post("cancel")}
        label={`Cancel ${job.name}`}
        testId={`cancel-${job.name}`}
      >
        {compact ? "■" : "■ Cancel"}
      </ActionButton>
    );
  return null;
}
