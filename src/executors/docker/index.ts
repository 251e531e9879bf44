import { randomBytes } from "node:crypto";
import path from "node:path";
import Docker from "dockerode";
import type { ExecutorSpec } from "../../pipeline/plan.js";
import type { Executor, ExecutorJob, ExecutorSession } from "../executor.js";
import { ExecutorError } from "../executor.js";
import { parseRunArgs, splitWords, type RunArgs } from "./args.js";
import { buildImage } from "./build.js";
import { createWithImage } from "./create.js";
import { errorMessage, type PullPolicy } from "./images.js";
import { jobLabels, objectName } from "./labels.js";
import { reapLeftovers } from "./reaper.js";
import { startService, waitForServices, type StartedService } from "./services.js";
import { DockerSession, removeResources, type JobResources } from "./session.js";
import { dockerSocketAccess } from "./socket.js";
import { NetnsPool } from "./warm-netns.js";

export {
  runDockerBuildStep,
  type DockerBuildContext,
  type DockerBuildResult,
  type DockerBuildStep,
} from "./build.js";
export { dockerSocketAccess } from "./socket.js";

type DockerSpec = Extract<ExecutorSpec, { kind: "docker" }>;

export interface DockerExecutorOptions {
  /** The engine client; default: `DOCKER_HOST` (and `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`) or `/var/run/docker.sock`. */
  docker?: Docker;
  /** Image for docker jobs that name none (GitLab jobs without `image:`). No default: such jobs fail with a hint. */
  defaultImage?: string;
  /** `--docker-socket`: give every docker job the engine's socket (lets scripts run `docker build`). */
  dockerSocket?: boolean;
  /** How long to wait for services to accept connections (GitLab's default: 30 s). */
  serviceWaitMs?: number;
  /** Keep one pre-started network namespace for the next plain job (see `warm-netns.ts`). Default true. */
  warmNetwork?: boolean;
  /** Let `cleanup` resolve before the engine has finished removing the container. Default true. */
  detachCleanup?: boolean;
}

/**
 * Runs each job in one long-lived container of its image (kept alive with `cat`, like
 * Jenkins' docker agent), with the workspace bind-mounted at the same path, and each script
 * as a `docker exec`. Services run on a network of their own per job, reachable by alias.
 * See `session.ts` for exec, timeouts and cancel, and `reaper.ts` for crash leftovers.
 */
export class DockerExecutor implements Executor {
  readonly name = "docker" as const;
  readonly docker: Docker;

  private readonly warm: NetnsPool | undefined;
  /** Removals handed over by sessions' `cleanup`, still in flight. */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: DockerExecutorOptions = {}) {
    this.docker = opts.docker ?? new Docker();
    this.warm = opts.warmNetwork === false ? undefined : new NetnsPool(this.docker);
  }

  supports(spec: ExecutorSpec): true | string {
    if (spec.kind === "docker") return true;
    return `the docker executor runs jobs with an image or a Dockerfile agent, not "${spec.kind}" jobs`;
  }

  async prepare(job: ExecutorJob, signal: AbortSignal): Promise<ExecutorSession> {
    if (signal.aborted) throw new ExecutorError("cancelled before the job started");
    const spec = job.spec;
    if (spec.kind !== "docker") throw new ExecutorError(this.supports(spec) as string);
    const args = parseRunArgs(spec.args, { ...process.env, ...job.env });
    const res: JobResources = { containers: [] };
    try {
      const session = await this.start(job, spec, args, res, signal);
      if (signal.aborted) throw new ExecutorError("cancelled while the docker job was starting");
      return session;
    } catch (err) {
      await this.removeAndRelease(res).catch(() => undefined);
      if (signal.aborted) throw new ExecutorError("cancelled while the docker job was starting");
      if (err instanceof ExecutorError) throw err;
      const unreachable = /ENOENT|ECONNREFUSED|EACCES|EHOSTUNREACH|ETIMEDOUT/.test(errorMessage(err));
      throw new ExecutorError(
        unreachable
          ? `cannot reach the Docker engine (${errorMessage(err)})`
          : `docker: ${errorMessage(err)}`,
        dockerHint(err),
      );
    }
  }

  private async start(
    job: ExecutorJob,
    spec: DockerSpec,
    args: RunArgs,
    res: JobResources,
    signal: AbortSignal,
  ): Promise<ExecutorSession> {
    const docker = this.docker;
    const labels = { ...args.labels, ...jobLabels(job.runId, job.slug, job.attempt) };
    const prefix = objectName("gantry", job.slug, randomBytes(3).toString("hex"));
    const workdir = job.workspace;

    const image = spec.build
      ? await this.buildAgentImage(job, spec.build, signal)
      : (spec.image?.name ?? this.opts.defaultImage);
    // An image just built from a Dockerfile exists only here: never look for it in a registry.
    const pullPolicy: PullPolicy[] | undefined = spec.build ? ["never"] : spec.image?.pullPolicy;
    if (!image) {
      throw new ExecutorError(
        `the docker job "${job.jobId}" names no image`,
        "add `image:` to the job (GitLab) or `agent { docker { image '...' } }` (Jenkins), or give the executor a default image",
      );
    }
    if (signal.aborted) return abortNow();

    let services: StartedService[] = [];
    if (spec.services.length > 0) {
      const network = await docker.createNetwork({ Name: prefix, Labels: labels, CheckDuplicate: true });
      res.network = network.id;
      services = await Promise.all(
        spec.services.map((svc) =>
          startService(docker, svc, {
            network: prefix,
            labels,
            env: job.env,
            namePrefix: prefix,
            log: job.log,
            signal,
            created: (id) => res.containers.push(id),
          }),
        ),
      );
    }
    if (signal.aborted) return abortNow();

    const socket = this.opts.dockerSocket ? await dockerSocketAccess(docker) : { binds: [], env: [] };
    const jobNetwork = services.length > 0 ? prefix : undefined;
    if (!spec.build) job.log(`Using docker image ${image}`);
    const options = (mode: string | undefined): Docker.ContainerCreateOptions & { Image: string } => ({
      name: prefix,
      Image: image,
      // `cat` on an open stdin keeps the container alive until cleanup, whatever the shell.
      Cmd: ["cat"],
      ...(spec.image?.entrypoint
        ? { Entrypoint: spec.image.entrypoint }
        : args.entrypoint
          ? { Entrypoint: args.entrypoint }
          : {}),
      OpenStdin: true,
      // The job's variables go with each exec, not into the container's configuration, where
      // `docker inspect` would show masked values for as long as the container exists.
      Env: [...args.env, ...socket.env],
      WorkingDir: args.workdir ?? workdir,
      Labels: labels,
      ...((spec.image?.user ?? args.user) ? { User: spec.image?.user ?? args.user } : {}),
      ...(args.hostname ? { Hostname: args.hostname } : {}),
      HostConfig: {
        Binds: [`${job.workspace}:${workdir}`, ...args.binds, ...socket.binds],
        // An init process reaps what scripts leave behind and forwards signals.
        Init: true,
        ...(mode ? { NetworkMode: mode } : {}),
        ...(args.extraHosts.length ? { ExtraHosts: args.extraHosts } : {}),
        ...(args.dns.length ? { Dns: args.dns } : {}),
        ...(Object.keys(args.tmpfs).length ? { Tmpfs: args.tmpfs } : {}),
        ...(args.groupAdd.length ? { GroupAdd: args.groupAdd } : {}),
        ...(args.memory ? { Memory: args.memory } : {}),
        ...(args.nanoCpus ? { NanoCpus: args.nanoCpus } : {}),
        ...(args.shmSize ? { ShmSize: args.shmSize } : {}),
      },
      ...(spec.image?.platform ? { platform: spec.image.platform } : {}),
    });
    const create = () =>
      createWithImage(docker, options(args.network ?? jobNetwork), pullPolicy, job.log, signal);

    // A plain job (no services, no network options) can join a pre-started network namespace.
    const plain =
      !jobNetwork && !args.network && !args.hostname && !args.extraHosts.length && !args.dns.length;
    let container = plain
      ? await this.startInHolder(options, res, pullPolicy, job, image, signal)
      : undefined;
    if (!container) {
      container = await create();
      res.containers.unshift(container.id);
      if (jobNetwork && args.network)
        await docker.getNetwork(jobNetwork).connect({ Container: container.id });
      await container.start();
    }
    if (services.length > 0)
      await waitForServices(docker, services, prefix, this.opts.serviceWaitMs ?? 30_000, job.log, signal);
    return new DockerSession(
      docker,
      workdir,
      container,
      signal,
      job.env,
      () => this.removeAndRelease(res),
      this.opts.detachCleanup !== false,
    );
  }

  /** Starts the job container in a free network holder's namespace; undefined to start it the ordinary way. */
  private async startInHolder(
    options: (mode: string | undefined) => Docker.ContainerCreateOptions & { Image: string },
    res: JobResources,
    pullPolicy: PullPolicy[] | undefined,
    job: ExecutorJob,
    image: string,
    signal: AbortSignal,
  ): Promise<Docker.Container | undefined> {
    const holder = await this.warm?.acquire(job.runId, image);
    if (!holder) return undefined;
    res.holder = { runId: job.runId, id: holder };
    const container = await createWithImage(
      this.docker,
      options(`container:${holder}`),
      pullPolicy,
      job.log,
      signal,
    );
    res.containers.unshift(container.id);
    try {
      await container.start();
      return container;
    } catch {
      // The holder is unusable (removed by hand?): drop it and start the job the ordinary way.
      const removal = removeResources(this.docker, res);
      res.containers.length = 0;
      const holderGone = removal.then(() => Promise.reject(new Error("network holder unusable")));
      this.warm?.release(job.runId, holder, holderGone);
      res.holder = undefined;
      await removal.catch(() => undefined);
      return undefined;
    }
  }

  /** Removes a job's containers and network, then gives its network holder back; tracked for `dispose`. */
  private removeAndRelease(res: JobResources): Promise<void> {
    const removal = removeResources(this.docker, res);
    if (res.holder) this.warm?.release(res.holder.runId, res.holder.id, removal);
    this.pending.add(removal);
    void removal.catch(() => undefined).finally(() => this.pending.delete(removal));
    return removal;
  }

  /**
   * Waits for detached removals and removes the free network holders. Optional: the process
   * also does this by itself when its event loop drains.
   */
  async dispose(): Promise<void> {
    // Removals first: they hand their network holders back to the pool, which then goes.
    await Promise.all([...this.pending].map((p) => p.catch(() => undefined)));
    await this.warm?.dispose();
  }

  /** Jenkins `agent { dockerfile }`: builds the image from the workspace first. */
  private async buildAgentImage(
    job: ExecutorJob,
    build: NonNullable<DockerSpec["build"]>,
    signal: AbortSignal,
  ): Promise<string> {
    const contextDir = path.resolve(job.workspace, build.context || ".");
    const dockerfile = path.resolve(contextDir, build.dockerfile || "Dockerfile");
    const extra = parseBuildArgs(build.additionalArgs);
    const tag = `gantry-agent/${objectName(job.slug) || "job"}:latest`;
    job.log(`Building agent image ${tag} from ${path.relative(job.workspace, dockerfile) || dockerfile}`);
    // The job runs the image by ID: another run may move the tag meanwhile.
    return buildImage(
      this.docker,
      {
        contextDir,
        dockerfile,
        tags: [tag],
        buildArgs: { ...build.buildArgs, ...extra.buildArgs },
        target: extra.target,
        labels: { "gantry.job": job.slug },
      },
      job.log,
      signal,
    );
  }

  /** Removes containers and networks left by crashed Gantry processes; returns how many. */
  reap(): Promise<number> {
    return reapLeftovers(this.docker);
  }
}

/** The executor for the engine's registry: `{ docker: createDockerExecutor({ dockerSocket }) }`. */
export function createDockerExecutor(opts: DockerExecutorOptions = {}): DockerExecutor {
  return new DockerExecutor(opts);
}

function abortNow(): never {
  throw new ExecutorError("cancelled while the docker job was starting");
}

/** Jenkins `additionalBuildArgs`: only `--build-arg K=V` and `--target T` are meaningful here. */
function parseBuildArgs(s: string | undefined): { buildArgs: Record<string, string>; target?: string } {
  const out: { buildArgs: Record<string, string>; target?: string } = { buildArgs: {} };
  const words = splitWords(s ?? "");
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const [flag = "", inline] =
      w.startsWith("--") && w.includes("=")
        ? [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]
        : [w, undefined];
    const value = inline ?? words[++i];
    if (value === undefined) throw new ExecutorError(`additionalBuildArgs: "${flag}" needs a value`);
    if (flag === "--build-arg") {
      const eq = value.indexOf("=");
      out.buildArgs[eq < 0 ? value : value.slice(0, eq)] =
        eq < 0 ? (process.env[value] ?? "") : value.slice(eq + 1);
    } else if (flag === "--target") out.target = value;
    else
      throw new ExecutorError(
        `additionalBuildArgs: "${flag}" is not supported`,
        "supported: --build-arg NAME=VALUE, --target STAGE",
      );
  }
  return out;
}

function dockerHint(err: unknown): string | undefined {
  const msg = errorMessage(err);
  if (/ENOENT|ECONNREFUSED|EACCES|EHOSTUNREACH|ETIMEDOUT/.test(msg)) {
    const where = process.env.DOCKER_HOST
      ? `DOCKER_HOST=${process.env.DOCKER_HOST}`
      : "DOCKER_HOST is unset: /var/run/docker.sock";
    return `start the engine (dockerd) or point DOCKER_HOST at it (${where}); EACCES means this user may not use the socket`;
  }
  if (/docker-init/.test(msg))
    return "the engine has no docker-init binary; install it (Debian: docker.io ships /usr/bin/docker-init)";
  return undefined;
}
