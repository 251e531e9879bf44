import net from "node:net";
import type Docker from "dockerode";
import type { ServiceSpec } from "../../pipeline/plan.js";
import { LABEL, objectName } from "./labels.js";
import { createWithImage } from "./create.js";
import { localSocketPath } from "./socket.js";

/** A started service container. */
export interface StartedService {
  spec: ServiceSpec;
  aliases: string[];
  container: Docker.Container;
}

/**
 * GitLab's default aliases for a service without `alias`: the image name without tag, with
 * `/` replaced by `__` and by `-` (`tutum/wordpress:latest` → `tutum__wordpress`, `tutum-wordpress`).
 */
export function defaultAliases(image: string): string[] {
  const noDigest = image.split("@")[0] ?? image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  const repo = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return [...new Set([repo.replace(/\//g, "__"), repo.replace(/\//g, "-")])];
}

/** Creates and starts one service container on the job network, reachable by its aliases. */
export async function startService(
  docker: Docker,
  svc: ServiceSpec,
  o: {
    network: string;
    labels: Record<string, string>;
    env: Record<string, string>;
    namePrefix: string;
    log: (l: string) => void;
    signal: AbortSignal;
    created: (id: string) => void;
  },
): Promise<StartedService> {
  const aliases = svc.alias.length ? svc.alias : defaultAliases(svc.name);
  o.log(`Starting service ${svc.name} as ${aliases.join(", ")}`);
  const container = await createWithImage(
    docker,
    {
      name: objectName(o.namePrefix, "svc", aliases[0] ?? "service"),
      Image: svc.name,
      ...(svc.entrypoint ? { Entrypoint: svc.entrypoint } : {}),
      ...(svc.command ? { Cmd: svc.command } : {}),
      // GitLab passes the job's variables to services too; the service's own win.
      Env: Object.entries({ ...o.env, ...svc.variables }).map(([k, v]) => `${k}=${v}`),
      Labels: { ...o.labels, [`${LABEL.managed}.service`]: aliases[0] ?? "" },
      HostConfig: { NetworkMode: o.network },
      NetworkingConfig: { EndpointsConfig: { [o.network]: { Aliases: aliases } } },
    },
    svc.pullPolicy,
    o.log,
    o.signal,
  );
  o.created(container.id);
  await container.start();
  return { spec: svc, aliases, container };
}

/**
 * Waits until each service accepts TCP connections on its exposed ports, like GitLab's
 * service health check; a service that does not answer in time is a warning, not a failure
 * (the job may not need that port). Only possible when the engine is local: from a remote
 * `DOCKER_HOST` the job network is not reachable, and the wait is skipped.
 */
export async function waitForServices(
  docker: Docker,
  services: StartedService[],
  network: string,
  timeoutMs: number,
  log: (l: string) => void,
  signal: AbortSignal,
): Promise<void> {
  if (!(await localSocketPath(docker))) return;
  await Promise.all(
    services.map(async (s) => {
      const info = await s.container.inspect();
      const ip = info.NetworkSettings.Networks[network]?.IPAddress;
      const ports = Object.keys(info.Config.ExposedPorts ?? {})
        .filter((p) => p.endsWith("/tcp"))
        .map((p) => Number.parseInt(p, 10));
      if (!ip || ports.length === 0) return;
      const deadline = Date.now() + timeoutMs;
      for (const port of ports) {
        let ok = false;
        while (!signal.aborted && Date.now() < deadline && !(ok = await canConnect(ip, port)))
          await sleep(100);
        if (!ok && !signal.aborted) {
          const tail = await serviceLogTail(s.container);
          log(
            `WARNING: service ${s.spec.name} (${s.aliases[0]}) did not answer on port ${port} within ${Math.round(timeoutMs / 1000)}s${tail ? `; its last output:\n${tail}` : ""}`,
          );
        }
      }
    }),
  );
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 500 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

async function serviceLogTail(container: Docker.Container): Promise<string> {
  try {
    const buf = await container.logs({ stdout: true, stderr: true, tail: 20, follow: false });
    return demuxText(buf).trimEnd();
  } catch {
    return "";
  }
}

/** Strips the 8-byte multiplexing headers of a non-TTY log buffer. */
function demuxText(buf: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString("utf8");
    i += 8 + len;
  }
  return i === 0 ? buf.toString("utf8") : out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
