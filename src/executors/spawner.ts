import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  promises as fs,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
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
 * How: requests go to the zygote's stdin as one short line each (`id` and the shell; the
 * command's file, named after the id, changes to the working directory, exports the
 * environment and holds the script: bash reads a pipe a byte at a time). For each, the zygote forks
 * once: the child, a process group of its own (the zygote runs with `set -m`, so a timeout can
 * kill the whole tree), opens two TCP connections to a loopback listener of this process
 * (bash's `/dev/tcp`; one when stderr is merged into stdout), announces them with a
 * per-process random token and the request id, points stdout and stderr at them and becomes
 * the command (sources a bash script, or `exec`s `/bin/sh`). The zygote prints
 * `S <id> <pid>` when it started the command. It cannot wait for it (it waits for requests),
 * and bash runs a `CHLD` trap only once `read` returns: so this process asks with a `poll`
 * line when a command's connections closed (and every quarter second while commands run, for
 * those whose output a background process still holds), and the zygote then prints
 * `E <id> <exit code>` for each command that ended and kills what it left in its group.
 * (An `EXIT` trap in the command cannot report instead: bash runs it with `$?` 0 when a
 * signal ends the shell.)
 * Sockets rather than files: no files to create, watch, read and delete per command, and
 * output arrives as it is written. One fork per command rather than a waiting subshell and
 * the command: half the processes, which matters when fifty run at once on two cores.
 */
/** A literal `$` before `{` in the script below (`${` would start an interpolation). */
const D = "$";
const ZYGOTE = String.raw`
__gz_port=$GANTRY_ZYGOTE_PORT __gz_token=$GANTRY_ZYGOTE_TOKEN __gz_dir=$GANTRY_ZYGOTE_DIR
unset "${D}{!npm_@}" "${D}{!GANTRY_@}"
# Job-control notices ("Done ...") are not for the user's terminal.
exec 2>/dev/null
declare -A __gz_ids
# Reports every command that ended (its pid is gone) and kills what it left in its group.
__gz_reap() {
  local p id rc
  for p in "${D}{!__gz_ids[@]}"; do
    kill -0 "$p" 2>/dev/null && continue
    id=${D}{__gz_ids[$p]}
    unset "__gz_ids[$p]"
    wait "$p"; rc=$?
    kill -KILL -- "-$p" 2>/dev/null
    printf 'E %s %s\n' "$id" "$rc"
  done
}
set -m
# A request: "<id>\t<mode>" (the script is "$__gz_dir/<id>.sh" and starts with its own "cd"),
# or "0\tpoll", or "0\trm\t<folder>". Short on purpose: bash reads a pipe one byte at a time.
while IFS=$'\t' read -r __gz_id __gz_mode __gz_arg; do
  case $__gz_mode in
    rm)
      # Removing a finished run's files: nobody waits for it, it may outlive Gantry.
      ( set +m; rm -rf -- "$__gz_arg" >/dev/null 2>&1 </dev/null & )
      continue ;;
    poll) __gz_reap; continue ;;
  esac
  (
    set +m
    case $__gz_mode in
      *+)
        # stderr into stdout: one connection, both descriptors on it, lines in written order.
        if ! { exec 3<>"/dev/tcp/127.0.0.1/$__gz_port"; } 2>/dev/null; then
          printf 'X %s\n' "$__gz_id"; exit
        fi
        exec 4>&3
        printf '%s %s m\n' "$__gz_token" "$__gz_id" >&3
        __gz_mode=${D}{__gz_mode%+} ;;
      *)
        if ! { exec 3<>"/dev/tcp/127.0.0.1/$__gz_port" 4<>"/dev/tcp/127.0.0.1/$__gz_port"; } 2>/dev/null; then
          printf 'X %s\n' "$__gz_id"; exit
        fi
        printf '%s %s o\n' "$__gz_token" "$__gz_id" >&3
        printf '%s %s e\n' "$__gz_token" "$__gz_id" >&4 ;;
    esac
    __gz_script=$__gz_dir/$__gz_id.sh
    unset __gz_token __gz_ids
    unset -f __gz_reap
    exec >&3 2>&4 3>&- 4>&- </dev/null
    case $__gz_mode in
      # Already bash: source the script here, no exec needed (see ownShell in spawner.ts).
      bash) . "$__gz_script" ;;
      bashx) exec /bin/bash --noprofile --norc "$__gz_script" ;;
      *) exec /bin/sh "$__gz_script" ;;
    esac
  ) &
  __gz_ids[$!]=$__gz_id
  printf 'S %s %s\n' "$__gz_id" "$!"
done
# Gantry is gone: kill what ended commands left behind.
exec >/dev/null
__gz_reap
`;

/**
 * Whether a bash script must run in a bash of its own rather than be sourced by a fork of the
 * zygote, which is ~0.7 ms cheaper per command. A fork is a subshell: `$$` would be the
 * zygote's process id (the same in every job, and `kill $$` would end the zygote), `set -x`
 * would trace "++" (commands of a sourced file), and `$0`, `BASH_SOURCE`, `LINENO` or a top-level
 * `return` would behave differently. So any script that mentions one of these, sources or
 * `eval`s other code (which could), gets its own bash. False positives only cost time.
 */
export function ownShell(script: string): boolean {
  return OWN_SHELL.test(script);
}
const OWN_SHELL =
  /\$\$|\$\{\$\}|\$0|\$\{0\}|(^|[\s;&|(`])(\.|source|eval|return|caller)(\s|$)|\bset\b.*(\s-[a-zA-Z]*x|xtrace)|BASH_SOURCE|BASH_ARGV|LINENO|FUNCNAME|BASH_SUBSHELL|BASH_COMMAND|PPID|SHLVL/m;

/**
 * How long to wait, after a command ended and its process group was killed, for its two
 * output connections to close. They close at once unless a daemon that escaped the group
 * (`setsid`) still holds them; its later output is dropped.
 */
const DRAIN_GRACE_MS = 1_000;
/**
 * How often the zygote is asked for commands that ended while commands run, besides when a
 * command's connections close: what reports a command whose output a background process holds.
 */
const POLL_MS = 250;
/** A connection must announce itself within this many bytes. */
const MAX_HEADER = 256;

export interface SpawnRequest {
  cwd: string;
  env: Record<string, string>;
  script: string;
  /** `bash`: the script runs in bash (sourced by the zygote's own forked subshell); else `/bin/sh`. */
  shell?: "sh" | "bash";
  /** stderr into stdout, in the order written, all of it reported as `stdout` (one connection). */
  mergeStderr?: boolean;
  onOutput: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}

export interface Spawned {
  /** Process id of the command (its process group id too); undefined if it never started. */
  pid: Promise<number | undefined>;
  /**
   * Exit code once the command ended and all its output was delivered. Rejects with
   * {@link SpawnerUnavailableError} when the zygote could not start the command at all (the
   * command did not run; run it another way).
   */
  exit: Promise<number>;
}

/** The zygote cannot run commands on this host (e.g. a bash without `/dev/tcp`). */
export class SpawnerUnavailableError extends Error {}

interface Pending {
  req: SpawnRequest;
  started: (pid: number | undefined) => void;
  ended: (code: number) => void;
  failed: (err: Error) => void;
  /** Output sockets accepted so far. */
  open: Set<net.Socket>;
  /** Output sockets closed so far. */
  closed: number;
  /** Output sockets whose other end closed (the command, or what held its output, ended). */
  eof: number;
  /** Output sockets the command has: 1 with stderr merged into stdout, else 2. */
  sockets: number;
  /** Exit code once `E` arrived. */
  code?: number;
  pid?: number;
  drained?: () => void;
}

export class Spawner {
  private proc: ChildProcess | undefined;
  private server: net.Server | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly token = randomBytes(16).toString("hex");
  private next = 0;
  private buffer = "";
  private dir: string | undefined;
  private broken = false;
  private poller: NodeJS.Timeout | undefined;
  private removeDirAtExit: (() => void) | undefined;

  /** Whether this host can use a zygote at all (bash present; `GANTRY_NO_SPAWNER` unset). */
  static available(): boolean {
    hasBash ??= existsSync("/bin/bash");
    return !unsupported && process.env.GANTRY_NO_SPAWNER === undefined && hasBash;
  }

  private start(): Promise<ChildProcess> {
    this.starting ??= this.launch();
    return this.starting;
  }

  private async launch(): Promise<ChildProcess> {
    // Without a thread-pool round trip: bash should start before a synchronous stretch of
    // work (compiling the pipeline) holds the event loop.
    const root = scriptRoot();
    sweepStale(root);
    const dir = mkdtempSync(path.join(root, `gantry-spawn-${process.pid}-`));
    this.dir = dir;
    // Only script files live there, each deleted when its command ends: the folder goes at exit.
    this.removeDirAtExit = () => {
      try {
        rmdirSync(dir); // empty unless commands were still running
      } catch {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    process.once("exit", this.removeDirAtExit);
    const server = net.createServer((s) => this.onConnection(s));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    server.unref();
    this.server = server;
    const { port } = server.address() as net.AddressInfo;
    const proc = spawn("/bin/bash", ["--noprofile", "--norc", "-c", ZYGOTE], {
      stdio: ["pipe", "pipe", "inherit"],
      env: {
        ...process.env,
        GANTRY_ZYGOTE_PORT: String(port),
        GANTRY_ZYGOTE_TOKEN: this.token,
        GANTRY_ZYGOTE_DIR: dir,
      },
    });
    this.proc = proc;
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (d: string) => this.onData(d));
    proc.stdin.on("error", () => undefined);
    proc.on("exit", () => {
      this.broken = true;
      for (const p of this.pending.values()) {
        p.started(undefined);
        p.ended(255);
      }
      this.pending.clear();
      this.holdOpen();
    });
    // The zygote must not keep Gantry alive, nor outlive it.
    proc.unref();
    (proc.stdout as unknown as { unref?: () => void }).unref?.();
    (proc.stdin as unknown as { unref?: () => void }).unref?.();
    return proc;
  }

  /** A command's output connection: `<token> <id> o|e\n`, then the raw stream. */
  private onConnection(socket: net.Socket): void {
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl === -1) {
        if (head.length > MAX_HEADER) socket.destroy();
        return;
      }
      socket.off("data", onHead);
      const [token = "", id = "", kind = ""] = head.subarray(0, nl).toString("latin1").split(" ");
      const p = this.pending.get(id);
      const kinds = p?.sockets === 1 ? ["m"] : ["o", "e"];
      if (!p || !sameToken(token, this.token) || !kinds.includes(kind)) {
        socket.destroy();
        return;
      }
      const stream = kind === "e" ? "stderr" : "stdout";
      p.open.add(socket);
      socket.on("data", (c: Buffer) => p.req.onOutput(stream, c));
      // The other end closed: the command (or whatever held its output) ended. Asking for
      // its exit code at once, before this side is closed too, saves a turn per command.
      socket.on("end", () => {
        if (++p.eof < p.sockets || p.code !== undefined) return;
        this.poll();
      });
      socket.on("close", () => {
        if (++p.closed === p.sockets) p.drained?.();
      });
      socket.on("error", () => undefined);
      const rest = head.subarray(nl + 1);
      if (rest.length > 0) p.req.onOutput(stream, rest);
    };
    socket.on("data", onHead);
    socket.on("error", () => undefined);
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
      if (kind === "S") {
        p.pid = Number(value);
        p.started(p.pid);
      } else if (kind === "E") {
        if (p.code !== undefined) continue; // reported already
        p.code = Number(value);
        p.started(undefined);
        void this.finish(id!, p);
      } else if (kind === "X") {
        unsupported = true;
        this.pending.delete(id!);
        this.holdOpen();
        p.started(undefined);
        p.failed(new SpawnerUnavailableError("bash cannot connect to 127.0.0.1 (/dev/tcp)"));
      }
    }
  }

  /** The command ended: kill what it left behind, let its output drain, then report. */
  private async finish(id: string, p: Pending): Promise<void> {
    // The zygote already killed what the command left running in its process group.
    // Its connections were made before the command started, but may not be accepted yet.
    if (p.closed < p.sockets) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_GRACE_MS);
        p.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      for (const s of p.open) s.destroy();
    }
    this.pending.delete(id);
    this.holdOpen();
    p.ended(p.code ?? 255);
  }

  /**
   * Nothing else keeps Node running while a command runs (the zygote's pipes are unref'd so
   * that it never keeps Gantry alive): the listener does, while commands are pending.
   */
  private holdOpen(): void {
    if (this.pending.size > 0) {
      this.server?.ref();
      // For commands whose output a background process keeps open after they ended.
      if (!this.poller) {
        this.poller = setInterval(() => this.poll(), POLL_MS);
        this.poller.unref();
      }
    } else {
      this.server?.unref();
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  /** Asks the zygote to report the commands that ended (`E` lines). */
  private poll(): void {
    if (this.proc && !this.broken) this.proc.stdin!.write("0\tpoll\n");
  }

  /** Asks a running zygote to remove `dir` in the background; false if there is none. */
  removeTree(dir: string): boolean {
    if (!this.proc || this.broken || /[\t\n]/.test(dir)) return false;
    this.proc.stdin!.write(`0\trm\t${dir}\n`);
    return true;
  }

  /**
   * Starts the zygote now, so that it is ready when the first command comes. Await it before
   * a long synchronous stretch (compiling a pipeline): starting needs a few event-loop ticks.
   */
  async warm(): Promise<void> {
    try {
      await this.start();
    } catch {
      this.broken = true;
    }
  }

  /** The loopback port commands' output connects to (for diagnostics and tests). */
  get port(): number | undefined {
    return (this.server?.address() as net.AddressInfo | null)?.port;
  }

  get usable(): boolean {
    return !this.broken;
  }

  async run(req: SpawnRequest): Promise<Spawned> {
    const proc = await this.start();
    if (this.broken) throw new SpawnerUnavailableError("the zygote has exited");
    const id = String(++this.next);
    const scriptf = path.join(this.dir!, `${id}.sh`);
    const exports = Object.entries(req.env)
      .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `export ${k}=${shellQuoteValue(v)}`)
      .join("\n");
    // The exports run in the command's own shell, before the script: one file, not two.
    // Sourced scripts must not see the zygote's own variables.
    const prelude =
      req.shell === "bash"
        ? "unset __gz_id __gz_dir __gz_mode __gz_arg __gz_script __gz_port p BASH_EXECUTION_STRING\n"
        : "";
    const cd = `cd -- ${shellQuoteValue(req.cwd)} || exit 127\n`;
    writeFileSync(scriptf, `${prelude}${cd}${exports}\n${req.script}`, { mode: 0o600 });
    let started!: (pid: number | undefined) => void;
    let ended!: (code: number) => void;
    let failed!: (err: Error) => void;
    const pid = new Promise<number | undefined>((r) => (started = r));
    const code = new Promise<number>((resolve, reject) => {
      ended = resolve;
      failed = reject;
    });
    const sockets = req.mergeStderr ? 1 : 2;
    this.pending.set(id, { req, started, ended, failed, open: new Set(), closed: 0, eof: 0, sockets });
    this.holdOpen();
    const shell = req.shell !== "bash" ? "sh" : ownShell(req.script) ? "bashx" : "bash";
    const mode = `${shell}${req.mergeStderr ? "+" : ""}`;
    proc.stdin!.write(`${id}\t${mode}\n`);
    // At once: the file holds the job's variables, credentials included.
    const exit = code.finally(() => unlinkQuietly(scriptf));
    return { pid, exit };
  }

  /** Stops the zygote; commands still running are killed by the caller. */
  async stop(): Promise<void> {
    clearInterval(this.poller);
    this.poller = undefined;
    this.proc?.stdin?.end();
    this.proc?.kill();
    this.proc = undefined;
    this.starting = undefined;
    this.server?.close();
    if (this.removeDirAtExit) process.off("exit", this.removeDirAtExit);
    if (this.dir) await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Where the per-command script files go: a memory-backed folder when there is one (the
 * user's runtime folder, else `/dev/shm`). Creating and deleting a small file there costs a
 * fraction of what it costs on a journaling disk, twice per command. The folder made in it is
 * private (0700, as `mkdtemp` makes it).
 */
function scriptRoot(): string {
  for (const dir of [process.env.XDG_RUNTIME_DIR, "/dev/shm"]) {
    if (!dir) continue;
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
      return dir;
    } catch {
      // Not here: try the next.
    }
  }
  return os.tmpdir();
}

/**
 * Removes script folders of Gantry processes that are gone without cleaning up (killed with
 * SIGKILL): their names carry the pid. They may still hold a script with a job's variables.
 */
function sweepStale(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^gantry-spawn-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(path.join(root, name), { recursive: true, force: true });
    } catch {
      // Someone else's, or already gone.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, another user's
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone (the zygote's folder was removed).
  }
}

function sameToken(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

let hasBash: boolean | undefined;

/** Set once a zygote found it cannot work here: later commands fork directly. */
let unsupported = false;

/**
 * Runs a program (no shell involved: `argv` is quoted) and collects its output: through the
 * zygote when there is one, which costs far less than forking Gantry (`execFile`).
 */
export async function capture(
  argv: readonly string[],
  cwd: string,
): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const spawner = sharedSpawner();
  if (spawner) {
    const sp = await spawner.run({
      cwd,
      env: {},
      script: `exec ${argv.map(shellQuoteValue).join(" ")}`,
      // Sourced by the zygote's forked subshell, which then becomes the program: no /bin/sh.
      shell: "bash",
      onOutput: (stream, chunk) => (stream === "stdout" ? out : err).push(chunk),
    });
    try {
      const code = await sp.exit;
      return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
    } catch (e) {
      if (!(e instanceof SpawnerUnavailableError)) throw e;
    }
  }
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    execFile(
      file!,
      args,
      { cwd, encoding: "buffer", maxBuffer: 1024 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Removes a folder tree without waiting for it: through the zygote when it runs (the removal
 * may finish after Gantry exits), else synchronously.
 */
export function removeInBackground(dir: string): void {
  if (!sharedSpawner()?.removeTree(dir)) rmSync(dir, { recursive: true, force: true });
}

/** One zygote per Gantry process, started on first use. */
let shared: Spawner | undefined;
export function sharedSpawner(): Spawner | undefined {
  if (!Spawner.available()) return undefined;
  if (!shared || !shared.usable) shared = new Spawner();
  return shared;
}
