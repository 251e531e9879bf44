import type Docker from "dockerode";

/** Where the engine's socket appears inside a job container. */
export const SOCKET_IN_CONTAINER = "/var/run/docker.sock";

/**
 * `--docker-socket`: what a job container needs to reach the same Docker engine, so that
 * `docker build` inside a script works. A local unix socket is bind-mounted; a TCP
 * `DOCKER_HOST` is passed through as a variable. Returns nothing to add when neither applies.
 * This gives the job full control of the engine (and so of the host): it is opt-in.
 */
export function dockerSocketAccess(docker: Docker): { binds: string[]; env: string[] } {
  const modem = docker.modem as {
    socketPath?: string;
    host?: string;
    port?: string | number;
    protocol?: string;
  };
  if (typeof modem.socketPath === "string" && modem.socketPath) {
    return {
      binds: [`${modem.socketPath}:${SOCKET_IN_CONTAINER}`],
      env: [`DOCKER_HOST=unix://${SOCKET_IN_CONTAINER}`],
    };
  }
  if (modem.host) {
    const scheme = modem.protocol === "https" ? "tcp" : (modem.protocol ?? "tcp");
    return {
      binds: [],
      env: [`DOCKER_HOST=${scheme === "http" ? "tcp" : scheme}://${modem.host}:${modem.port ?? 2375}`],
    };
  }
  return { binds: [], env: [] };
}
