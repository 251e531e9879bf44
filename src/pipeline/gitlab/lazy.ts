import { createRequire } from "node:module";
import type picomatchFn from "picomatch";
import type * as tinyglobby from "tinyglobby";

const require = createRequire(import.meta.url);
let pm: typeof picomatchFn | undefined;
let tg: typeof tinyglobby | undefined;

/** picomatch, loaded the first time a `changes:` rule needs it (most pipelines never do). */
export function picomatch(): typeof picomatchFn {
  return (pm ??= require("picomatch") as typeof picomatchFn);
}

/** tinyglobby, loaded the first time an `exists:` rule or an include glob needs it. */
export function globber(): typeof tinyglobby {
  return (tg ??= require("tinyglobby") as typeof tinyglobby);
}
