import type Docker from "dockerode";
import { ExecutorError } from "../executor.js";

export type PullPolicy = "always" | "if-not-present" | "never";

/**
 * GitLab's default: `always` for `:latest` or an untagged name, `if-not-present` otherwise.
 * `defaulted` marks that the user chose nothing, so a failed pull may fall back to a local copy.
 */
export function pullPolicies(
  name: string,
  given: PullPolicy[] | undefined,
): { policies: PullPolicy[]; defaulted: boolean } {
  if (given && given.length > 0) return { policies: given, defaulted: false };
  return { policies: isFloatingTag(name) ? ["always"] : ["if-not-present"], defaulted: true };
}

function isFloatingTag(name: string): boolean {
  if (name.includes("@")) return false;
  const lastPart = name.slice(name.lastIndexOf("/") + 1);
  const colon = lastPart.indexOf(":");
  return colon < 0 || lastPart.slice(colon + 1) === "latest";
}

/** Whether the engine has the image; never throws for "no such image". */
export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if (statusCode(err) === 404) return false;
    throw err;
  }
}

/** Pulls an image, waiting for the whole pull (the progress stream carries errors too). */
export async function pullImage(
  docker: Docker,
  name: string,
  signal: AbortSignal,
  auth?: { username: string; password: string; serveraddress: string },
): Promise<void> {
  const stream: NodeJS.ReadableStream = await docker.pull(name, auth ? { authconfig: auth } : {});
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new ExecutorError(`pulling image "${name}" was cancelled`));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      signal.removeEventListener("abort", onAbort);
      const failed = err?.message ?? output.find((o) => o.error)?.error;
      if (failed) reject(new Error(failed));
      else resolve();
    });
  });
}

/**
 * Makes `name` available locally following the pull policies in order, GitLab style: the
 * first policy that yields the image wins. Throws an `ExecutorError` naming the image, the
 * policies and why each failed.
 */
export async function ensureImage(
  docker: Docker,
  name: string,
  given: PullPolicy[] | undefined,
  log: (line: string) => void,
  signal: AbortSignal,
  knownMissing = false,
): Promise<void> {
  const { policies, defaulted } = pullPolicies(name, given);
  const reasons: string[] = [];
  let local: boolean | undefined = knownMissing ? false : undefined;
  const isLocal = async () => (local ??= await imageExists(docker, name));
  for (const policy of policies) {
    if (policy !== "always" && (await isLocal())) return;
    if (policy === "never") {
      reasons.push("never: not present locally");
      continue;
    }
    try {
      log(`Pulling docker image ${name} ...`);
      await pullImage(docker, name, signal);
      return;
    } catch (err) {
      if (signal.aborted) throw err;
      const why = errorMessage(err);
      reasons.push(`${policy}: pull failed: ${why}`);
      if (policy === "always" && defaulted && (await isLocal())) {
        log(`WARNING: pulling ${name} failed (${why}); using the local image`);
        return;
      }
    }
  }
  throw new ExecutorError(
    `docker image "${name}" is not available (pull policy: ${policies.join(", ")}): ${reasons.join("; ")}`,
    policies.includes("never")
      ? `build or load the image first (docker build -t ${name} . / docker load), or allow pulling with pull_policy: if-not-present`
      : `check the image name and tag (docker images lists local ones), that the registry is reachable from the Docker engine, ` +
          `and that you are logged in to it` +
          (policies.includes("always") ? "; a locally built image needs pull_policy: [if-not-present]" : ""),
  );
}

/** HTTP status of a dockerode error, if any. */
export function statusCode(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err ? Number(err.statusCode) : undefined;
}

/** The engine's message without dockerode's "(HTTP code 404) no such container -" prefix. */
export function errorMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && "json" in err) {
    const json = (err as { json?: { message?: string } }).json;
    if (json?.message) return json.message;
  }
  return err instanceof Error ? err.message.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim() : String(err);
}
