/**
 * A protocol-level runner for the dispatch bench: leases jobs and reports them done at once
 * (carried by its next lease request), without the engine, so the measure is the server's
 * queue and HTTP path.
 * Usage: server-noop-runner.ts <url> <runner-token> <slots>
 */
import { RunnerClient } from "../src/runner/client.js";
import { PROTOCOL_VERSION, type JobResult, type LeaseResponse } from "../src/runner/protocol.js";

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
// Each lease carries the results of the jobs the previous one handed out.
let results: JobResult[] = [];
for (let idle = 0; idle < 3;) {
  const res = await c.json<LeaseResponse>("POST", "/api/v1/runner/lease", {
    slots,
    waitMs: 1_000,
    ...(results.length > 0 ? { results } : {}),
  });
  results = res.jobs.map((j) => ({
    id: j.id,
    attempt: j.attempt,
    outcome: { status: "success", exitCode: 0, durationMs: 0, allowedFailure: false, retryable: false },
  }));
  if (res.jobs.length === 0) {
    idle++;
    continue;
  }
  idle = 0;
  done += res.jobs.length;
}
process.stdout.write(`noop-runner done ${done}\n`);
c.close();
