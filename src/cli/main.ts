/**
 * The CLI's entry point as separate modules (`dist/cli/main.js`). `bin/gantry` normally starts
 * the single-file build instead (`scripts/bundle-cli.mjs`), which starts faster.
 */
import { start } from "./program.js";

await start(process.argv);
