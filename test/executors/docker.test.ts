import Docker from "dockerode";
import { DockerExecutor } from "../../src/executors/docker/index.js";
import { executorConformance } from "./conformance.js";
import { announceSkip, dockerLeftovers, dockerUnavailable, TEST_IMAGE } from "./docker-env.js";

const skip = await dockerUnavailable();
announceSkip("test/executors/docker.test.ts", skip);
const docker = new Docker();
// One executor for the whole suite, as the engine keeps one per process: later jobs then use
// the warm network namespace and detached removal, the default fast paths.
const executor = new DockerExecutor({ docker });

executorConformance({
  name: "docker",
  skip,
  create: () => executor,
  dispose: () => executor.dispose(),
  spec: { kind: "docker", labels: [], image: { name: TEST_IMAGE }, services: [] },
  leftovers: (job) => dockerLeftovers(docker, job.runId),
});
