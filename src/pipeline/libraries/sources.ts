import type { CompileContext, LibrarySource } from "../context.js";
import type { Diagnostic } from "../diagnostics.js";
import { readLibrariesConfig } from "./config.js";

/** The library sources of a compile: `ctx.libraries` (command line) over `.gantry/libraries.yml`. */
export function librarySources(ctx: Pick<CompileContext, "projectDir" | "libraries">): {
  sources: LibrarySource[];
  diagnostics: Diagnostic[];
} {
  const config = readLibrariesConfig(ctx.projectDir);
  return {
    sources: [
      ...ctx.libraries,
      ...config.sources.filter((c) => !ctx.libraries.some((l) => l.name === c.name)),
    ],
    diagnostics: config.diagnostics,
  };
}
