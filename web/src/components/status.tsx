import type { JobStatus, PipelineStatus } from "../../../src/server/api-types.ts";

type Status = JobStatus | PipelineStatus;

const GLYPH: Record<Status, string> = {
  created: "○",
  pending: "○",
  waiting: "◔",
  running: "◐",
  blocked: "‖",
  input: "‖",
  success: "✓",
  unstable: "!",
  failed: "✕",
  error: "✕",
  canceled: "⊘",
  skipped: "»",
  manual: "▶",
};

/** A coloured status glyph with a text label for screen readers. */
export function StatusIcon({ status }: { status: Status }) {
  return (
    <span className={`status-icon s-${status}`} role="img" aria-label={status} title={status}>
      {GLYPH[status] ?? "?"}
    </span>
  );
}

/** A status pill: glyph and word. */
export function StatusBadge({ status }: { status: Status }) {
  return (
    <span className={`badge s-${status}`} data-status={status}>
      <span aria-hidden="true">{GLYPH[status] ?? "?"}</span> {status}
    </span>
  );
}

/** Whether a job or pipeline may still change. */
export function isActive(status: Status): boolean {
  return ["created", "pending", "waiting", "running", "blocked", "input"].includes(status);
}
