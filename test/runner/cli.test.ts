import { afterAll, describe, expect, it } from "vitest";
import { gantry, startServerProc, tmpDir, type Proc } from "./harness.js";

const TOKEN = "gty_cli_test_admin_token_0123456789abcdef";

describe("gantry server / gantry runner commands", () => {
  const procs: Proc[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill9();
  });

  it("runner: refuses a missing or unknown token with exit 2 and a hint; server: exits 0 on SIGTERM", async () => {
    const s = await startServerProc({ dataDir: tmpDir("gantry-cli-"), token: TOKEN, builtin: false });
    procs.push(s);
    const none = gantry(["runner", "--server", s.url], { GANTRY_RUNNER_TOKEN: "" });
    expect(await none.exited).toBe(2);
    expect(none.out.join("\n")).toContain("a runner token is required");
    const bad = gantry(["runner", "--server", s.url, "--token", "gtr_nope"]);
    expect(await bad.exited).toBe(2);
    expect(bad.out.join("\n")).toMatch(/refused the token[\s\S]*hint: create a runner token/);
    // A user token is not a runner token.
    const user = gantry(["runner", "--server", s.url, "--token", TOKEN]);
    expect(await user.exited).toBe(2);
    const t0 = Date.now();
    process.kill(-s.proc.pid!, "SIGTERM");
    expect(await s.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 60_000);

  it("server: a taken port is exit 1 with a hint; bad options are exit 2", async () => {
    const a = await startServerProc({ dataDir: tmpDir("gantry-cli-"), token: TOKEN, builtin: false });
    procs.push(a);
    const port = new URL(a.url).port;
    const b = gantry(["server", "--port", port, "--data-dir", tmpDir("gantry-cli-"), "--no-builtin-runner"]);
    expect(await b.exited).toBe(1);
    expect(b.out.join("\n")).toContain(`port ${port} is already in use`);
    const c = gantry(["server", "--port", "99999"]);
    expect(await c.exited).toBe(2);
    const d = gantry(["server", "--database-url", "mysql://x"]);
    expect(await d.exited).toBe(2);
    expect(d.out.join("\n")).toContain("must be a postgres:// URL");
  }, 60_000);
});
