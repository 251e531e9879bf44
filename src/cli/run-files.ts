import { closeSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { TERMINAL_JOB_STATUSES, type RunEvent } from "../engine/events.js";
import { PIPELINE_POST_JOB_ID } from "../engine/job-runner.js";
import { jobSlugs, slugify } from "../engine/variables.js";

/** Write what was buffered at least this often, so `tail -f` on a log keeps up. */
const FLUSH_MS = 100;
/** …and whenever this much is waiting. */
const FLUSH_BYTES = 64 * 1024;

/**
 * A file appended to in batches. One `WriteStream` write per event costs a thread-pool round
 * trip and a system call; a pipeline of many short jobs writes thousands of small lines, so
 * they are gathered and written with one synchronous call per file and flush (small writes to
 * the page cache take microseconds).
 */
class BatchedFile {
  private fd: number | undefined;
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly file: string) {}

  append(text: string): boolean {
    this.parts.push(text);
    this.size += text.length;
    return this.size >= FLUSH_BYTES;
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    this.fd ??= openSync(this.file, "a");
    writeSync(this.fd, text);
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Per-job log files and the event log under `.gantry/runs/<id>/`. */
export class RunFiles {
  private readonly logs = new Map<string, BatchedFile>();
  /** Each job's log file name (without `.log`), from the run's job list. */
  private names = new Map<string, string>();
  private readonly events: BatchedFile;
  private timer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;

  constructor(private readonly dir: string) {
    this.events = new BatchedFile(path.join(dir, "events.jsonl"));
  }

  handle(e: RunEvent): void {
    let full = this.events.append(`${JSON.stringify(e)}\n`);
    if (e.type === "run.started") {
      // Jobs whose names differ only in punctuation must not share a log.
      this.names = jobSlugs([...e.jobs.map((j) => j.id), PIPELINE_POST_JOB_ID]);
    } else if (e.type === "log") {
      let f = this.logs.get(e.jobId);
      if (!f) {
        const name = this.names.get(e.jobId) ?? slugify(e.jobId);
        f = new BatchedFile(path.join(this.dir, `${name}.log`));
        this.logs.set(e.jobId, f);
      }
      full = f.append(`${e.text}\n`) || full;
    } else if (e.type === "job.status" && TERMINAL_JOB_STATUSES.has(e.status)) {
      // Its log is complete (a retry reopens it for appending): one descriptor less.
      const f = this.logs.get(e.jobId);
      if (f) this.closeQuietly(f);
    }
    if (full) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private closeQuietly(f: BatchedFile): void {
    try {
      f.close();
    } catch (err) {
      this.failed ??= err as Error;
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.events.flush();
      for (const f of this.logs.values()) f.flush();
    } catch (err) {
      // A full disk must not stop the pipeline; close() reports it.
      this.failed ??= err as Error;
    }
  }

  /** Writes what is left; throws if any write failed along the way. */
  close(): void {
    this.flush();
    this.events.close();
    for (const f of this.logs.values()) f.close();
    if (this.failed) throw this.failed;
  }
}
