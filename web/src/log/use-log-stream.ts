import { useEffect, useRef, useState } from "react";
import type { JobStatus, LogStreamChunk, LogStreamStatus } from "../../../src/server/api-types.ts";
import { ApiFailure, authedFetch } from "../api/client.ts";
import { readSse } from "../api/sse.ts";
import { LogModel } from "./log-model.ts";

const encoder = new TextEncoder();

/** What the log stream hook exposes to the viewer. */
export interface LogStream {
  model: LogModel;
  /** Changes at most once a frame while text streams in. */
  version: number;
  /** The stream ended: the job finished and the whole log arrived. */
  ended: boolean;
  error: string | null;
}

/**
 * Follows `GET /api/v1/jobs/{id}/log/stream?offset=N` (SSE), reconnecting from the last byte
 * it has after a dropped connection; falls back to one `GET .../log` if the server has no
 * stream. Re-renders are batched to one per animation frame, whatever the chunk rate.
 */
export function useLogStream(jobId: number, onStatus?: (s: LogStreamStatus) => void): LogStream {
  const modelRef = useRef<LogModel>(null);
  modelRef.current ??= new LogModel();
  const model = modelRef.current;
  const [version, setVersion] = useState(0);
  const [ended, setEnded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;

  useEffect(() => {
    const ctl = new AbortController();
    let offset = 0;
    let lastChunk = -1;
    let frame = 0;
    let done = false;
    const schedule = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion(model.version);
      });
    };
    const finish = () => {
      done = true;
      model.finish();
      setEnded(true);
      schedule();
    };
    const run = async () => {
      for (let attempt = 0; !ctl.signal.aborted && !done; attempt++) {
        try {
          await readSse(
            `/api/v1/jobs/${jobId}/log/stream?offset=${offset}`,
            (e) => {
              if (e.event === "log") {
                const chunk = JSON.parse(e.data) as LogStreamChunk;
                // Chunks of one attempt only move forward; one at or before the last is a resend,
                // or a new attempt restarting at 0 (the page then mounts a fresh viewer). Progress
                // is judged by the server's offsets, not by re-encoding the text, which differs
                // when a chunk boundary splits a UTF-8 character.
                if (chunk.offset <= lastChunk) return;
                if (lastChunk < 0) performance.mark("gantry:log-first-chunk");
                lastChunk = chunk.offset;
                model.append(chunk.text);
                offset = chunk.offset + encoder.encode(chunk.text).length;
                schedule();
              } else if (e.event === "status") {
                statusRef.current?.(JSON.parse(e.data) as LogStreamStatus);
              } else if (e.event === "end") {
                finish();
              }
            },
            ctl.signal,
          );
          attempt = 0;
        } catch (e) {
          if (ctl.signal.aborted) return;
          if (e instanceof ApiFailure && e.status === 404 && offset === 0) {
            await fallback();
            return;
          }
          if (e instanceof ApiFailure && e.status < 500) {
            setError(e.message);
            return;
          }
        }
        if (!done) await sleep(Math.min(5000, 250 * 2 ** attempt), ctl.signal);
      }
    };
    const fallback = async () => {
      try {
        const res = await authedFetch(`/api/v1/jobs/${jobId}/log`, { signal: ctl.signal });
        model.append(await res.text());
        finish();
      } catch (e) {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void run();
    return () => {
      ctl.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [jobId, model]);

  return { model, version, ended, error };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = window.setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      window.clearTimeout(t);
      resolve();
    });
  });
}

/** Whether a job status means no more log will come. */
export function isFinished(status: JobStatus): boolean {
  return !["created", "waiting", "running", "input"].includes(status);
}
