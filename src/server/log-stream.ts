import type { FastifyReply, FastifyRequest } from "fastify";
import { TERMINAL_JOB_STATUSES, type JobStatus } from "../engine/events.js";
import { getJob } from "../store/pipelines.js";
import { readLogChars } from "../store/logs.js";
import type { Services } from "./services.js";
import type { LogStreamChunk, LogStreamStatus } from "./api-types.js";

/** Largest piece of log sent in one `log` event. */
const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Streams a job's log as server-sent events from `offset`: what is stored first, then new
 * batches as runners send them (woken by the bus, and by a 1 s poll so that another server
 * replica's writes also arrive). A new attempt restarts the log at offset 0. Ends with `end`
 * once the job is finished and everything was sent.
 */
export function followLog(
  s: Services,
  jobId: number,
  offset: number,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  let attempt = -1;
  let status: JobStatus | "" = "";
  let busy = false;
  let again = false;
  let closed = false;
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(poll);
    clearInterval(ping);
    s.bus.off(`job:${jobId}`, pump);
    res.end();
  };
  async function step(): Promise<void> {
    const j = await getJob(s.db, jobId);
    if (!j) return close();
    if (attempt !== -1 && j.attempt !== attempt) offset = 0;
    const size = Number(j.log_size);
    while (offset < size && !closed) {
      // Whole characters only: a piece cut inside one would arrive as two U+FFFD.
      const piece = await readLogChars(s.db, jobId, j.attempt, offset, offset + MAX_EVENT_BYTES, size);
      if (piece.data.length === 0) break;
      send("log", { offset: piece.start, text: piece.data.toString("utf8") } satisfies LogStreamChunk);
      offset = piece.end;
    }
    if (j.status !== status || j.attempt !== attempt) {
      status = j.status as JobStatus;
      attempt = j.attempt;
      send("status", { status, attempt } satisfies LogStreamStatus);
    }
    if (TERMINAL_JOB_STATUSES.has(status as JobStatus) && offset >= size) {
      send("end", {});
      close();
    }
  }
  function pump(): void {
    if (closed) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    step()
      .catch((err: unknown) => {
        s.log.warn({ job: jobId, err: String(err) }, "log stream failed");
        close();
      })
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          pump();
        }
      });
  }
  const poll = setInterval(pump, 1_000);
  const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
  s.bus.on(`job:${jobId}`, pump);
  req.raw.on("close", close);
  pump();
}
