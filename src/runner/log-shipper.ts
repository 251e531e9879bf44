import type { RunnerClient } from "./client.js";
import { ServerError } from "./client.js";

/** Flush when this much text is buffered... */
const MAX_BATCH_BYTES = 256 * 1024;
/** ...or after this long. */
const FLUSH_MS = 200;

/**
 * Sends a job attempt's log to the server in ordered batches (`seq` 1, 2, ...), one request
 * at a time, retrying network errors: the server stores a batch once even if it arrives
 * twice. A 409 means the lease is gone; later lines are dropped and `lost` is called.
 */
export class LogShipper {
  private buf: string[] = [];
  private bytes = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly c: RunnerClient,
    private readonly jobId: number,
    private readonly attempt: number,
    private readonly lost: () => void,
  ) {}

  write(text: string): void {
    if (this.stopped) return;
    this.buf.push(text);
    this.bytes += text.length;
    if (this.bytes >= MAX_BATCH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buf.length === 0) return;
    const text = this.buf.join("");
    this.buf = [];
    this.bytes = 0;
    const seq = ++this.seq;
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await this.c.jsonRetry("POST", `/api/v1/runner/jobs/${this.jobId}/logs`, {
          attempt: this.attempt,
          seq,
          text,
        });
      } catch (err) {
        if (err instanceof ServerError && err.status === 409) {
          this.stopped = true;
          this.lost();
        }
        // Other failures lose this batch only; the job goes on.
      }
    });
  }

  /** Sends what is buffered and waits for every batch. */
  async close(): Promise<void> {
    this.flush();
    await this.chain;
  }

  /**
   * Waits for the batches already sent and hands back what is still buffered as the last
   * batch (empty once the lease is lost), to travel with the job's result instead of a request
   * of its own. Nothing is shipped after this.
   */
  async drain(): Promise<{ seq: number; text: string }[]> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
    const text = this.buf.join("");
    this.buf = [];
    this.bytes = 0;
    const lost = this.stopped;
    this.stopped = true;
    return lost || text === "" ? [] : [{ seq: ++this.seq, text }];
  }
}
