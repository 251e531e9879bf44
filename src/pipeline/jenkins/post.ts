/** `post {}` → Post, with Jenkins' condition names, order and messages. */
import { POST_CONDITIONS, type Post, type PostCondition } from "../plan.js";
import { entries, type Entry } from "./blocks.js";
import { report, type Cx } from "./context.js";
import { compileSteps } from "./steps.js";

const JENKINS_CONDITIONS = [
  "always",
  "changed",
  "fixed",
  "regression",
  "aborted",
  "success",
  "unsuccessful",
  "unstable",
  "failure",
  "notBuilt",
  "cleanup",
];

export function compilePost(e: Entry, cx: Cx): Post {
  const found: Partial<Record<PostCondition, ReturnType<typeof compileSteps>>> = {};
  const seen = new Set<string>();
  for (const c of entries(e.closure, cx, "post")) {
    if (!JENKINS_CONDITIONS.includes(c.name)) {
      report(
        cx,
        "error",
        "JK-post",
        `Invalid condition "${c.name}" - valid conditions are [${JENKINS_CONDITIONS.join(", ")}]`,
        c.at,
      );
      continue;
    }
    if (seen.has(c.name)) {
      report(cx, "error", "JK-post", `Duplicate build condition name: "${c.name}"`, c.at);
      continue;
    }
    seen.add(c.name);
    const steps = compileSteps(c.closure?.body ?? [], cx);
    if (c.name === "notBuilt") {
      report(
        cx,
        "warning",
        "JK-post",
        'post condition "notBuilt" is not supported by Gantry; its steps never run',
        c.at,
      );
      continue;
    }
    found[c.name as PostCondition] = steps;
  }
  const out: Post = {};
  for (const name of POST_CONDITIONS) if (found[name]) out[name] = found[name];
  return out;
}
