import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ExecutorJob, ExecutorSession } from "../../src/executors/executor.js";
import { ExecutorError } from "../../src/executors/executor.js";
import { DockerExecutor } from "../../src/executors/docker/index.js";
import { reapLeftovers } from "../../src/executors/docker/reaper.js";
import { jobLabels } from "../../src/executors/docker/labels.js";
import type { ExecutorSpec, ServiceSpec } from "../../src/pipeline/plan.js";
import { announceSkip, dockerLeftovers, dockerUnavailable, TEST_IMAGE, WEB_IMAGE } from "./docker-env.js";

const skip = await dockerUnavailable();
announceSkip("test/executors/docker-executor.test.ts", skip);
const docker = new Docker();
const shared = new DockerExecutor({ docker });

type DockerSpec = Extract<ExecutorSpec, { kind: "docker" }>;

describe.skipIf(Boolean(skip))("docker executor on a real engine", () => {
  const sessions: ExecutorSession[] = [];
  const dirs: string[] = [];
  let n = 0;
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
    await shared.dispose();
  });

  async function job(
    spec: Partial<DockerSpec>,
    env: Record<string, string> = {},
  ): Promise<ExecutorJob & { logs: string[] }> {
    const workspace = await fs.mkdtemp(path.join(os.tmpdir(), "gantry-docker-"));
    dirs.push(workspace);
    const logs: string[] = [];
    const i = ++n;
    return {
      runId: `dx-${process.pid}-${i}`,
      jobId: `job ${i}`,
      slug: `job-${i}`,
      attempt: 1,
      spec: { kind: "docker", labels: [], services: [], image: { name: TEST_IMAGE }, ...spec },
      workspace,
      env,
      log: (l) => logs.push(l),
      logs,
    };
  }

  async function prepare(j: ExecutorJob, executor = shared): Promise<ExecutorSession> {
    const s = await executor.prepare(j, new AbortController().signal);
    sessions.push(s);
    return s;
  }

  async function sh(
    s: ExecutorSession,
    script: string,
  ): Promise<{ code: number | null; out: string; err: string }> {
    let out = "";
    let err = "";
    const r = await s.exec({
      script,
      cwd: "",
      env: {},
      onOutput: (stream, chunk) =>
        stream === "stdout" ? (out += chunk.toString()) : (err += chunk.toString()),
    });
    return { code: r.exitCode, out, err };
  }

  it("reaches a service by its alias on the job's network, and removes both afterwards", async () => {
    const web: ServiceSpec = { name: WEB_IMAGE, alias: ["web", "www"], variables: {} };
    const j = await job({ services: [web] });
    const s = await prepare(j);
    const r = await sh(s, "wget -qO- http://web:8080/ && wget -qO- http://www:8080/");
    expect(r).toEqual({ code: 0, out: "hello from gantry-test/web\nhello from gantry-test/web\n", err: "" });
    expect(j.logs.some((l) => l.includes(`Starting service ${WEB_IMAGE} as web, www`))).toBe(true);
    const before = await dockerLeftovers(docker, j.runId);
    expect(before.filter((x) => x.startsWith("container")).length).toBe(2);
    expect(before.filter((x) => x.startsWith("network")).length).toBe(1);
    await s.cleanup();
    await shared.dispose();
    expect(await dockerLeftovers(docker, j.runId)).toEqual([]);
  });

  it("passes service variables and a service command; default alias comes from the image name", async () => {
    const svc: ServiceSpec = {
      name: TEST_IMAGE,
      alias: [],
      command: ["sh", "-c", 'mkdir -p /w && echo "$GREETING" > /w/index.html && exec httpd -f -p 9000 -h /w'],
      variables: { GREETING: "hi from a service" },
    };
    const s = await prepare(await job({ services: [svc] }));
    // gantry-test/busybox:1 → aliases gantry-test__busybox and gantry-test-busybox.
    const r = await sh(
      s,
      "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://gantry-test-busybox:9000/ && exit 0; sleep 0.3; done; exit 1",
    );
    expect(r.out).toBe("hi from a service\n");
  });

  it("warns about a service that never answers, and cancelling while waiting for it leaves nothing", async () => {
    // The web image exposes 8080, but this command never listens on it.
    const mute: ServiceSpec = { name: WEB_IMAGE, alias: ["mute"], command: ["sleep", "100"], variables: {} };
    const j = await job({ services: [mute] });
    const quick = new DockerExecutor({ docker, serviceWaitMs: 600, warmNetwork: false });
    const s = await prepare(j, quick);
    expect(
      j.logs.some((l) =>
        l.startsWith(`WARNING: service ${WEB_IMAGE} (mute) did not answer on port 8080 within 1s`),
      ),
    ).toBe(true);
    await s.cleanup();

    const j2 = await job({ services: [mute] });
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 800);
    const err = await new DockerExecutor({ docker, warmNetwork: false })
      .prepare(j2, ac.signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as Error).message).toMatch(/cancelled/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await dockerLeftovers(docker, j2.runId)).toEqual([]);
  });

  it("reuses a network holder for later jobs of the same run, never across runs", async () => {
    const pooled = new DockerExecutor({ docker });
    const networkMode = async (runId: string) => {
      const [box] = await docker.listContainers({
        filters: JSON.stringify({ label: [`gantry.run=${runId}`] }),
      });
      return (await docker.getContainer(box!.Id).inspect()).HostConfig.NetworkMode ?? "";
    };
    try {
      const first = await job({});
      const s1 = await pooled.prepare(first, new AbortController().signal);
      expect(await networkMode(first.runId)).not.toMatch(/^container:/);
      await s1.cleanup();
      // The second job of the run waits for the holder made in the background, if need be.
      const second = { ...(await job({})), runId: first.runId };
      const s2 = await pooled.prepare(second, new AbortController().signal);
      const holderMode = await networkMode(first.runId);
      expect(holderMode).toMatch(/^container:[0-9a-f]{64}$/);
      // A job in a holder's namespace still has the bridge network.
      expect((await sh(s2, "ip -4 addr show eth0 | grep -c inet")).out).toBe("1\n");
      await s2.cleanup();

      const other = await job({});
      const s3 = await pooled.prepare(other, new AbortController().signal);
      expect(await networkMode(other.runId)).not.toBe(holderMode);
      await s3.cleanup();
    } finally {
      await pooled.dispose();
    }
  });

  it("fails with a clear error naming the image and the pull policy, leaving nothing behind", async () => {
    const j = await job({ image: { name: "gantry-test/does-not-exist:1", pullPolicy: ["never"] } });
    const err = await new DockerExecutor({ docker, warmNetwork: false })
      .prepare(j, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as ExecutorError).message).toContain(
      'docker image "gantry-test/does-not-exist:1" is not available (pull policy: never)',
    );
    expect((err as ExecutorError).hint).toMatch(/docker build|docker load/);
    expect(await dockerLeftovers(docker, j.runId)).toEqual([]);

    const j2 = await job({ image: { name: "gantry-test/does-not-exist:1" } });
    const err2 = await new DockerExecutor({ docker, warmNetwork: false })
      .prepare(j2, new AbortController().signal)
      .catch((e: unknown) => e);
    expect((err2 as ExecutorError).message).toMatch(
      /"gantry-test\/does-not-exist:1" is not available \(pull policy: if-not-present\): if-not-present: pull failed/,
    );
  });

  it("uses a local image with pull policy never, and falls back to it when a defaulted :latest pull fails", async () => {
    const s = await prepare(await job({ image: { name: TEST_IMAGE, pullPolicy: ["never"] } }));
    expect((await sh(s, "echo ok")).out).toBe("ok\n");
    const j = await job({ image: { name: "gantry-test/busybox:latest" } });
    const s2 = await prepare(j);
    expect((await sh(s2, "echo ok")).out).toBe("ok\n");
    expect(j.logs.some((l) => l.startsWith("WARNING: pulling gantry-test/busybox:latest failed"))).toBe(true);
  });

  it("refuses an explicit always policy when the registry is unreachable", async () => {
    const j = await job({ image: { name: TEST_IMAGE, pullPolicy: ["always"] } });
    await expect(
      new DockerExecutor({ docker, warmNetwork: false }).prepare(j, new AbortController().signal),
    ).rejects.toThrow(/pull policy: always\): always: pull failed/);
  });

  it("honours the image user and the Jenkins args subset (-u, -e, -v, --add-host)", async () => {
    const s = await prepare(await job({ image: { name: TEST_IMAGE, user: "builder" } }));
    expect((await sh(s, "id -un")).out).toBe("builder\n");

    const shared = await fs.mkdtemp(path.join(os.tmpdir(), "gantry-docker-vol-"));
    dirs.push(shared);
    // mkdtemp makes 0700 directories; the job runs as uid 1000.
    await fs.chmod(shared, 0o755);
    await fs.writeFile(path.join(shared, "data.txt"), "mounted\n");
    const j = await job(
      { args: `-u 1000:1000 -e FROM_ARGS="two words" -v ${shared}:/data:ro --add-host=db.local:10.1.2.3 -t` },
      { SOME: "x" },
    );
    const s2 = await prepare(j);
    const r = await sh(
      s2,
      'id -u; echo "$FROM_ARGS"; cat /data/data.txt; grep db.local /etc/hosts | cut -f1; touch /data/x 2>/dev/null || echo read-only',
    );
    expect(r.out).toBe("1000\ntwo words\nmounted\n10.1.2.3\nread-only\n");
  });

  it("gives each command the job's variables without writing them into the container's configuration", async () => {
    const j = await job({}, { TOKEN: "s3cr3t-value" });
    const s = await prepare(j);
    expect((await sh(s, 'echo "$TOKEN"')).out).toBe("s3cr3t-value\n");
    const filters = JSON.stringify({ label: [`gantry.run=${j.runId}`] });
    const [box] = await docker.listContainers({ filters });
    const info = await docker.getContainer(box!.Id).inspect();
    expect(info.Config.Env.join("\n")).not.toContain("s3cr3t-value");
  });

  it("refuses docker args outside the safe subset before creating anything", async () => {
    const j = await job({ args: "--privileged -v /a:/b" });
    const err = await new DockerExecutor({ docker, warmNetwork: false })
      .prepare(j, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as ExecutorError).message).toBe('docker agent args: "--privileged" is not supported');
    expect(await dockerLeftovers(docker, j.runId)).toEqual([]);
  });

  it("builds the agent image from a Dockerfile in the workspace first (agent { dockerfile })", async () => {
    const j = await job({
      image: undefined,
      build: {
        dockerfile: "ci/Dockerfile.agent",
        context: ".",
        buildArgs: { FLAVOUR: "from-build-arg" },
        additionalArgs: "--build-arg EXTRA=extra-arg",
      },
    });
    await fs.mkdir(path.join(j.workspace, "ci"));
    await fs.writeFile(
      path.join(j.workspace, "ci/Dockerfile.agent"),
      `FROM ${TEST_IMAGE}\nARG FLAVOUR\nARG EXTRA\nRUN echo "$FLAVOUR $EXTRA" > /flavour\n`,
    );
    const s = await prepare(j);
    expect((await sh(s, "cat /flavour")).out).toBe("from-build-arg extra-arg\n");
    expect(j.logs.some((l) => l.startsWith("Building agent image gantry-agent/job-"))).toBe(true);
    // The image was just built here: no registry is asked for it.
    expect(j.logs.filter((l) => /^Pulling|^WARNING/.test(l))).toEqual([]);
  });

  it("reports a job container whose entrypoint exits with a hint about entrypoints", async () => {
    const j = await job({ image: { name: TEST_IMAGE, entrypoint: ["true"] } });
    const s = await prepare(j);
    await new Promise((r) => setTimeout(r, 300));
    const err = await sh(s, "echo hi").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as ExecutorError).message).toMatch(/job container is not running/);
    expect((err as ExecutorError).hint).toMatch(/entrypoint/);
  });

  it("gives the job the engine's socket only with dockerSocket", async () => {
    const without = await prepare(await job({}));
    expect((await sh(without, "test -S /var/run/docker.sock && echo yes || echo no")).out).toBe("no\n");
    const withSocket = await prepare(
      await job({}),
      new DockerExecutor({ docker, dockerSocket: true, warmNetwork: false }),
    );
    expect(
      (await sh(withSocket, 'test -S /var/run/docker.sock && echo yes || echo no; echo "$DOCKER_HOST"')).out,
    ).toBe("yes\nunix:///var/run/docker.sock\n");
  });

  it("lets a script run `docker build` with --docker-socket when the image has a docker client", async (ctx) => {
    const client = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => isStatic(p));
    if (!client) ctx.skip();
    const j = await job({ args: `-v ${client}:/usr/bin/docker:ro` });
    await fs.writeFile(path.join(j.workspace, "Dockerfile"), `FROM ${TEST_IMAGE}\nRUN echo inner > /inner\n`);
    const s = await prepare(j, new DockerExecutor({ docker, dockerSocket: true, warmNetwork: false }));
    const r = await sh(
      s,
      "DOCKER_BUILDKIT=0 docker build -q -t gantry-test/inner-build:1 . >/dev/null && docker run --rm gantry-test/inner-build:1 cat /inner",
    );
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({
      code: 0,
      out: "inner\n",
      err: expect.any(String),
    });
  });
});

describe.skipIf(Boolean(skip))("docker reaper", () => {
  it("removes containers and networks of dead Gantry processes and keeps live ones", async () => {
    const dead = spawnSync("true").pid;
    const runId = `reap-${process.pid}`;
    const deadLabels = { ...jobLabels(runId, "dead", 1), "gantry.pid": String(dead) };
    const liveLabels = jobLabels(runId, "live", 1);
    const deadNet = await docker.createNetwork({
      Name: `gantry-reap-dead-${process.pid}`,
      Labels: deadLabels,
    });
    const deadBox = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"], Labels: deadLabels });
    const liveBox = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"], Labels: liveLabels });
    try {
      expect(await reapLeftovers(docker)).toBeGreaterThanOrEqual(2);
      const left = await dockerLeftovers(docker, runId);
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^container /);
      await expect(deadBox.inspect()).rejects.toThrow();
      await expect(deadNet.inspect()).rejects.toThrow();
      await expect(liveBox.inspect()).resolves.toBeTruthy();
    } finally {
      await liveBox.remove({ force: true }).catch(() => undefined);
      await deadBox.remove({ force: true }).catch(() => undefined);
      await deadNet.remove().catch(() => undefined);
    }
  });
});

function isStatic(file: string): boolean {
  const r = spawnSync("file", ["-L", file], { encoding: "utf8" });
  return r.status === 0 && /statically linked/.test(r.stdout);
}
