import type Docker from "dockerode";
import { ensureImage, statusCode, type PullPolicy, pullPolicies, errorMessage } from "./images.js";

/**
 * Creates a container, making its image available per the pull policies. For policies that
 * start with `if-not-present`/`never` it tries the create first and only looks at the image
 * when the engine says it is missing: one API call instead of two on the common path.
 */
export async function createWithImage(
  docker: Docker,
  options: Docker.ContainerCreateOptions & { Image: string },
  given: PullPolicy[] | undefined,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<Docker.Container> {
  const { policies } = pullPolicies(options.Image, given);
  if (policies[0] === "always") await ensureImage(docker, options.Image, given, log, signal);
  try {
    return await docker.createContainer(options);
  } catch (err) {
    if (statusCode(err) !== 404 || !/no such image/i.test(errorMessage(err))) throw err;
  }
  await ensureImage(docker, options.Image, given, log, signal, true);
  return docker.createContainer(options);
}
