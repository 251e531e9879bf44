import { randomBytes } from "node:crypto";
import os from "node:os";
import type Docker from "dockerode";
import { LABEL, objectName } from "./labels.js";

/**
 * Creating a container's network namespace (and its veth on the bridge) is most of a
 * container start on a busy Linux host (~200 ms of ~300 ms here). So the executor keeps one
 * spare, already-started "network holder" container: the next plain job joins its namespace
 * (`NetworkMode: container:<id>`) and skips that cost, and a new spare is made in the
 * background while the job runs. Each holder serves one job only, so jobs stay isolated
 * from each other exactly as with their own namespace; the holder is removed with the job.
 */
export class WarmNetns {
  private spare: Promise<string | undefined> | undefined;

  constructor(private readonly docker: Docker) {
    live.add(this);
    installExitHook();
  }

  get hasSpare(): boolean {
    return this.spare !== undefined;
  }

  /** A started holder's container ID, or undefined when none is ready (the caller starts normally). */
  async take(): Promise<string | undefined> {
    const spare = this.spare;
    this.spare = undefined;
    return spare;
  }

  /** Starts making a spare from `image` (already local: the job just used it) if there is none. */
  refill(image: string): void {
    if (this.spare) return;
    this.spare = this.create(image).catch(() => undefined);
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
        [LABEL.run]: "",
        [LABEL.job]: "netns-spare",
        [LABEL.pid]: String(process.pid),
        [LABEL.host]: os.hostname(),
      },
    });
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    return container.id;
  }

  /** Removes the spare, if any; a later `refill` makes a new one. */
  async dispose(): Promise<void> {
    const id = await this.take();
    if (id)
      await this.docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
  }
}

const live = new Set<WarmNetns>();
let hooked = false;

/** A spare must not outlive the process: remove it when the event loop drains (`gantry run` ending). */
function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on("beforeExit", () => {
    if (live.size === 0) return;
    // beforeExit fires again once these removals finish; by then no spare is left.
    for (const w of live) if (w.hasSpare) void w.dispose();
  });
}
