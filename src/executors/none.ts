import type { ExecutorSpec } from "../pipeline/plan.js";
import type { ExecRequest, ExecResult, Executor, ExecutorJob, ExecutorSession } from "./executor.js";

/**
 * For stages with `agent none` (Jenkins): the steps Gantry carries out itself (echo, error,
 * sleep, writeFile...) run; a shell command has no machine to run on and fails, saying why.
 */
export class NoAgentExecutor implements Executor {
  readonly name = "none" as const;

  supports(spec: ExecutorSpec): true | string {
    return spec.kind === "none" ? true : `the "none" executor cannot run a ${spec.kind} job`;
  }

  async prepare(job: ExecutorJob): Promise<ExecutorSession> {
    return {
      workdir: job.workspace,
      exec: async (req: ExecRequest): Promise<ExecResult> => {
        req.onOutput(
          "stderr",
          Buffer.from(
            "gantry: this stage has `agent none`, so there is no machine to run shell steps on; give the stage an agent (e.g. `agent any`)\n",
          ),
        );
        return { exitCode: 1, timedOut: false, canceled: false };
      },
      cleanup: async () => undefined,
    };
  }
}
