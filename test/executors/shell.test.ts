import { promises as fs } from "node:fs";
import { ShellExecutor } from "../../src/executors/shell.js";
import { executorConformance } from "./conformance.js";

/** Host processes whose working directory is inside the job's workspace. */
async function processesIn(workspace: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => "");
    if (cwd === workspace || cwd.startsWith(`${workspace}/`)) {
      const cmd = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      found.push(`pid ${pid}: ${cmd.replace(/\0/g, " ").trim()}`);
    }
  }
  return found;
}

executorConformance({
  name: "shell",
  create: () => new ShellExecutor(),
  spec: { kind: "shell", labels: [] },
  leftovers: (job) => processesIn(job.workspace),
});

// The fallback for hosts without bash or setsid: Gantry forks for each command.
executorConformance({
  name: "shell (direct spawn)",
  create: () => new ShellExecutor({ spawner: false }),
  spec: { kind: "shell", labels: [] },
  leftovers: (job) => processesIn(job.workspace),
});
