import { spawn, type ChildProcess } from "node:child_process";
import {
  closeSync,
  existsSync,
  openSync,
  promises as fs,
  readSync,
  rmSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { shellQuoteValue } from "./shell-quote.js";

/**
 * Starts job commands through one long-lived, small `bash` (a "zygote") instead of forking
 * the Gantry process for each of them.
 *
 * Why: `child_process.spawn` forks the whole Node process, and copying a 60–90 MB process's
 * page tables costs several milliseconds on the event loop for every command — most of the
 * run time of a pipeline of many short jobs. Forking a 4 MB bash costs a fraction of that.
 *
 * How: requests go to the zygote's stdin as one line each (`id`, the working directory, a
 * file holding the environment's exports and the script, the output files); it runs each
 * command as a job of its own process group (`set -m`, so a timeout can kill the whole tree),
 * prints `S <id> <pid>` when it started and `E <id> <exit code>` when it ended. Output goes to
 * files that are tailed while the command runs.
 */
const ZYGOTE = String.raw`
unset $(compgen -e | grep -E '^(npm_|GANTRY_)') 2>/dev/null
while IFS=$'\t' read -r __gz_id __gz_dir __gz_mode __gz_script __gz_out __gz_err; do
  (
    if ! cd -- "$__gz_dir" 2>>"$__gz_err"; then printf 'E %s 127\n' "$__gz_id"; exit; fi
    set -m
    if [ "$__gz_mode" = bash ]; then
      # Already bash: run the script in this forked subshell, no exec needed.
      ( set +m; exec >>"$__gz_out" 2>>"$__gz_err" </dev/null; . "$__gz_script" ) &
    else
      /bin/sh "$__gz_script" >>"$__gz_out" 2>>"$__gz_err" </dev/null &
    fi
    p=$!
    set +m
    printf 'S %s %s\n' "$__gz_id" "$p"
    wait "$p"
    printf 'E %s %s\n' "$__gz_id" "$?"
  ) &
done
`;
export interface SpawnRequest {
  cwd: string;
  env: Record<string, string>;
  script: string;
  /** `bash`: the script runs in bash (sourced by the zygote's own forked subshell); else `/bin/sh`. */
  shell?: "sh" | "bash";
  onOutput: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}

export interface Spawned {
  /** Process id of the command (its process group id too); undefined if it never started. */
  pid: Promise<number | undefined>;
  /** Exit code once the command ended and all its output was delivered. */
  exit: Promise<number>;
}

interface Pending {
  started: (pid: number | undefined) => void;
  ended: (code: number) => void;
}

/** One read buffer for every tail: reads are synchronous, so they never overlap. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads a file as it grows, from where it left off. The files are small, local and in the
 * page cache, so synchronous reads (microseconds) beat the promise API's per-call overhead
 * when dozens of jobs start at once.
 */
class Tail {
  private offset = 0;
  private readonly fd: number;
  private readonly watcher: FSWatcher | undefined;

  constructor(
    file: string,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    this.fd = openSync(file, "r");
    try {
      this.watcher = watch(file, () => this.pull());
    } catch {
      this.watcher = undefined;
    }
  }

  pull(): void {
    for (;;) {
      const n = readSync(this.fd, READ_BUFFER, 0, READ_BUFFER.length, this.offset);
      if (n === 0) return;
      this.offset += n;
      this.emit(Buffer.from(READ_BUFFER.subarray(0, n)));
    }
  }

  close(): void {
    this.watcher?.close();
    this.pull();
    closeSync(this.fd);
  }
}

export class Spawner {
  private proc: ChildProcess | undefined;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private buffer = "";
  private dir: string | undefined;
  private broken = false;

  /** Whether this host can use a zygote at all (bash present; `GANTRY_NO_SPAWNER` unset). */
  static available(): boolean {
    return process.env.GANTRY_NO_SPAWNER === undefined && existsSync("/bin/bash");
  }

  private async start(): Promise<ChildProcess> {
    if (this.proc) return this.proc;
    this.dir = await fs.mkdtemp(path.join(os.tmpdir(), "gantry-spawn-"));
    const proc = spawn("/bin/bash", ["--noprofile", "--norc", "-c", ZYGOTE], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.proc = proc;
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (d: string) => this.onData(d));
    proc.on("exit", () => {
      this.broken = true;
      for (const p of this.pending.values()) {
        p.started(undefined);
        p.ended(255);
      }
      this.pending.clear();
    });
    // The zygote must not keep Gantry alive, nor outlive it.
    proc.unref();
    (proc.stdout as unknown as { unref?: () => void }).unref?.();
    (proc.stdin as unknown as { unref?: () => void }).unref?.();
    return proc;
  }

  private onData(d: string): void {
    this.buffer += d;
    let nl = this.buffer.indexOf("\n");
    while (nl !== -1) {
      const [kind, id, value] = this.buffer.slice(0, nl).split(" ");
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf("\n");
      const p = this.pending.get(id ?? "");
      if (!p) continue;
      if (kind === "S") p.started(Number(value));
      else if (kind === "E") {
        this.pending.delete(id!);
        p.started(undefined);
        p.ended(Number(value));
      }
    }
  }

  get usable(): boolean {
    return !this.broken;
  }

  async run(req: SpawnRequest): Promise<Spawned> {
    const proc = await this.start();
    const id = String(++this.next);
    const base = path.join(this.dir!, id);
    const [scriptf, outf, errf] = [`${base}.sh`, `${base}.out`, `${base}.err`];
    const exports = Object.entries(req.env)
      .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `export ${k}=${shellQuoteValue(v)}`)
      .join("\n");
    // The exports run in the command's own shell, before the script: one file, not two.
    // Sourced scripts must not see the zygote's own variables.
    const prelude =
      req.shell === "bash" ? "unset __gz_id __gz_dir __gz_mode __gz_script __gz_out __gz_err p\n" : "";
    writeFileSync(scriptf, `${prelude}${exports}\n${req.script}`, { mode: 0o600 });
    closeSync(openSync(outf, "w"));
    closeSync(openSync(errf, "w"));
    const out = new Tail(outf, (c) => req.onOutput("stdout", c));
    const err = new Tail(errf, (c) => req.onOutput("stderr", c));
    let started!: (pid: number | undefined) => void;
    let ended!: (code: number) => void;
    const pid = new Promise<number | undefined>((r) => (started = r));
    const code = new Promise<number>((r) => (ended = r));
    this.pending.set(id, { started, ended });
    proc.stdin!.write(
      `${id}\t${req.cwd}\t${req.shell === "bash" ? "bash" : "sh"}\t${scriptf}\t${outf}\t${errf}\n`,
    );
    const exit = code.then(async (c) => {
      const p = await pid;
      // Background children of the command must not outlive it (nor hold output open).
      if (p !== undefined) killGroup(p, "SIGKILL");
      out.close();
      err.close();
      for (const f of [scriptf, outf, errf]) rmSync(f, { force: true });
      return c;
    });
    return { pid, exit };
  }

  /** Stops the zygote; commands still running are killed by the caller. */
  async stop(): Promise<void> {
    this.proc?.stdin?.end();
    this.proc?.kill();
    this.proc = undefined;
    if (this.dir) await fs.rm(this.dir, { recursive: true, force: true });
  }
}

export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

/** One zygote per Gantry process, started on first use. */
let shared: Spawner | undefined;
export function sharedSpawner(): Spawner | undefined {
  if (!Spawner.available()) return undefined;
  if (!shared || !shared.usable) shared = new Spawner();
  return shared;
}
