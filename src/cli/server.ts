import type { Command } from "commander";
import { CliError, EXIT } from "./errors.js";

/** Registers `gantry server`. */
export function register(program: Command): void {
  program
    .command("server")
    .description("Run the Gantry server: REST API, job queue, webhooks, cron, and a built-in runner")
    .option("--port <n>", "TCP port", "8080")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--data-dir <dir>", "database (SQLite), repositories, artifacts, secret key", ".gantry-server")
    .option(
      "--database-url <url>",
      "PostgreSQL URL (postgres://user:pass@host:5432/db) instead of SQLite; or GANTRY_DATABASE_URL",
    )
    .option("--no-builtin-runner", "do not run jobs in this process (use separate `gantry runner`s)")
    .option("--runner-concurrency <n>", "jobs the built-in runner runs at once", "2")
    .option("--lease <seconds>", "job lease without heartbeat before a runner counts as lost", "30")
    .option("--public-url <url>", "URL shown in CI_SERVER_URL and links (default: the listen address)")
    .option("--metrics-token <token>", "require this bearer token on /metrics; or GANTRY_METRICS_TOKEN")
    .option(
      "--artifact-expiry <duration>",
      'keep artifacts this long when the pipeline sets no expire_in ("30 days"; default: forever)',
    )
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be 0..65535, got "${String(o.port)}"`, EXIT.USAGE);
      const lease = Number(o.lease);
      if (!(lease >= 1))
        throw new CliError(`--lease must be at least 1 second, got "${String(o.lease)}"`, EXIT.USAGE);
      const concurrency = Number(o.runnerConcurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new CliError(`--runner-concurrency must be a positive integer`, EXIT.USAGE);
      let defaultArtifactExpiryMs: number | undefined;
      if (o.artifactExpiry !== undefined && !/^never$/i.test(String(o.artifactExpiry))) {
        const { parseDuration } = await import("../pipeline/gitlab/duration.js");
        defaultArtifactExpiryMs = parseDuration(String(o.artifactExpiry));
        if (!defaultArtifactExpiryMs)
          throw new CliError(
            `--artifact-expiry must be a duration, got "${String(o.artifactExpiry)}"`,
            EXIT.USAGE,
            'e.g. "30 days", "1 week", "12 hours" or "never"',
          );
      }
      const path = await import("node:path");
      const { startServer } = await import("../server/server.js");
      const databaseUrl = (o.databaseUrl as string | undefined) ?? process.env.GANTRY_DATABASE_URL;
      if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
        throw new CliError(
          `--database-url must be a postgres:// URL, got "${databaseUrl}"`,
          EXIT.USAGE,
          "leave it out to use SQLite in --data-dir",
        );
      let server;
      try {
        server = await startServer({
          port,
          host: String(o.host),
          dataDir: path.resolve(String(o.dataDir)),
          ...(databaseUrl ? { databaseUrl } : {}),
          builtinRunner: o.builtinRunner !== false,
          builtinConcurrency: concurrency,
          leaseMs: lease * 1000,
          ...(defaultArtifactExpiryMs ? { defaultArtifactExpiryMs } : {}),
          ...(o.publicUrl ? { publicUrl: String(o.publicUrl) } : {}),
          ...((o.metricsToken ?? process.env.GANTRY_METRICS_TOKEN)
            ? { metricsToken: String(o.metricsToken ?? process.env.GANTRY_METRICS_TOKEN) }
            : {}),
        });
      } catch (err) {
        const e = err as { code?: string; message: string };
        if (e.code === "EADDRINUSE")
          throw new CliError(`port ${port} is already in use`, EXIT.FAILED, "pick another with --port");
        if (e.code === "ECONNREFUSED" || /password authentication|does not exist|ENOTFOUND/.test(e.message))
          throw new CliError(
            `cannot open the database: ${e.message}`,
            EXIT.FAILED,
            "check --database-url and that PostgreSQL is running",
          );
        if (/newer than this Gantry|GANTRY_SECRET_KEY|secret.key/.test(e.message))
          throw new CliError(e.message, EXIT.FAILED);
        throw err;
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void server.close().then(resolve, resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
