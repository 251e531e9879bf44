import os from "node:os";
import type Docker from "dockerode";
import { LABEL } from "./labels.js";

/** Resources of another host are only reaped after this long (their owner cannot be checked). */
const FOREIGN_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes containers and networks that Gantry created (label `gantry.managed=true`) and
 * whose owning process is gone: same host and a dead pid, or another host and older than a
 * day. Live runs of other Gantry processes on the same engine are left alone. Returns the
 * number of objects removed; errors on single objects are ignored (the next reap retries).
 */
export async function reapLeftovers(docker: Docker, now = Date.now()): Promise<number> {
  const filters = JSON.stringify({ label: [`${LABEL.managed}=true`] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  let removed = 0;
  await Promise.all(
    containers
      .filter((c) => isOrphan(c.Labels, c.Created * 1000, now))
      .map(async (c) => {
        await docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .then(() => removed++)
          .catch(() => undefined);
      }),
  );
  await Promise.all(
    networks
      .filter((n) => isOrphan(n.Labels ?? {}, Date.parse(n.Created ?? "") || now, now))
      .map(async (n) => {
        await docker
          .getNetwork(n.Id)
          .remove()
          .then(() => removed++)
          .catch(() => undefined);
      }),
  );
  return removed;
}

function isOrphan(labels: Record<string, string>, createdMs: number, now: number): boolean {
  if (labels[LABEL.host] !== os.hostname()) return now - createdMs > FOREIGN_AGE_MS;
  const pid = Number(labels[LABEL.pid]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
