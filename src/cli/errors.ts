/** Documented exit codes of every `gantry` command. */
export const EXIT = {
  /** The pipeline (or command) succeeded. */
  OK: 0,
  /** The pipeline failed, or a scan found issues at or above the gate. */
  FAILED: 1,
  /** Invalid pipeline definition or invalid usage; nothing was started. */
  USAGE: 2,
  /** The run was cancelled (Ctrl-C). */
  CANCELED: 130,
  /** A bug in Gantry: please report it with the output. */
  INTERNAL: 70,
} as const;

/** An error for the user: printed as `gantry: message` and a hint, never with a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}
