import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ShellExecutor } from "../../src/executors/shell.js";

// Set before any command starts: the zygote inherits the environment once, when it starts.
process.env.GANTRY_SECRET_KEY = "0123456789abcdef-server-master-key";
process.env.GANTRY_SECRET_DEPLOY = "local-credential-value";
process.env.GANTRY_TEST_VISIBLE_MARKER = "x";
process.env.SOME_HOST_VARIABLE = "host-value";

async function envOf(executor: ShellExecutor): Promise<string> {
  const workspace = mkdtempSync(path.join(os.tmpdir(), "gantry-env-"));
  const session = await executor.prepare(
    {
      runId: "1",
      jobId: "j",
      slug: "j",
      attempt: 1,
      spec: { kind: "shell", labels: [] },
      workspace,
      env: { JOB_VAR: "job" },
      log: () => undefined,
    },
    new AbortController().signal,
  );
  let out = "";
  await session.exec({ script: "env", cwd: "", env: {}, onOutput: (_s, b) => (out += b.toString()) });
  await session.cleanup();
  return out;
}

describe.each([
  ["through the zygote", new ShellExecutor()],
  ["by direct spawn", new ShellExecutor({ spawner: false })],
])("shell jobs' environment %s", (_name, executor) => {
  it("inherits the host's variables but none of Gantry's own secrets or settings", async () => {
    const env = await envOf(executor);
    expect(env).toMatch(/^SOME_HOST_VARIABLE=host-value$/m);
    expect(env).toMatch(/^JOB_VAR=job$/m);
    expect(env).not.toMatch(
      /GANTRY_SECRET_KEY|master-key|GANTRY_SECRET_DEPLOY|local-credential-value|GANTRY_TEST_VISIBLE/,
    );
  });
});
