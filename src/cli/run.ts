import type { Command } from "commander";

/** Registers `gantry run`, `validate`, `plan` and `list`. (Being written.) */
export function register(_program: Command): void {}
