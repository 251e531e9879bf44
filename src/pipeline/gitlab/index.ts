import type { CompileResult, Frontend } from "../context.js";
import { DiagnosticBag, didYouMeanHint, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { PLAN_VERSION, type Job, type Parameter, type Plan, type Variable } from "../plan.js";
import { expandVariables } from "./expand.js";
import { resolveExtends } from "./extends.js";
import { resolveIncludes } from "./include.js";
import { interpolateInputs } from "./inputs.js";
import { compileJob, type CompiledInstance } from "./job.js";
import { DEFAULT_KEYWORDS, DEFAULT_STAGES, GLOBAL_KEYWORDS, UNSUPPORTED_JOB_KEYWORDS } from "./keywords.js";
import { checkCycles, resolveNeeds, type NeedsIndex, type NeedsNode } from "./needs.js";
import { resolveReferences } from "./reference.js";
import { firstMatchingRule, type RuleEnv } from "./rules.js";
import { looksOdd } from "./odd.js";
import { validateSchema } from "./schema.js";
import { Locator, isMapValue, newMap, parseGitlabYaml } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";
import { parseVariables, pipelineVariables } from "./variables.js";

/**
 * The `.gitlab-ci.yml` frontend: GitLab CI YAML → Plan (format "gitlab"). Includes, `!reference`,
 * `extends`, `default`, rules, only/except, workflow, parallel/matrix and needs are all resolved
 * here; every problem found is returned as a diagnostic with the position of the node at fault.
 */
export const compileGitlab: Frontend = async (ctx) => {
  const bag = new DiagnosticBag();
  const st: CompileState = { ctx, loc: new Locator(), bag, file: ctx.file, misspelt: new Set() };
  const schemaFound: Diagnostic[] = [];
  const plan = await compile(st, schemaFound);
  // The compiler's own message about a node is more precise than the schema's: keep one per node.
  const own = new Set(bag.items.filter((d) => d.severity === "error").map((d) => `${d.file}:${d.line}`));
  for (const d of schemaFound) if (!own.has(`${d.file}:${d.line}`)) bag.add(d);
  const diagnostics = sortDiagnostics(dedupe(bag.items));
  const result: CompileResult = { diagnostics };
  if (plan && !bag.hasErrors) result.plan = plan;
  return result;
};

function dedupe<T extends { file: string; line: number; column: number; code: string; message: string }>(
  items: T[],
): T[] {
  const seen = new Set<string>();
  const errorAt = new Set<string>();
  return items.filter((d) => {
    const k = `${d.file}:${d.line}:${d.column}:${d.code}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    // One error per node: a later error at the same place is a consequence of the first.
    if ((d as { severity?: string }).severity === "error" && d.line > 0) {
      const at = `${d.file}:${d.line}:${d.column}`;
      if (errorAt.has(at)) return false;
      errorAt.add(at);
    }
    return true;
  });
}

async function compile(st: CompileState, schemaFound: Diagnostic[]): Promise<Plan | undefined> {
  const { ctx, bag } = st;
  const parsed = parseGitlabYaml(ctx.source, st.file, st.loc, bag, ctx.cacheDir);
  if (parsed.value === undefined) return undefined;
  let top = parsed.value;
  if (parsed.header !== undefined) top = interpolateInputs(st, parsed.header, top);
  if (top === null) {
    bag.error(
      "GL010",
      "the pipeline file is empty",
      { file: st.file, line: 1, column: 1 },
      "define at least one job with a script",
    );
    return undefined;
  }
  if (!isMapValue(top)) {
    bag.error(
      "GL011",
      `the pipeline file must be a map of jobs and keywords, got ${typeName(top)}`,
      posOf(st, top),
    );
    return undefined;
  }

  const predefined = pipelineVariables(st);
  const cli = ctx.variables;
  const baseLookup = (n: string): string | undefined => cli[n] ?? predefined[n];
  const env: RuleEnv = {
    vars: baseLookup,
    changedFiles: ctx.git.isRepo ? ctx.git.changedFiles : undefined,
    projectDir: ctx.projectDir,
    existsCache: new Map(),
  };

  let root = await resolveIncludes(st, top, env);
  root = resolveReferences(st, root);

  const jobKeys = Object.keys(root).filter((k) => !(GLOBAL_KEYWORDS as readonly string[]).includes(k));
  for (const k of jobKeys) {
    if (k.startsWith(".")) continue;
    if (!isMapValue(root[k])) {
      const hint = didYouMeanHint(k, GLOBAL_KEYWORDS);
      if (hint) st.misspelt.add(k);
      bag.error(
        "GL013",
        hint
          ? `unknown keyword "${k}"`
          : `job "${k}" must be a map of job keywords, got ${typeName(root[k])}`,
        st.loc.keyAt(root, k, st.file),
        hint ?? "a job needs at least a script:",
      );
    }
  }
  const { jobs: resolved, broken } = resolveExtends(
    st,
    root,
    jobKeys.filter((k) => isMapValue(root[k])),
  );
  const validate = async (): Promise<void> => {
    schemaFound.push(...(await validateSchema(st, root, resolved)));
  };

  // Stages.
  const stagesValue = root.stages ?? root.types;
  let userStages = DEFAULT_STAGES;
  if (stagesValue !== undefined && stagesValue !== null) {
    if (!Array.isArray(stagesValue)) {
      bag.error(
        "GL014",
        `stages must be a list of names, got ${typeName(stagesValue)}`,
        posOf(st, root, "stages"),
      );
    } else {
      userStages = [];
      stagesValue.forEach((s, i) => {
        const name = scalarString(s);
        if (name === undefined) bag.error("GL014", "stage names must be strings", posOf(st, stagesValue, i));
        else if (!userStages.includes(name)) userStages.push(name);
      });
    }
  }
  const stages = [".pre", ...userStages.filter((s) => s !== ".pre" && s !== ".post"), ".post"];

  // Global variables, then workflow.
  const globals = parseVariables(st, root, "variables");
  const globalVars: Record<string, Variable> = globals.vars;
  const parameters: Parameter[] = globals.parameters;
  let pipelineCreated = true;
  const workflow = root.workflow;
  if (workflow !== undefined && workflow !== null) {
    if (!isMapValue(workflow)) {
      bag.error("GL015", `workflow must be a map, got ${typeName(workflow)}`, posOf(st, root, "workflow"));
    } else if (workflow.rules !== undefined) {
      const lookup = (n: string): string | undefined => {
        const c = cli[n];
        if (c !== undefined) return c;
        const g = globalVars[n];
        if (g?.kind === "value") return g.expand === false ? g.value : expandVariables(g.value, baseLookup);
        return predefined[n];
      };
      const rule = firstMatchingRule(st, workflow, "rules", { ...env, vars: lookup }, [
        "if",
        "changes",
        "exists",
        "when",
        "variables",
        "auto_cancel",
      ]);
      if (!rule || rule.when === "never") {
        pipelineCreated = false;
        bag.info(
          "GL016",
          rule
            ? "workflow:rules: a matching rule says when: never, so GitLab would create no pipeline; nothing runs"
            : "workflow:rules: no rule matches, so GitLab would create no pipeline; nothing runs",
          posOf(st, workflow, "rules"),
          "pass --variable to simulate another ref, e.g. --variable CI_COMMIT_BRANCH=main",
        );
      } else if (rule.variables !== undefined) {
        Object.assign(globalVars, parseVariables(st, rule, "variables").vars);
      }
    }
  }

  // Jobs.
  const defaults = isMapValue(root.default) ? root.default : newMap();
  if (root.default !== undefined && root.default !== null && !isMapValue(root.default)) {
    bag.error("GL017", `default must be a map, got ${typeName(root.default)}`, posOf(st, root, "default"));
  }
  for (const k of Object.keys(defaults)) {
    const why = UNSUPPORTED_JOB_KEYWORDS[k];
    if (why) bag.warning("GL022", `default: ${why}`, st.loc.keyAt(defaults, k, st.file));
    else if (!(DEFAULT_KEYWORDS as readonly string[]).includes(k)) {
      bag.error(
        "GL018",
        `unknown keyword "${k}" in default`,
        st.loc.keyAt(defaults, k, st.file),
        didYouMeanHint(k, DEFAULT_KEYWORDS) ?? `default may hold ${DEFAULT_KEYWORDS.join(", ")}`,
      );
    }
  }
  const legacyDefaults = newMap();
  for (const k of ["image", "services", "cache", "before_script", "after_script"]) {
    if (root[k] !== undefined && defaults[k] === undefined) {
      legacyDefaults[k] = root[k]!;
      st.loc.copyEntry(root, legacyDefaults, k);
    }
  }

  const predefinedVars: Record<string, Variable> = {};
  for (const [k, v] of Object.entries(predefined)) predefinedVars[k] = { kind: "value", value: v };
  const cliVars: Record<string, Variable> = {};
  for (const [k, v] of Object.entries(cli)) cliVars[k] = { kind: "value", value: v };
  const instances: CompiledInstance[] = [];
  const excluded = new Set<string>();
  const isMatrix = new Map<string, boolean>();
  for (const name of jobKeys) {
    if (name.startsWith(".")) continue;
    const job = resolved.get(name);
    if (!job) continue;
    const out = compileJob(st, {
      name,
      job,
      defaults,
      legacyDefaults,
      stages,
      predefinedVars,
      cliVars,
      globalVars,
      env,
      at: st.loc.keyAt(root, name, st.file),
      extendsBroken: broken.has(name),
    });
    isMatrix.set(name, out.isMatrix);
    if (out.instances.length === 0) excluded.add(name);
    instances.push(...out.instances);
  }

  if (!pipelineCreated) instances.length = 0;
  const seenIds = new Map<string, string>();
  for (const inst of instances) {
    const other = seenIds.get(inst.job.id);
    if (other !== undefined) {
      bag.error(
        "GL103",
        `job name "${inst.job.id}" is used twice (by "${other}" and "${inst.base}")`,
        st.loc.keyAt(root, inst.base, st.file),
        "parallel and matrix jobs are named `job 1/3` and `job: [a, b]`: rename one of the jobs",
      );
    } else seenIds.set(inst.job.id, inst.base);
  }

  // Needs, dependencies, artifacts.
  const index: NeedsIndex = { byBase: new Map(), byId: new Map(), excluded, isMatrix, stages };
  const nodes = new Map<string, NeedsNode>();
  for (const inst of instances) {
    const node: NeedsNode = {
      id: inst.job.id,
      base: inst.base,
      stageIndex: stages.indexOf(inst.job.stage),
      needs: inst.needs,
      needsOwner: inst.needsOwner,
      dependencies: inst.dependencies,
      depsOwner: inst.depsOwner,
    };
    if (inst.job.matrix) node.matrix = inst.job.matrix;
    nodes.set(node.id, node);
    index.byId.set(node.id, node);
    const list = index.byBase.get(inst.base) ?? [];
    list.push(node);
    index.byBase.set(inst.base, list);
  }
  for (const inst of instances) {
    const r = resolveNeeds(st, nodes.get(inst.job.id)!, index);
    inst.job.needsMode = r.needsMode;
    inst.job.needs = r.needs;
    inst.job.artifactsFrom = r.artifactsFrom;
  }
  checkCycles(
    st,
    instances
      .filter((i) => i.job.needsMode === "explicit")
      .map((i) => ({ id: i.job.id, needs: i.job.needs, at: posOf(st, i.needsOwner, "needs") })),
  );

  // GitLab's schema explains what looks wrong; a clean file does not pay for loading it.
  const visible = [...resolved.entries()].filter(([k]) => !k.startsWith(".")).map(([, j]) => j);
  if (bag.items.some((d) => d.severity !== "info") || looksOdd([...visible, defaults])) await validate();

  const jobs: Job[] = instances.map((i) => i.job);
  const planVars: Record<string, Variable> = Object.create(null) as Record<string, Variable>;
  for (const [k, v] of Object.entries(predefined)) planVars[k] = { kind: "value", value: v };
  Object.assign(planVars, globalVars);
  for (const [k, v] of Object.entries(cli)) planVars[k] = { kind: "value", value: v };

  return {
    version: PLAN_VERSION,
    format: "gitlab",
    file: st.file,
    stages,
    parameters,
    triggers: [],
    options: {},
    jobs,
    post: {},
    executor: { kind: "shell", labels: [] },
    variables: { ...planVars },
  };
}
