import type { ApiError } from "../../../src/server/api-types.ts";
import { getToken, setToken } from "./token.ts";

/** An error answer from the API, with its stable `code` and HTTP status. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

function headers(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  const token = getToken();
  if (token) h.set("Authorization", `Bearer ${token}`);
  return h;
}

async function failure(res: Response): Promise<ApiFailure> {
  let body: Partial<ApiError> | undefined;
  try {
    body = (await res.json()) as Partial<ApiError>;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  // A revoked or expired token: forget it so the app shows the sign-in page.
  if (res.status === 401 && getToken()) setToken(null);
  return new ApiFailure(
    res.status,
    e?.code ?? `http_${res.status}`,
    e?.message ?? `${res.status} ${res.statusText}`,
    e?.details,
  );
}

/** Calls the API and returns the parsed JSON answer (or `undefined` for 204). */
export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = {
    method,
    headers: headers(body === undefined ? undefined : { "Content-Type": "application/json" }),
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get("content-type") ?? "";
  return (type.includes("json") ? await res.json() : await res.text()) as T;
}

/** GET shorthand. */
export const get = <T>(path: string, signal?: AbortSignal): Promise<T> =>
  api<T>("GET", path, undefined, signal);

/** Fetches with the token and hands back the raw response (downloads, streams). */
export async function authedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: headers(init.headers) });
  if (!res.ok) throw await failure(res);
  return res;
}

/** Downloads a protected URL as a file (a plain link cannot send the bearer token). */
export async function download(path: string, filename: string): Promise<void> {
  const res = await authedFetch(path);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Encodes a path segment (project and secret names). */
export const seg = (s: string): string => encodeURIComponent(s);
