import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Spawner } from "../../src/executors/spawner.js";

const spawner = new Spawner();
afterAll(() => spawner.stop());

async function run(script: string, shell: "sh" | "bash" = "sh", mergeStderr = false) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const t0 = Date.now();
  const sp = await spawner.run({
    cwd: "/tmp",
    env: { GREETING: "hi" },
    script,
    shell,
    mergeStderr,
    onOutput: (s, c) => (s === "stdout" ? out : err).push(c),
  });
  const code = await sp.exit;
  return {
    code,
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    ms: Date.now() - t0,
  };
}

describe("spawner (bash zygote, output over loopback sockets)", () => {
  it("gives each of 50 concurrent commands exactly its own output and exit code", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        run(`echo "out $GREETING ${i}"; echo "err ${i}" >&2; exit ${i % 7}`, i % 2 ? "bash" : "sh"),
      ),
    );
    results.forEach((r, i) => {
      expect(r.stdout).toBe(`out hi ${i}\n`);
      expect(r.stderr).toBe(`err ${i}\n`);
      expect(r.code).toBe(i % 7);
    });
  });

  it("merges stderr into stdout in the order written when asked, for 50 concurrent commands", async () => {
    const script = (i: number) =>
      `for n in 1 2 3; do echo "out ${i}.$n"; echo "err ${i}.$n" >&2; done; sleep 0.05; echo "tail ${i}" >&2; exit ${i % 5}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => run(script(i), i % 2 ? "bash" : "sh", true)),
    );
    results.forEach((r, i) => {
      expect(r.stdout).toBe(
        `out ${i}.1\nerr ${i}.1\nout ${i}.2\nerr ${i}.2\nout ${i}.3\nerr ${i}.3\ntail ${i}\n`,
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(i % 5);
    });
  });

  it("delivers output written just before exit and binary data unchanged", async () => {
    const r = await run(`head -c 300000 /dev/zero | tr '\\0' 'x'; printf '\\303\\251\\000end'`);
    expect(r.stdout.length).toBe(300000 + 5);
    expect(r.stdout.endsWith("é\0end")).toBe(true);
  });

  it("reports a command whose background child still holds its output, and kills that child", async () => {
    const r = await run(`sleep 37.5 & echo main done; exit 4`, "bash");
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("main done\n");
    // Found by the zygote's periodic check, not when the child would have ended.
    expect(r.ms).toBeLessThan(3_000);
    expect(spawnSync("pgrep", ["-f", "sleep 37.5"]).status).toBe(1);
  });

  it("reports a bash command's exit code however it ends, and traces it as GitLab does", async () => {
    const traced = await run(`set -x; echo hi; exit 2`, "bash", true);
    expect(traced.code).toBe(2);
    // As GitLab traces a job's script (a sourced file's commands would show "++").
    expect(traced.stdout).toBe("+ echo hi\nhi\n+ exit 2\n");
    const ownTrap = await run(`trap 'echo bye' EXIT; exit 5`, "bash");
    expect([ownTrap.code, ownTrap.stdout]).toEqual([5, "bye\n"]);
    expect((await run(`exec sh -c 'exit 6'`, "bash")).code).toBe(6);
    expect((await run(`kill -TERM $$`, "bash")).code).toBe(143);
    expect((await run(`set -e; false; echo never`, "bash")).code).toBe(1);
  });

  it("gives every bash command a $$ of its own, which it can kill without ending the others", async () => {
    const pids = await Promise.all(Array.from({ length: 4 }, () => run(`echo $$ $BASHPID`, "bash")));
    const own = pids.map((r) => r.stdout.trim().split(" "));
    for (const [dollar, bashpid] of own) expect(dollar).toBe(bashpid);
    expect(new Set(own.map(([d]) => d)).size).toBe(4);
    expect((await run(`kill -TERM $$`, "bash")).code).toBe(143);
    expect((await run(`echo still here`, "bash")).stdout).toBe("still here\n");
  });

  it("kills what an ended command left in its process group before the next command starts", async () => {
    const first = await run(`sleep 41.5 >/dev/null 2>&1 & echo left`, "bash");
    expect([first.code, first.stdout]).toEqual([0, "left\n"]);
    const next = await run(`pgrep -f "sleep 41[.]5" >/dev/null && echo alive || echo gone`, "bash");
    expect(next.stdout).toBe("gone\n");
  });

  it("does not wait for a daemon that escaped the process group and holds the output", async () => {
    const r = await run(`setsid sleep 3 & sleep 0.2; echo started`);
    expect(r.stdout).toBe("started\n");
    // It waits a moment for the daemon's copy of the output to close, then lets go.
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(r.ms).toBeLessThan(5_000);
  });

  it("ignores connections that do not present the zygote's token", async () => {
    const own = new Spawner();
    try {
      const out: Buffer[] = [];
      // Request 1 of this spawner: still running while a stranger connects claiming to be it.
      const sp = await own.run({
        cwd: "/tmp",
        env: {},
        script: "sleep 0.5; echo real",
        onOutput: (_s, c) => out.push(c),
      });
      await sp.pid;
      const dropped = await new Promise<boolean>((resolve) => {
        const s = net.connect(own.port!, "127.0.0.1", () =>
          s.write("0123456789abcdef0123456789abcdef 1 o\nINJECTED\n"),
        );
        s.on("close", () => resolve(true));
        s.on("error", () => resolve(true));
      });
      expect(dropped).toBe(true);
      expect(await sp.exit).toBe(0);
      expect(Buffer.concat(out).toString()).toBe("real\n");
    } finally {
      await own.stop();
    }
  });

  it("removes script folders left by killed Gantry processes, and only those", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "gantry-shm-"));
    const dead = spawnSync("true").pid; // exited: its pid is free
    mkdirSync(path.join(root, `gantry-spawn-${dead}-abc`));
    writeFileSync(path.join(root, `gantry-spawn-${dead}-abc`, "7.sh"), "export TOKEN=secret\n");
    mkdirSync(path.join(root, `gantry-spawn-${process.ppid}-def`)); // a live process's
    mkdirSync(path.join(root, "unrelated"));
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = root;
    const own = new Spawner();
    try {
      const sp = await own.run({ cwd: "/tmp", env: {}, script: "true", onOutput: () => undefined });
      expect(await sp.exit).toBe(0);
      const left = readdirSync(root).sort();
      expect(left).not.toContain(`gantry-spawn-${dead}-abc`);
      expect(left).toContain(`gantry-spawn-${process.ppid}-def`);
      expect(left).toContain("unrelated");
      expect(left.some((n) => n.startsWith(`gantry-spawn-${process.pid}-`))).toBe(true); // its own
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
      await own.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reports a working directory that does not exist as exit 127 with a message", async () => {
    const sp = await spawner.run({
      cwd: "/nonexistent/dir",
      env: {},
      script: "echo never",
      onOutput: () => undefined,
    });
    expect(await sp.exit).toBe(127);
  });
});
