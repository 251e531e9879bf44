import os from "node:os";

/** Label keys on everything the docker executor creates; the reaper finds leftovers by them. */
export const LABEL = {
  managed: "gantry.managed",
  run: "gantry.run",
  job: "gantry.job",
  attempt: "gantry.attempt",
  /** Process that owns the resource: the reaper only removes resources of dead processes. */
  pid: "gantry.pid",
  host: "gantry.host",
} as const;

/** Labels for one job attempt's containers, networks and volumes. */
export function jobLabels(runId: string, slug: string, attempt: number): Record<string, string> {
  return {
    [LABEL.managed]: "true",
    [LABEL.run]: runId,
    [LABEL.job]: slug,
    [LABEL.attempt]: String(attempt),
    [LABEL.pid]: String(process.pid),
    [LABEL.host]: os.hostname(),
  };
}

/** A Docker object name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`) made from arbitrary parts. */
export function objectName(...parts: string[]): string {
  const name = parts
    .map((p) =>
      p
        .toLowerCase()
        .replace(/[^a-z0-9_.-]+/g, "-")
        .replace(/^-+|-+$/g, ""),
    )
    .filter(Boolean)
    .join("-");
  // Docker accepts long names, but keep them readable in `docker ps`.
  return name.slice(0, 120);
}
