import Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { DockerExecutor } from "../../src/executors/docker/index.js";
import { ExecutorError } from "../../src/executors/executor.js";
import { parseRunArgs, splitWords } from "../../src/executors/docker/args.js";
import { splitReference } from "../../src/executors/docker/build.js";
import { pullPolicies } from "../../src/executors/docker/images.js";
import { defaultAliases } from "../../src/executors/docker/services.js";

describe("docker run args (Jenkins `args`)", () => {
  it("splits words like a shell for simple quoting", () => {
    expect(splitWords(`-e A="two words" -e 'B=$x y' -v a\\ b:/c`)).toEqual([
      "-e",
      "A=two words",
      "-e",
      "B=$x y",
      "-v",
      "a b:/c",
    ]);
    expect(() => splitWords(`-e "open`)).toThrow(ExecutorError);
  });

  it("maps the safe subset, every spelling, with $VAR expansion", () => {
    const a = parseRunArgs(
      "-v $HOME/.m2:/root/.m2 --volume=/data:/data:ro -e X=1 --env Y=2 -u 1000:1000 -w /src --net=host " +
        "--add-host db:10.0.0.1 --dns 8.8.8.8 --tmpfs /run:size=64m --group-add 999 -l team=a --memory 512m --cpus 1.5 " +
        "--shm-size=1g -h box --entrypoint= -t --rm -it",
      { HOME: "/home/ci" },
    );
    expect(a).toEqual({
      binds: ["/home/ci/.m2:/root/.m2", "/data:/data:ro"],
      env: ["X=1", "Y=2"],
      user: "1000:1000",
      workdir: "/src",
      network: "host",
      extraHosts: ["db:10.0.0.1"],
      dns: ["8.8.8.8"],
      tmpfs: { "/run": "size=64m" },
      groupAdd: ["999"],
      labels: { team: "a" },
      memory: 512 * 1024 ** 2,
      nanoCpus: 1_500_000_000,
      shmSize: 1024 ** 3,
      hostname: "box",
      entrypoint: [""],
    });
  });

  it("accepts glued short options (-uroot, -eK=V)", () => {
    expect(parseRunArgs("-uroot -eK=V", {})).toMatchObject({ user: "root", env: ["K=V"] });
  });

  it.each([
    ["--privileged", '"--privileged" is not supported'],
    ["--cap-add SYS_ADMIN", '"--cap-add" is not supported'],
    ["--pid=host", '"--pid=host" is not supported'],
    ["-v", '"-v" needs a value'],
    ["-v /only-one-part", "must be SOURCE:TARGET"],
    ["--memory lots", "is not a size"],
    ["--cpus many", "is not a number"],
  ])("refuses %s", (args, message) => {
    expect(() => parseRunArgs(args, {})).toThrow(message);
  });
});

describe("docker names and policies", () => {
  it("derives GitLab's default service aliases from the image", () => {
    expect(defaultAliases("tutum/wordpress:latest")).toEqual(["tutum__wordpress", "tutum-wordpress"]);
    expect(defaultAliases("postgres:16")).toEqual(["postgres"]);
    expect(defaultAliases("registry.example.com:5000/team/db@sha256:abc")).toEqual([
      "registry.example.com:5000__team__db",
      "registry.example.com:5000-team-db",
    ]);
  });

  it("defaults the pull policy like GitLab: always for :latest or untagged, else if-not-present", () => {
    expect(pullPolicies("alpine", undefined)).toEqual({ policies: ["always"], defaulted: true });
    expect(pullPolicies("alpine:latest", undefined)).toEqual({ policies: ["always"], defaulted: true });
    expect(pullPolicies("localhost:5000/alpine", undefined)).toEqual({
      policies: ["always"],
      defaulted: true,
    });
    expect(pullPolicies("localhost:5000/alpine:3.20", undefined)).toEqual({
      policies: ["if-not-present"],
      defaulted: true,
    });
    expect(pullPolicies("alpine@sha256:abc", undefined)).toEqual({
      policies: ["if-not-present"],
      defaulted: true,
    });
    expect(pullPolicies("alpine", ["never"])).toEqual({ policies: ["never"], defaulted: false });
  });

  it("splits image references into repository and tag", () => {
    expect(splitReference("registry:5000/team/app:1.2")).toEqual({
      repo: "registry:5000/team/app",
      tag: "1.2",
    });
    expect(splitReference("registry:5000/team/app")).toEqual({
      repo: "registry:5000/team/app",
      tag: "latest",
    });
  });
});

describe("docker executor without an engine", () => {
  it("fails prepare with an ExecutorError that says the engine is unreachable and how to fix it", async () => {
    const executor = new DockerExecutor({
      docker: new Docker({ socketPath: "/nonexistent/docker.sock" }),
      warmNetwork: false,
    });
    const err = await executor
      .prepare(
        {
          runId: "r",
          jobId: "j",
          slug: "j",
          attempt: 1,
          workspace: "/tmp",
          env: {},
          log: () => undefined,
          spec: { kind: "docker", labels: [], image: { name: "alpine:3" }, services: [] },
        },
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as ExecutorError).message).toBe(
      "cannot reach the Docker engine (connect ENOENT /nonexistent/docker.sock)",
    );
    expect((err as ExecutorError).hint).toMatch(/DOCKER_HOST/);
  });

  it("says why it cannot run shell or kubernetes jobs", () => {
    const executor = new DockerExecutor({
      docker: new Docker({ socketPath: "/nonexistent/docker.sock" }),
      warmNetwork: false,
    });
    expect(executor.supports({ kind: "docker", labels: [], services: [] })).toBe(true);
    expect(executor.supports({ kind: "shell", labels: [] })).toMatch(/not "shell" jobs/);
  });
});
