import path from "node:path";
import Docker from "dockerode";
import type { Step } from "../../pipeline/plan.js";
import { ExecutorError } from "../executor.js";
import { packBuildContext } from "./build-context.js";
import { errorMessage } from "./images.js";

/** The Plan's `dockerBuild` step. */
export type DockerBuildStep = Extract<Step, { kind: "dockerBuild" }>;

/** What one image build needs; paths are absolute. */
export interface ImageBuildRequest {
  contextDir: string;
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
}

interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Builds an image through the Engine API from a context directory and streams the build's
 * output into `log`. Returns the image ID. A failed build throws an `ExecutorError` carrying
 * the engine's message (e.g. the failing `RUN` and its exit code).
 */
export async function buildImage(
  docker: Docker,
  req: ImageBuildRequest,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<string> {
  const { tar, dockerfile } = await packBuildContext(req.contextDir, req.dockerfile);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(tar, {
      t: req.tags,
      dockerfile,
      buildargs: req.buildArgs,
      labels: req.labels,
      ...(req.target ? { target: req.target } : {}),
      rm: true,
      forcerm: true,
      abortSignal: signal,
    } as unknown as Docker.ImageBuildOptions);
  } catch (err) {
    throw new ExecutorError(`docker build failed: ${errorMessage(err)}`);
  }
  let imageId: string | undefined;
  let partial = "";
  const emit = (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) log(line.replace(/\r$/, ""));
  };
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new ExecutorError("docker build was cancelled"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: BuildEvent[]) => {
        signal.removeEventListener("abort", onAbort);
        if (partial.trim()) log(partial);
        const failed = err?.message ?? events.find((e) => e.error)?.error;
        if (failed)
          reject(new ExecutorError(`docker build failed: ${failed.trim()}`, `Dockerfile: ${req.dockerfile}`));
        else resolve();
      },
      (e: BuildEvent) => {
        if (e.stream) emit(e.stream);
        else if (e.status) emit(`${e.status}\n`);
        if (e.aux?.ID) imageId = e.aux.ID;
        const built = /Successfully built ([0-9a-f]+)/.exec(e.stream ?? "");
        if (built) imageId ??= built[1];
      },
    );
  });
  if (!imageId) {
    const first = req.tags[0];
    if (!first) throw new ExecutorError("docker build finished without reporting an image ID");
    imageId = (await docker.getImage(first).inspect()).Id;
  }
  return imageId;
}

/** Resolves a Gantry secret by id (the engine's `SecretResolver`; executors may not import the engine). */
export type SecretResolver = (
  id: string,
) => Promise<
  | { kind: "secret" | "file"; value: string }
  | { kind: "usernamePassword"; username: string; password: string }
  | undefined
>;

/** What the engine passes to `runDockerBuildStep`. */
export interface DockerBuildContext {
  /** The job's workspace on the host; `context` and `dockerfile` are relative to it. */
  workspace: string;
  /** The job's variables: `$VAR` in tags, build args and labels are expanded from them. */
  env: Record<string, string>;
  log: (line: string) => void;
  signal: AbortSignal;
  secrets: SecretResolver;
  /** The engine to use; default: `DOCKER_HOST` or the local socket. */
  docker?: Docker;
}

export interface DockerBuildResult {
  imageId: string;
  /** Tags applied locally. */
  tags: string[];
  /** Full references pushed (`registry/name:tag`), empty without `push`. */
  pushed: string[];
}

/**
 * Runs a `dockerBuild` step: builds from the workspace (honouring `.dockerignore`), tags,
 * labels the image with the commit (`org.opencontainers.image.revision`) and optionally
 * pushes every tag to `push.registry` with credentials from Gantry secrets (a
 * username/password secret). Throws `ExecutorError` on any failure; the step then fails.
 */
export async function runDockerBuildStep(
  step: DockerBuildStep,
  ctx: DockerBuildContext,
): Promise<DockerBuildResult> {
  const docker = ctx.docker ?? new Docker();
  const expand = (s: string) => expandVars(s, ctx.env);
  const contextDir = insideWorkspace(ctx.workspace, expand(step.context || "."), "context");
  const dockerfile = step.dockerfile
    ? insideWorkspace(ctx.workspace, expand(step.dockerfile), "dockerfile")
    : path.join(contextDir, "Dockerfile");
  const tags = step.tags.map(expand).filter(Boolean);
  const buildArgs = mapValues(step.buildArgs, expand);
  const revision = ctx.env.CI_COMMIT_SHA ?? ctx.env.GIT_COMMIT ?? ctx.env.GANTRY_COMMIT_SHA;
  const labels = {
    ...(revision ? { "org.opencontainers.image.revision": revision } : {}),
    "org.opencontainers.image.created": new Date().toISOString(),
    ...mapValues(step.labels, expand),
  };
  // Log in before building: a wrong credential should not cost a whole build, and the
  // engine retries pushes with rejected credentials for almost a minute before giving up.
  const auth = step.push ? await registryAuth(step.push, ctx.secrets) : undefined;
  if (step.push && auth) await checkLogin(docker, auth, step.push.registry);
  ctx.log(
    `Building image ${tags.join(", ") || "(untagged)"} from ${path.relative(ctx.workspace, contextDir) || "."}`,
  );
  const imageId = await buildImage(
    docker,
    { contextDir, dockerfile, tags, buildArgs, target: step.target, labels },
    ctx.log,
    ctx.signal,
  );
  ctx.log(`Built image ${imageId}`);
  const pushed: string[] = [];
  if (step.push) {
    for (const tag of tags) pushed.push(await pushTag(docker, tag, step.push.registry, auth, ctx));
  }
  return { imageId, tags, pushed };
}

type Auth = { username: string; password: string; serveraddress: string } | undefined;

async function checkLogin(docker: Docker, auth: NonNullable<Auth>, registry: string): Promise<void> {
  try {
    await docker.checkAuth(auth);
  } catch (err) {
    throw new ExecutorError(
      `logging in to ${registry} as "${auth.username}" failed: ${errorMessage(err)}`,
      "check the credential's username and password, and the registry URL",
    );
  }
}

async function registryAuth(
  push: NonNullable<DockerBuildStep["push"]>,
  secrets: SecretResolver,
): Promise<Auth> {
  if (!push.credential) return undefined;
  const secret = await secrets(push.credential);
  const serveraddress = registryHost(push.registry);
  if (!secret) {
    throw new ExecutorError(
      `credential "${push.credential}" for pushing to ${push.registry} is not defined`,
      "add it with `gantry secrets set` or --secret",
    );
  }
  if (secret.kind === "usernamePassword")
    return { username: secret.username, password: secret.password, serveraddress };
  const colon = secret.value.indexOf(":");
  if (secret.kind === "secret" && colon > 0) {
    return { username: secret.value.slice(0, colon), password: secret.value.slice(colon + 1), serveraddress };
  }
  throw new ExecutorError(
    `credential "${push.credential}" must be a username/password secret to log in to ${push.registry}`,
  );
}

async function pushTag(
  docker: Docker,
  tag: string,
  registry: string,
  auth: Auth,
  ctx: DockerBuildContext,
): Promise<string> {
  const host = registryHost(registry);
  const prefix = registry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  const full = tag.startsWith(`${host}/`) ? tag : `${prefix}/${tag}`;
  const { repo, tag: version } = splitReference(full);
  if (full !== tag) await docker.getImage(tag).tag({ repo, tag: version });
  ctx.log(`Pushing ${repo}:${version}`);
  const stream: NodeJS.ReadableStream = await docker
    .getImage(`${repo}:${version}`)
    .push({ tag: version, ...(auth ? { authconfig: auth } : {}) });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new ExecutorError(`pushing ${repo}:${version} was cancelled`));
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    docker.modem.followProgress(stream, (err: Error | null, events: BuildEvent[]) => {
      ctx.signal.removeEventListener("abort", onAbort);
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      if (failed)
        reject(
          new ExecutorError(
            `pushing ${repo}:${version} failed: ${failed}`,
            "check the registry URL and the credential",
          ),
        );
      else resolve();
    });
  });
  ctx.log(`Pushed ${repo}:${version}`);
  return `${repo}:${version}`;
}

/** `registry.example.com:5000/team/app:1.2` → repo and tag (default `latest`). */
export function splitReference(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: "latest" };
}

function registryHost(registry: string): string {
  return registry.replace(/^[a-z]+:\/\//, "").split("/")[0] ?? registry;
}

function insideWorkspace(workspace: string, rel: string, what: string): string {
  const abs = path.resolve(workspace, rel);
  const back = path.relative(workspace, abs);
  if (back.startsWith("..") || path.isAbsolute(back)) {
    throw new ExecutorError(
      `dockerBuild ${what} "${rel}" is outside the workspace`,
      "use a path inside the project",
    );
  }
  return abs;
}

function mapValues(o: Record<string, string>, f: (s: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

function expandVars(s: string, vars: Record<string, string>): string {
  return s.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (m, a?: string, b?: string) => vars[(a ?? b)!] ?? m,
  );
}
