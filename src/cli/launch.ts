/**
 * What `bin/gantry` starts: `dist/gantry-start.cjs`, this module made CommonJS by
 * `scripts/bundle-cli.mjs` (a CommonJS entry starts without Node's ES module loader, ~4 ms).
 * It starts the single-file build with its code cache, else the separate modules.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { restoreDeferredEnvironment, startBundled } from "./bundle-loader.js";

restoreDeferredEnvironment();
// This file is dist/gantry-start.cjs; Node makes argv[1] absolute.
const dist = path.dirname(process.argv[1] ?? "");
if (!startBundled(dist, process.argv)) void import(pathToFileURL(path.join(dist, "cli/main.js")).href);
