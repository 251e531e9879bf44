import type Docker from "dockerode";

/** Where the engine's socket appears inside a job container. */
export const SOCKET_IN_CONTAINER = "/var/run/docker.sock";

/**
 * `--docker-socket`: what a job container needs to reach the same Docker engine, so that
 * `docker build` inside a script works. A local unix socket is bind-mounted; a TCP
 * `DOCKER_HOST` is passed through as a variable. Returns nothing to add when neither applies.
 * This gives the job full control of the engine (and so of the host): it is opt-in.
 */
export async function dockerSocketAccess(docker: Docker): Promise<{ binds: string[]; env: string[] }> {
  const socketPath = await localSocketPath(docker);
  if (socketPath) {
    return {
      binds: [`${socketPath}:${SOCKET_IN_CONTAINER}`],
      env: [`DOCKER_HOST=unix://${SOCKET_IN_CONTAINER}`],
    };
  }
  const modem = docker.modem as { host?: string; port?: string | number; protocol?: string };
  if (modem.host) return { binds: [], env: [`DOCKER_HOST=tcp://${modem.host}:${modem.port ?? 2375}`] };
  return { binds: [], env: [] };
}

/** The engine's unix socket when it is local (docker-modem may hold a lookup function instead of a path). */
export async function localSocketPath(docker: Docker): Promise<string | undefined> {
  const socketPath = (docker.modem as { socketPath?: string | (() => Promise<string>) }).socketPath;
  if (typeof socketPath === "function") return socketPath();
  return socketPath || undefined;
}
