/** The one error type handlers throw; the central handler turns it into `{error: {code, message, details?}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const notFound = (what: string): HttpError => new HttpError(404, "not_found", `${what} not found`);
export const conflict = (message: string): HttpError => new HttpError(409, "conflict", message);
export const forbidden = (message = "your role does not allow this"): HttpError =>
  new HttpError(403, "forbidden", message);
export const badRequest = (message: string, details?: unknown): HttpError =>
  new HttpError(400, "bad_request", message, details);
