import type { Command } from "commander";
import { CliError, EXIT } from "./errors.js";

/** Registers `gantry runner`. */
export function register(program: Command): void {
  program
    .command("runner")
    .description(
      "Run jobs for a Gantry server: register, lease jobs matching the labels, run them, report back",
    )
    .requiredOption("--server <url>", "the server's URL, e.g. http://ci.example.com:8080")
    .option("--token <token>", "runner token from `POST /api/v1/runners` (gtr_...); or GANTRY_RUNNER_TOKEN")
    .option("--labels <a,b>", "labels this runner offers (jobs select runners by label)", "")
    .option("--executor <kind>", "shell or docker", "shell")
    .option("--concurrency <n>", "jobs run at once", "1")
    .option("--name <name>", "name shown in the server (default: host name)")
    .option("--work-dir <dir>", "repository mirrors, checkouts and workspaces", ".gantry-runner")
    .action(async (o: Record<string, string | undefined>) => {
      const token = o.token ?? process.env.GANTRY_RUNNER_TOKEN;
      if (!token)
        throw new CliError(
          "a runner token is required",
          EXIT.USAGE,
          "pass --token gtr_... or set GANTRY_RUNNER_TOKEN (an admin creates one with POST /api/v1/runners)",
        );
      if (o.executor !== "shell" && o.executor !== "docker")
        throw new CliError(`--executor must be shell or docker, got "${o.executor}"`, EXIT.USAGE);
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
        throw new CliError("--concurrency must be 1..64", EXIT.USAGE);
      const path = await import("node:path");
      const { Agent } = await import("../runner/agent.js");
      const { ServerError } = await import("../runner/client.js");
      const agent = new Agent({
        server: o.server!,
        token,
        labels: (o.labels ?? "")
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean),
        executor: o.executor,
        concurrency,
        ...(o.name ? { name: o.name } : {}),
        workDir: path.resolve(o.workDir ?? ".gantry-runner"),
        log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
      });
      try {
        const info = await agent.register();
        process.stderr.write(
          `gantry runner: registered with ${o.server} as runner ${info.runnerId} (protocol ${info.protocolVersion})\n`,
        );
      } catch (err) {
        if (err instanceof ServerError) {
          if (err.status === 426) throw new CliError(err.message, EXIT.FAILED);
          if (err.status === 401)
            throw new CliError(
              `the server refused the token: ${err.message}`,
              EXIT.USAGE,
              "create a runner token with POST /api/v1/runners",
            );
        }
        throw new CliError(
          `cannot reach the server at ${o.server}: ${err instanceof Error ? err.message : String(err)}`,
          EXIT.FAILED,
        );
      }
      let stops = 0;
      const stop = () => {
        stops++;
        process.stderr.write(
          stops === 1
            ? "gantry runner: finishing running jobs (Ctrl-C again to cancel them)\n"
            : "gantry runner: canceling running jobs\n",
        );
        agent.stop(stops > 1);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      await agent.run();
    });
}
