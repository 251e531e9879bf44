import { z } from "zod";
import { fullDocumentSchema } from "./schema.js";

/** The JSON Schema of gantry.yml, as shipped in `schemas/gantry.schema.json`. */
export function renderGantrySchema(): string {
  const schema = z.toJSONSchema(fullDocumentSchema(), { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return `${JSON.stringify(
    {
      ...schema,
      title: "gantry.yml",
      description:
        "A Gantry pipeline: the declarative model (pipeline, agent, stages, stage, steps, post, when, parallel, matrix, input) in YAML.",
    },
    null,
    2,
  )}\n`;
}
