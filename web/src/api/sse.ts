import { authedFetch } from "./client.ts";

/** One server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads a server-sent event stream with `fetch`, because `EventSource` cannot send the
 * `Authorization` header. Resolves when the server closes the stream; rejects on network
 * errors (the caller reconnects from its own offset).
 */
export async function readSse(
  path: string,
  onEvent: (e: SseEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await authedFetch(path, { headers: { Accept: "text/event-stream" }, signal });
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let event = "message";
  let data: string[] = [];
  let since = performance.now();
  for (;;) {
    // Buffered data resolves reads without a macrotask in between, so a long backlog would
    // be consumed before anything is painted: give the page a turn every few milliseconds.
    if (performance.now() - since > 8) {
      await new Promise((r) => setTimeout(r, 0));
      since = performance.now();
    }
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf("\n", start)) >= 0) {
      let line = buf.slice(start, nl);
      start = nl + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length) onEvent({ event, data: data.join("\n") });
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        continue;
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
      }
    }
    buf = buf.slice(start);
  }
}
