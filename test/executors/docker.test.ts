import Docker from "dockerode";
import { DockerExecutor } from "../../src/executors/docker/index.js";
import { executorConformance } from "./conformance.js";
import { announceSkip, dockerLeftovers, dockerUnavailable, TEST_IMAGE } from "./docker-env.js";

const skip = await dockerUnavailable();
announceSkip("test/executors/docker.test.ts", skip);
const docker = new Docker();

executorConformance({
  name: "docker",
  skip,
  create: () => new DockerExecutor({ docker }),
  spec: { kind: "docker", labels: [], image: { name: TEST_IMAGE }, services: [] },
  leftovers: (job) => dockerLeftovers(docker, job.runId),
});
