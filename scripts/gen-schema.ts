/**
 * Writes `schemas/gantry.schema.json` from the zod schemas of the gantry.yml format, the one
 * source of truth. Run with `npm run schema`; a test fails when the shipped file is stale.
 */
import { writeFileSync } from "node:fs";
import { renderGantrySchema } from "../src/pipeline/native/json-schema.js";

writeFileSync(new URL("../schemas/gantry.schema.json", import.meta.url), renderGantrySchema());
console.log("wrote schemas/gantry.schema.json");
