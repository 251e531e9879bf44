import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "./protocol.js";

/** An error answer from the server, with its HTTP status and error code. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ServerError";
  }
}

/** Network failures and 5xx answers are worth retrying; 4xx are not. */
export function retryable(err: unknown): boolean {
  return !(err instanceof ServerError) || err.status >= 500;
}

/**
 * HTTP+JSON client of the runner protocol. JSON calls go through `node:http` with kept-alive
 * connections: a runner makes a few of them per job, and `fetch` costs several times the CPU
 * per request (web streams); uploads and downloads stream through `fetch`.
 */
export class RunnerClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {
    this.base = base.replace(/\/$/, "");
    const Agent = new URL(this.base).protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxFreeSockets: 16 });
  }

  /** Closes kept-alive connections (so a stopped runner's process can exit). */
  close(): void {
    this.agent.destroy();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), ...extra };
  }

  private async check(res: Response): Promise<Response> {
    if (res.ok) return res;
    let code = "http_error";
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // Not our error shape (a proxy?): keep the status line.
    }
    throw new ServerError(res.status, code, message);
  }

  async json<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const { status, statusText, text } = await new Promise<{
      status: number;
      statusText: string;
      text: string;
    }>((resolve, reject) => {
      const target = new URL(this.base + url);
      const req = (target.protocol === "https:" ? https : http).request(
        target,
        {
          method,
          agent: this.agent,
          headers: this.headers(
            payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {},
          ),
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (b: Buffer) => parts.push(b));
          res.on("error", reject);
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? "",
              text: Buffer.concat(parts).toString("utf8"),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
    if (status < 200 || status >= 300) {
      let code = "http_error";
      let message = `${status} ${statusText}`;
      try {
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        code = err?.code ?? code;
        message = err?.message ?? message;
      } catch {
        // Not our error shape (a proxy?): keep the status line.
      }
      throw new ServerError(status, code, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Like `json`, but retries network errors and 5xx a few times with back-off. */
  async jsonRetry<T>(method: string, url: string, body?: unknown, attempts = 5): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await this.json<T>(method, url, body);
      } catch (err) {
        if (i >= attempts || !retryable(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** i)));
      }
    }
  }

  async upload(url: string, file: string): Promise<void> {
    const stat = fs.statSync(file);
    const res = await fetch(this.base + url, {
      method: "PUT",
      headers: this.headers({
        "content-type": "application/octet-stream",
        "content-length": String(stat.size),
      }),
      body: Readable.toWeb(fs.createReadStream(file)) as ReadableStream,
      duplex: "half",
    });
    await this.check(res);
    await res.arrayBuffer();
  }

  async download(url: string, file: string): Promise<void> {
    const res = await this.check(await fetch(this.base + url, { headers: this.headers() }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), fs.createWriteStream(file));
  }
}
