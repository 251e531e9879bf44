import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import {
  runDockerBuildStep,
  type DockerBuildStep,
  type SecretResolver,
} from "../../src/executors/docker/build.js";
import { ExecutorError } from "../../src/executors/executor.js";
import { startFakeRegistry } from "../fixtures/docker/fake-registry.js";
import { announceSkip, dockerUnavailable, TEST_IMAGE } from "./docker-env.js";

const skip = await dockerUnavailable();
announceSkip("test/executors/docker-build.test.ts", skip);
const docker = new Docker();

describe.skipIf(Boolean(skip))("dockerBuild step", () => {
  const dirs: string[] = [];
  const images: string[] = [];
  afterAll(async () => {
    for (const i of images)
      await docker
        .getImage(i)
        .remove({ force: true })
        .catch(() => undefined);
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  async function workspace(files: Record<string, string>): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "gantry-dbuild-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await fs.writeFile(path.join(dir, name), text);
    }
    return dir;
  }

  const noSecrets: SecretResolver = async () => undefined;
  const step = (o: Partial<DockerBuildStep>): DockerBuildStep => ({
    kind: "dockerBuild",
    context: ".",
    tags: [],
    buildArgs: {},
    labels: {},
    ...o,
  });

  async function runIn(image: string, cmd: string): Promise<string> {
    const c = await docker.createContainer({ Image: image, Cmd: ["sh", "-c", cmd] });
    try {
      await c.start();
      await c.wait();
      const logs = await c.logs({ stdout: true, stderr: true });
      // Non-TTY logs carry an 8-byte header per frame.
      let out = "";
      for (let i = 0; i + 8 <= logs.length;) {
        const len = logs.readUInt32BE(i + 4);
        out += logs.subarray(i + 8, i + 8 + len).toString();
        i += 8 + len;
      }
      return out;
    } finally {
      await c.remove({ force: true });
    }
  }

  it("builds from the workspace honouring .dockerignore, with tags, build args, target and labels", async () => {
    const tag = `gantry-test/dbuild:${process.pid}`;
    images.push(tag);
    const ws = await workspace({
      "app/Dockerfile": [
        `FROM ${TEST_IMAGE} AS base`,
        "ARG GREETING",
        "COPY . /ctx",
        'RUN echo "$GREETING" > /greeting',
        "FROM base AS final",
        "RUN echo final > /stage",
        "FROM base AS tests",
        "RUN echo tests > /stage",
      ].join("\n"),
      "app/.dockerignore": "secret.txt\nlogs\n*.tmp\n!keep.tmp\n",
      "app/secret.txt": "do not send",
      "app/logs/big.log": "x",
      "app/drop.tmp": "x",
      "app/keep.tmp": "kept",
      "app/src/main.txt": "main",
      "app/src/secret.txt": "nested files with the same name are not matched by a root pattern",
    });
    const logs: string[] = [];
    const result = await runDockerBuildStep(
      step({
        context: "app",
        tags: [tag],
        buildArgs: { GREETING: "hello $WHO" },
        target: "tests",
        labels: { team: "ci" },
      }),
      {
        workspace: ws,
        env: { WHO: "gantry", CI_COMMIT_SHA: "0123456789abcdef0123456789abcdef01234567" },
        log: (l) => logs.push(l),
        signal: new AbortController().signal,
        secrets: noSecrets,
        docker,
      },
    );
    expect(result.tags).toEqual([tag]);
    expect(result.pushed).toEqual([]);
    expect(result.imageId).toMatch(/^sha256:/);
    expect(logs.some((l) => l.startsWith("Step "))).toBe(true);
    const out = await runIn(tag, "cat /greeting /stage; cd /ctx && find . -type f | sort");
    expect(out).toBe(
      [
        "hello gantry",
        "tests",
        "./.dockerignore",
        "./Dockerfile",
        "./keep.tmp",
        "./src/main.txt",
        "./src/secret.txt",
        "",
      ].join("\n"),
    );
    const info = await docker.getImage(tag).inspect();
    expect(info.Config.Labels).toMatchObject({
      team: "ci",
      "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
    });
  });

  it("fails with the build's own error message", async () => {
    const ws = await workspace({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo failing-step && exit 3\n` });
    const err = await runDockerBuildStep(step({ tags: [`gantry-test/dbuild-fail:${process.pid}`] }), {
      workspace: ws,
      env: {},
      log: () => undefined,
      signal: new AbortController().signal,
      secrets: noSecrets,
      docker,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as Error).message).toMatch(/^docker build failed: .*returned a non-zero code: 3/);
  });

  it("refuses a context outside the workspace", async () => {
    const ws = await workspace({ Dockerfile: `FROM ${TEST_IMAGE}\n` });
    await expect(
      runDockerBuildStep(step({ context: "../.." }), {
        workspace: ws,
        env: {},
        log: () => undefined,
        signal: new AbortController().signal,
        secrets: noSecrets,
        docker,
      }),
    ).rejects.toThrow(/context "..\/.." is outside the workspace/);
  });

  it("pushes every tag to the registry with credentials from Gantry secrets", async () => {
    const registry = await startFakeRegistry("robot", "s3cret");
    try {
      const ws = await workspace({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo pushed > /pushed\n` });
      const tags = [`team/app:${process.pid}`, `team/app:latest-${process.pid}`];
      images.push(...tags, ...tags.map((t) => `${registry.url}/${t}`));
      const secrets: SecretResolver = async (id) =>
        id === "registry-creds"
          ? { kind: "usernamePassword", username: "robot", password: "s3cret" }
          : undefined;
      const logs: string[] = [];
      const result = await runDockerBuildStep(
        step({ tags, push: { registry: `http://${registry.url}`, credential: "registry-creds" } }),
        {
          workspace: ws,
          env: {},
          log: (l) => logs.push(l),
          signal: new AbortController().signal,
          secrets,
          docker,
        },
      );
      expect(result.pushed).toEqual(tags.map((t) => `${registry.url}/${t}`));
      expect(registry.manifests.sort()).toEqual(tags.map((t) => t.replace(/^/, "")).sort());
      expect(registry.users.length).toBeGreaterThan(0);

      const wrong: SecretResolver = async () => ({
        kind: "usernamePassword",
        username: "robot",
        password: "wrong",
      });
      const err = await runDockerBuildStep(
        step({ tags: [tags[0]!], push: { registry: registry.url, credential: "x" } }),
        {
          workspace: ws,
          env: {},
          log: () => undefined,
          signal: new AbortController().signal,
          secrets: wrong,
          docker,
        },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecutorError);
      expect((err as Error).message).toMatch(/^logging in to 127\.0\.0\.1:\d+ as "robot" failed: .*401/);
    } finally {
      await registry.close();
    }
  });
});
