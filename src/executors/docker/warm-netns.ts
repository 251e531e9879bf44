import { randomBytes } from "node:crypto";
import os from "node:os";
import type Docker from "dockerode";
import { LABEL, objectName } from "./labels.js";

/** Free holders kept per run, and how long an unused one lives. */
const MAX_FREE_PER_RUN = 2;
const IDLE_MS = 30_000;

interface Free {
  id: string;
  timer: NodeJS.Timeout;
}

/**
 * Creating and tearing down a container's network namespace (and its veth on the bridge) is
 * most of the cost of a container on a busy Linux host, and the engine does it one at a time.
 * So plain jobs (no services, no network options) run in the namespace of a "network holder"
 * container (`NetworkMode: container:<id>`) instead of their own:
 * - a holder serves one job at a time; when that job's container is gone, the holder is
 *   free for the next job **of the same run** (a pipeline is one trust domain: a root job
 *   could leave entries in the namespace's /etc/hosts for a later job of its run, never of
 *   another run);
 * - the first job of a run starts the ordinary way while a holder is made in the background;
 * - free holders are removed after 30 s unused, and all of them when the process ends.
 */
export class NetnsPool {
  private readonly free = new Map<string, Free[]>();
  private readonly creating = new Map<string, Promise<void>>();

  constructor(private readonly docker: Docker) {
    live.add(this);
    installExitHook();
  }

  /** Whether a free holder (or one being made) is left to remove. */
  get hasFree(): boolean {
    return this.free.size > 0 || this.creating.size > 0;
  }

  /**
   * A free holder of this run, waiting for one that is being made; undefined when none (the
   * job starts the ordinary way). Keeps one more in the making for the run's next job.
   */
  async acquire(runId: string, image: string): Promise<string | undefined> {
    let id = this.pop(runId);
    const inFlight = this.creating.get(runId);
    if (!id && inFlight) {
      await inFlight;
      id = this.pop(runId);
    }
    if (!this.free.get(runId)?.length) this.refill(runId, image);
    return id;
  }

  /** Gives a holder back once `removal` (of the job's container) has finished. */
  release(runId: string, id: string, removal: Promise<void>): void {
    removal.then(
      () => this.put(runId, id),
      () => void this.remove(id),
    );
  }

  private pop(runId: string): string | undefined {
    const f = this.free.get(runId)?.pop();
    if (!f) return undefined;
    clearTimeout(f.timer);
    return f.id;
  }

  private put(runId: string, id: string): void {
    const list = this.free.get(runId) ?? [];
    if (list.some((f) => f.id === id)) return;
    if (list.length >= MAX_FREE_PER_RUN) {
      void this.remove(id);
      return;
    }
    const timer = setTimeout(() => {
      const l = this.free.get(runId) ?? [];
      const i = l.findIndex((x) => x.id === id);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.free.delete(runId);
      void this.remove(id);
    }, IDLE_MS);
    timer.unref();
    list.push({ id, timer });
    this.free.set(runId, list);
  }

  private refill(runId: string, image: string): void {
    if (this.creating.has(runId)) return;
    const p = this.create(image)
      .then((id) => this.put(runId, id))
      .catch(() => undefined)
      .finally(() => this.creating.delete(runId));
    this.creating.set(runId, p);
  }

  private async create(image: string): Promise<string> {
    const container = await this.docker.createContainer({
      name: objectName("gantry-netns", String(process.pid), randomBytes(3).toString("hex")),
      Image: image,
      Entrypoint: [""],
      Cmd: ["cat"],
      OpenStdin: true,
      Labels: {
        [LABEL.managed]: "true",
        // Not the run's label: a holder outlives the job that caused it and serves others.
        [LABEL.run]: "",
        [LABEL.job]: "netns-holder",
        [LABEL.pid]: String(process.pid),
        [LABEL.host]: os.hostname(),
      },
    });
    try {
      await container.start();
    } catch (err) {
      await this.remove(container.id);
      throw err;
    }
    return container.id;
  }

  private async remove(id: string): Promise<void> {
    await this.docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
  }

  /** Removes every free holder (and those being made); busy ones go when their job's removal ends. */
  async dispose(): Promise<void> {
    await Promise.all(this.creating.values());
    const ids: string[] = [];
    for (const list of this.free.values()) {
      for (const f of list) {
        clearTimeout(f.timer);
        ids.push(f.id);
      }
    }
    this.free.clear();
    await Promise.all(ids.map((id) => this.remove(id)));
  }
}

const live = new Set<NetnsPool>();
let hooked = false;

/** Holders must not outlive the process: remove them when the event loop drains (`gantry run` ending). */
function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on("beforeExit", () => {
    // beforeExit fires again after these removals; by then nothing is free any more.
    for (const pool of live) if (pool.hasFree) void pool.dispose();
  });
}
