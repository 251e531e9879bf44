import type { JobStatus, RunEvent } from "../engine/events.js";

/** ANSI styling that honours `NO_COLOR` and `FORCE_COLOR`. */
export function colours(stream: NodeJS.WriteStream) {
  const on =
    !process.env.NO_COLOR &&
    (process.env.FORCE_COLOR !== undefined ? process.env.FORCE_COLOR !== "0" : stream.isTTY === true);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled: on,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
    grey: wrap(90, 39),
  };
}
export type Colours = ReturnType<typeof colours>;

export interface JobView {
  id: string;
  name: string;
  stage: string;
  status: JobStatus;
  startedAt?: number;
  durationMs?: number;
  reason?: string;
  allowedFailure?: boolean;
  coverage?: number;
  attempt: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${Math.round((ms % 60_000) / 1000)}s`;
}

const LABEL: Record<JobStatus, string> = {
  created: "WAIT",
  waiting: "WAIT",
  running: "RUN",
  input: "INPUT",
  success: "PASS",
  unstable: "UNST",
  failed: "FAIL",
  canceled: "CNCL",
  skipped: "SKIP",
  manual: "MANL",
};

function statusLabel(c: Colours, v: JobView): string {
  const text = ` ${(v.status === "failed" && v.allowedFailure ? "WARN" : LABEL[v.status]).padEnd(4)} `;
  switch (v.status) {
    case "success":
      return c.green(text);
    case "failed":
      return v.allowedFailure ? c.yellow(text) : c.red(text);
    case "unstable":
    case "input":
      return c.yellow(text);
    case "running":
      return c.cyan(text);
    default:
      return c.grey(text);
  }
}

/** Keeps the state of every job from the event stream; shared by both renderers. */
export class RunState {
  readonly jobs = new Map<string, JobView>();
  readonly order: string[] = [];

  apply(e: RunEvent): void {
    if (e.type === "run.started") {
      for (const j of e.jobs) {
        this.jobs.set(j.id, { id: j.id, name: j.id, stage: j.stage, status: "created", attempt: 0 });
        this.order.push(j.id);
      }
    } else if (e.type === "job.status") {
      let v = this.jobs.get(e.jobId);
      if (!v) {
        v = { id: e.jobId, name: e.jobId, stage: "", status: "created", attempt: 0 };
        this.jobs.set(e.jobId, v);
        this.order.push(e.jobId);
      }
      v.status = e.status;
      v.attempt = e.attempt;
      if (e.status === "running") v.startedAt = e.time;
      if (e.durationMs !== undefined) v.durationMs = e.durationMs;
      if (e.reason !== undefined) v.reason = e.reason;
      v.allowedFailure = e.allowedFailure === true;
      if (e.coverage !== undefined) v.coverage = e.coverage;
    }
  }

  summary(c: Colours): string[] {
    const width = Math.max(0, ...this.order.map((id) => id.length));
    return this.order.map((id) => {
      const v = this.jobs.get(id)!;
      const dur = v.durationMs !== undefined ? formatDuration(v.durationMs) : "";
      const reason = v.status !== "success" && v.reason ? c.dim(`  ${v.reason}`) : "";
      const cov = v.coverage !== undefined ? c.dim(`  coverage ${v.coverage}%`) : "";
      return `${statusLabel(c, v)} ${id.padEnd(width)}  ${dur.padStart(7)}${cov}${reason}`;
    });
  }
}

/**
 * Collects what is written during one turn of the event loop and writes it as one string at
 * the end of the turn: one stream write and one system call instead of one per line (a 50-job
 * run prints ~250 lines; writing them one by one cost ~7 ms of a 140 ms run). Lines come out
 * in order and as soon as the turn that made them ends; `flush()` writes what is pending at
 * once (before the process exits).
 */
export class TurnBuffer {
  private parts: string[] = [];
  private scheduled = false;

  constructor(private readonly out: { write(s: string): unknown }) {}

  write(s: string): void {
    this.parts.push(s);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const text = this.parts.join("");
    this.parts = [];
    this.out.write(text);
  };
}

/**
 * Plain output for pipes, files and CI: every log line as `<job> > <text>`, job start and
 * finish lines, then a summary. What `CI=true` and non-TTY streams get.
 */
export class PlainRenderer {
  private readonly state = new RunState();
  private width = 0;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly c: Colours,
  ) {}

  handle(e: RunEvent): void {
    this.state.apply(e);
    const c = this.c;
    switch (e.type) {
      case "run.started":
        this.width = Math.max(0, ...e.jobs.map((j) => j.id.length));
        return;
      case "log": {
        const name = c.blue(e.jobId.padEnd(this.width));
        const text = e.stream === "system" ? c.dim(e.text) : e.text;
        this.out.write(`${name} ${c.green(">")} ${text}\n`);
        return;
      }
      case "job.status": {
        const name = c.blue(e.jobId.padEnd(this.width));
        if (e.status === "running")
          this.out.write(`${name} ${c.dim(e.attempt > 1 ? `started (attempt ${e.attempt})` : "started")}\n`);
        else if (
          e.status === "success" ||
          e.status === "failed" ||
          e.status === "unstable" ||
          e.status === "canceled"
        ) {
          const how = e.status === "failed" && e.allowedFailure ? "failed (allowed to fail)" : e.status;
          const paint =
            e.status === "success" ? c.green : e.status === "failed" && !e.allowedFailure ? c.red : c.yellow;
          this.out.write(
            `${name} ${paint(`finished: ${how}`)}${e.durationMs !== undefined ? c.dim(` in ${formatDuration(e.durationMs)}`) : ""}${e.reason && e.status !== "success" ? c.dim(` (${e.reason})`) : ""}\n`,
          );
        } else if (e.status === "skipped" || e.status === "manual")
          this.out.write(`${name} ${c.dim(`${e.status}${e.reason ? `: ${e.reason}` : ""}`)}\n`);
        return;
      }
      case "input.requested":
        this.out.write(
          `${c.blue(e.jobId.padEnd(this.width))} ${c.yellow(`waiting for input: ${e.message}`)}\n`,
        );
        return;
      case "run.finished": {
        this.out.write("\n");
        for (const line of this.state.summary(c)) this.out.write(`${line}\n`);
        const paint = e.status === "success" ? c.green : e.status === "failed" ? c.red : c.yellow;
        this.out.write(`\n${paint(`pipeline ${e.status}`)} in ${formatDuration(e.durationMs)}\n`);
        return;
      }
      default:
        return;
    }
  }
}

/**
 * The TTY renderer: log lines scroll above a live block of stages and jobs with their
 * status and durations, redrawn at most ten times a second.
 */
export class LiveRenderer {
  private readonly state = new RunState();
  private blockHeight = 0;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private width = 0;
  /** Redraws running jobs' durations while nothing else happens. */
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly c: Colours,
  ) {
    this.ticker = setInterval(() => {
      if (!this.timer && this.blockHeight > 0) this.draw(false);
    }, 500);
    this.ticker.unref();
  }

  handle(e: RunEvent): void {
    this.state.apply(e);
    if (e.type === "run.started") this.width = Math.max(0, ...e.jobs.map((j) => j.id.length));
    if (e.type === "log") {
      const text = e.stream === "system" ? this.c.dim(e.text) : e.text;
      this.pending.push(`${this.c.blue(e.jobId.padEnd(this.width))} ${this.c.green(">")} ${text}`);
    }
    if (e.type === "run.finished") {
      clearInterval(this.ticker);
      this.draw(true);
      const c = this.c;
      const paint = e.status === "success" ? c.green : e.status === "failed" ? c.red : c.yellow;
      this.out.write(`\n${paint(`pipeline ${e.status}`)} in ${formatDuration(e.durationMs)}\n`);
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => this.draw(false), 100);
  }

  private block(): string[] {
    const c = this.c;
    const lines: string[] = [];
    let stage: string | undefined;
    const now = Date.now();
    for (const id of this.state.order) {
      const v = this.state.jobs.get(id)!;
      if (v.stage !== stage) {
        stage = v.stage;
        lines.push(c.bold(stage || "jobs"));
      }
      const dur =
        v.status === "running" && v.startedAt
          ? formatDuration(now - v.startedAt)
          : v.durationMs !== undefined
            ? formatDuration(v.durationMs)
            : "";
      const icon: Record<JobStatus, string> = {
        created: c.grey("○"),
        waiting: c.grey("○"),
        running: c.cyan("●"),
        input: c.yellow("?"),
        success: c.green("✔"),
        unstable: c.yellow("!"),
        failed: v.allowedFailure ? c.yellow("✖") : c.red("✖"),
        canceled: c.grey("⊘"),
        skipped: c.grey("-"),
        manual: c.grey("▶"),
      };
      lines.push(`  ${icon[v.status]} ${id}  ${c.dim(dur)}`);
    }
    return lines;
  }

  private draw(final: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let s = "";
    if (this.blockHeight > 0) s += `\x1b[${this.blockHeight}A\x1b[0J`;
    for (const l of this.pending) s += `${l}\n`;
    this.pending = [];
    const block = final ? ["", ...this.state.summary(this.c)] : this.block();
    for (const l of block) s += `${l}\n`;
    this.blockHeight = final ? 0 : block.length;
    this.out.write(s);
  }
}
