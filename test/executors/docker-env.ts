import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");

/** The local test images built by `scripts/docker-test-images.sh`. */
export const TEST_IMAGE = "gantry-test/busybox:1";
export const WEB_IMAGE = "gantry-test/web:1";

/**
 * Why Docker tests cannot run here, or undefined when they can. Builds the local test
 * images when the engine is up but they are missing (the script is idempotent and fast).
 */
export async function dockerUnavailable(): Promise<string | undefined> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    return `no Docker engine reachable (DOCKER_HOST=${process.env.DOCKER_HOST ?? "unset"}: ${(err as Error).message}); start dockerd to run these tests`;
  }
  try {
    await run("sh", [path.join(repoRoot, "scripts/docker-test-images.sh")], { timeout: 60_000 });
  } catch (err) {
    return `cannot build the local test images with scripts/docker-test-images.sh: ${(err as Error).message}`;
  }
  return undefined;
}

/** Skips loudly: the reason is printed once per file, not only as a skipped test. */
export function announceSkip(file: string, reason: string | undefined): void {
  if (reason) process.stderr.write(`\n*** SKIPPING ${file}: ${reason} ***\n\n`);
}

/** Containers and networks Gantry left for a run, as `kind name (state)` strings. */
export async function dockerLeftovers(docker: Docker, runId: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`gantry.run=${runId}`] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names.join(",")} (${c.State})`),
    ...networks.map((n) => `network ${n.Name}`),
  ];
}
