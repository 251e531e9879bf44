/**
 * The Jenkinsfile frontend: declarative pipelines compiled to the Plan without a JVM.
 * See docs/jenkins.md.
 */
import type { Frontend } from "../context.js";
import { hasErrors } from "../diagnostics.js";
import { compileJenkinsfileDetailed } from "./compile.js";

export { compileJenkinsfileDetailed } from "./compile.js";
export { parseGroovy } from "./parser.js";

/** Compiles a declarative Jenkinsfile (`ctx.source`) to a Plan of format "jenkins". */
export const compileJenkinsfile: Frontend = async (ctx) => {
  const { plan, diagnostics } = await compileJenkinsfileDetailed(ctx);
  return hasErrors(diagnostics) ? { diagnostics } : { plan, diagnostics };
};
