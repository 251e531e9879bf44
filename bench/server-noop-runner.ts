/**
 * A protocol-level runner for the dispatch bench: leases jobs and reports them done at once
 * (one `finish` request per lease), without the engine, so the measure is the server's queue
 * and HTTP path.
 * Usage: server-noop-runner.ts <url> <runner-token> <slots>
 */
import { RunnerClient } from "../src/runner/client.js";
import { PROTOCOL_VERSION, type LeaseResponse } from "../src/runner/protocol.js";

const [url, token, slotsArg] = process.argv.slice(2);
const slots = Number(slotsArg ?? 8);
const c = new RunnerClient(url!, token!);
await c.json("POST", "/api/v1/runner/register", {
  protocolVersion: PROTOCOL_VERSION,
  name: "noop",
  labels: [],
  executors: ["shell"],
  concurrency: slots,
  version: "bench",
});
let done = 0;
for (let idle = 0; idle < 3;) {
  const { jobs } = await c.json<LeaseResponse>("POST", "/api/v1/runner/lease", { slots, waitMs: 1_000 });
  if (jobs.length === 0) {
    idle++;
    continue;
  }
  idle = 0;
  await c.json("POST", "/api/v1/runner/finish", {
    results: jobs.map((j) => ({
      id: j.id,
      attempt: j.attempt,
      outcome: { status: "success", exitCode: 0, durationMs: 0, allowedFailure: false, retryable: false },
    })),
  });
  done += jobs.length;
}
process.stdout.write(`noop-runner done ${done}\n`);
c.close();
