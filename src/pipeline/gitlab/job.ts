import { didYouMeanHint, type Position } from "../diagnostics.js";
import type { Job, JobWhen, Step, Variable } from "../plan.js";
import { parseDuration } from "./duration.js";
import { compileRegex } from "./expression.js";
import { expandVariables } from "./expand.js";
import {
  compileArtifacts,
  compileCache,
  compileExecutor,
  compileRetry,
  compileTimeout,
  intList,
  scriptLines,
} from "./job-fields.js";
import { DEFAULT_KEYWORDS, GLOBAL_KEYWORDS, JOB_KEYWORDS, UNSUPPORTED_JOB_KEYWORDS } from "./keywords.js";
import { evaluateOnlyExcept } from "./only-except.js";
import { expandParallel } from "./parallel.js";
import { firstMatchingRule, type RuleEnv } from "./rules.js";
import { isMapValue, newMap, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";
import { environmentSlug, jobVariables, parseVariables } from "./variables.js";

/** One job instance ready for needs resolution. */
export interface CompiledInstance {
  base: string;
  job: Job;
  needs: Value | undefined;
  needsOwner: YMap;
  dependencies: Value | undefined;
  depsOwner: YMap;
}

export interface JobInput {
  name: string;
  /** The job after `extends`. */
  job: YMap;
  defaults: YMap;
  legacyDefaults: YMap;
  stages: string[];
  /** Pipeline-wide predefined variables and `--variable` values, as Plan variables. */
  predefinedVars: Record<string, Variable>;
  cliVars: Record<string, Variable>;
  globalVars: Record<string, Variable>;
  env: RuleEnv;
  /** Where the job's name is written. */
  at: Position;
  /** Its `extends` could not be resolved (already reported): missing keys are no news. */
  extendsBroken: boolean;
}

const WHEN_VALUES: JobWhen[] = ["on_success", "on_failure", "always", "manual", "delayed"];

/** Applies `default:` (and deprecated global keys) to a job, honouring `inherit:default`. */
function withDefaults(st: CompileState, input: JobInput): YMap {
  const { job, defaults, legacyDefaults } = input;
  const inherit = isMapValue(job.inherit) ? job.inherit.default : undefined;
  const allowed = (k: string): boolean => {
    if (inherit === undefined || inherit === true) return true;
    if (inherit === false) return false;
    return Array.isArray(inherit) && inherit.includes(k);
  };
  const out = newMap();
  st.loc.copyNode(job, out);
  for (const k of Object.keys(job)) {
    out[k] = job[k]!;
    st.loc.copyEntry(job, out, k);
  }
  for (const src of [defaults, legacyDefaults]) {
    for (const k of DEFAULT_KEYWORDS) {
      if (out[k] === undefined && src[k] !== undefined && allowed(k)) {
        out[k] = src[k]!;
        st.loc.copyEntry(src, out, k);
      }
    }
  }
  return out;
}

/** Compiles one job (all its parallel instances), or none when rules leave it out. */
export function compileJob(
  st: CompileState,
  input: JobInput,
): { instances: CompiledInstance[]; isMatrix: boolean } {
  const { name, stages } = input;
  const job = withDefaults(st, input);
  const none = { instances: [], isMatrix: false };

  // `varibles:` is a misspelt keyword, not a job without a script.
  if (job.script === undefined && job.trigger === undefined && !input.extendsBroken) {
    const keyword = didYouMeanHint(name, GLOBAL_KEYWORDS);
    if (keyword) {
      st.bag.error("GL013", `unknown keyword "${name}"`, input.at, keyword);
      st.misspelt.add(name);
      return none;
    }
  }

  for (const k of Object.keys(job)) {
    if (!(JOB_KEYWORDS as readonly string[]).includes(k)) {
      st.bag.error(
        "GL020",
        `unknown keyword "${k}" in job "${name}"`,
        st.loc.keyAt(job, k, st.file),
        didYouMeanHint(k, JOB_KEYWORDS) ?? "see docs/gitlab.md for the supported keywords",
      );
      continue;
    }
    if (job[k] === null && k !== "needs") {
      st.bag.warning("GL021", `${name}.${k} is null and is ignored`, st.loc.keyAt(job, k, st.file));
      delete job[k];
      continue;
    }
    const why = UNSUPPORTED_JOB_KEYWORDS[k];
    // Keys inherited from `default:` are warned about once, there.
    if (why && input.job[k] !== undefined)
      st.bag.warning("GL022", `${name}: ${why}`, st.loc.keyAt(job, k, st.file));
  }

  const stage = job.stage === undefined ? "test" : scalarString(job.stage);
  if (stage === undefined) {
    st.bag.error(
      "GL023",
      `${name}.stage must be a stage name, got ${typeName(job.stage)}`,
      posOf(st, job, "stage"),
    );
    return none;
  }
  if (!stages.includes(stage)) {
    // A job whose template could not be found has no stage of its own: that error says it.
    if (input.extendsBroken) return none;
    st.bag.error(
      "GL024",
      `stage "${stage}" of job "${name}" is not defined in stages`,
      posOf(st, job, job.stage === undefined ? undefined : "stage"),
      didYouMeanHint(stage, stages) ?? `add it to stages: (defined: ${stages.join(", ")})`,
    );
    return none;
  }

  if (job.trigger !== undefined) return none;
  const scripts = scriptLines(st, job, "script", name);
  if (job.script === undefined) {
    if (input.extendsBroken) return none;
    st.bag.error("GL025", `job "${name}" has no script`, input.at, "add script: with the commands to run");
    return none;
  }
  const before = scriptLines(st, job, "before_script", name);
  const after = scriptLines(st, job, "after_script", name);

  if (job.rules !== undefined && (job.only !== undefined || job.except !== undefined)) {
    st.bag.error(
      "GL026",
      `job "${name}" uses rules together with only/except`,
      posOf(st, job, "rules"),
      "use rules alone",
    );
  }
  if (Array.isArray(job.rules) && job.rules.length === 0) {
    st.bag.error(
      "GL027",
      `${name}.rules must not be empty`,
      posOf(st, job, "rules"),
      "remove rules: to always run the job",
    );
    return none;
  }

  const inheritVars = isMapValue(job.inherit) ? job.inherit.variables : undefined;
  const globalVars: Record<string, Variable> = Object.create(null) as Record<string, Variable>;
  for (const [k, v] of Object.entries(input.globalVars)) {
    if (inheritVars === false) break;
    if (Array.isArray(inheritVars) && !inheritVars.includes(k)) continue;
    globalVars[k] = v;
  }
  const ownVars = parseVariables(st, job, "variables").vars;
  const { instances, isMatrix } = expandParallel(st, job, name);
  const out: CompiledInstance[] = [];

  for (const inst of instances) {
    const matrixVars: Record<string, Variable> = {};
    for (const [k, v] of Object.entries(inst.matrix ?? {})) matrixVars[k] = { kind: "value", value: v };
    const jobPre = jobVariables(inst.name, stage, inst.node);
    const layers: Record<string, Variable>[] = [];
    const pre: Record<string, Variable> = {};
    for (const [k, v] of Object.entries(jobPre)) pre[k] = { kind: "value", value: v };
    layers.push(input.predefinedVars, pre, globalVars, ownVars, matrixVars);
    const cli = input.cliVars;
    const lookupIn = (ls: Record<string, Variable>[]) => {
      // Merged on first use: most jobs never look a variable up while compiling.
      let merged: Record<string, Variable> | undefined;
      const get = (n: string): Variable | undefined => {
        const m = (merged ??= Object.assign(Object.create(null) as Record<string, Variable>, ...ls));
        return m[n];
      };
      const raw = (n: string): string | undefined => {
        const v = get(n);
        return v?.kind === "value" ? v.value : undefined;
      };
      return (n: string): string | undefined => {
        const v = get(n);
        if (v?.kind !== "value") return undefined;
        return v.expand === false ? v.value : expandVariables(v.value, raw);
      };
    };
    let lookup = lookupIn([...layers, cli]);

    let when: string = scalarString(job.when) ?? "on_success";
    let allowFailure: Value | undefined = job.allow_failure;
    let manualFromRules = false;
    let needs: Value | undefined = job.needs;
    let needsOwner: YMap = job;
    let startIn: Value | undefined = job.start_in;
    let startOwner: YMap = job;
    let interruptible: Value | undefined = job.interruptible;
    const ruleVars: Record<string, Variable> = {};

    if (Array.isArray(job.rules)) {
      const rule = firstMatchingRule(st, job, "rules", { ...input.env, vars: lookup });
      if (!rule) continue;
      if (rule.when !== undefined) {
        when = scalarString(rule.when) ?? when;
        if (when === "manual") manualFromRules = true;
      }
      if (rule.allow_failure !== undefined) allowFailure = rule.allow_failure;
      if (rule.needs !== undefined) {
        needs = rule.needs;
        needsOwner = rule;
      }
      if (rule.start_in !== undefined) {
        startIn = rule.start_in;
        startOwner = rule;
      }
      if (rule.interruptible !== undefined) interruptible = rule.interruptible;
      Object.assign(ruleVars, parseVariables(st, rule, "variables").vars);
    } else if (job.rules !== undefined) {
      firstMatchingRule(st, job, "rules", input.env);
      continue;
    } else if (!evaluateOnlyExcept(st, job, name, { ...input.env, vars: lookup })) continue;

    if (when === "never") continue;
    if (!WHEN_VALUES.includes(when as JobWhen)) {
      st.bag.error(
        "GL028",
        `${name}.when must be one of on_success, on_failure, always, manual, delayed, never (found "${when}")`,
        posOf(st, job, "when"),
        didYouMeanHint(when, [...WHEN_VALUES, "never"]),
      );
      // Keep compiling as on_success so that the job's other problems are reported too.
      when = "on_success";
    }

    const vars = Object.assign(
      Object.create(null) as Record<string, Variable>,
      ...layers,
      ruleVars,
    ) as Record<string, Variable>;
    // A manual job only ever runs because someone played it.
    if (when === "manual") vars.CI_JOB_MANUAL = { kind: "value", value: "true" };
    lookup = lookupIn([...layers, ruleVars, cli]);

    const j: Job = {
      id: inst.name,
      name: inst.name,
      stage,
      needsMode: "stage",
      needs: [],
      artifactsFrom: [],
      when: when as JobWhen,
      allowFailure: false,
      retry: compileRetry(st, job, name),
      variables: {},
      executor: compileExecutor(st, job, name, lookup),
      steps: [],
      afterSteps: [],
      post: {},
      cache: compileCache(st, job, name, lookup),
      loc: { file: input.at.file, line: input.at.line, column: input.at.column },
    };

    // allow_failure: true/false, or {exit_codes}; manual jobs default to true unless from rules.
    if (allowFailure === undefined) j.allowFailure = when === "manual" && !manualFromRules;
    else if (typeof allowFailure === "boolean") j.allowFailure = allowFailure;
    else if (isMapValue(allowFailure) && allowFailure.exit_codes !== undefined) {
      j.allowFailureExitCodes = intList(st, allowFailure, "exit_codes", `${name}.allow_failure.exit_codes`);
    } else {
      st.bag.error(
        "GL029",
        `${name}.allow_failure must be true, false or {exit_codes: [...]}`,
        posOf(st, job, "allow_failure"),
      );
    }

    if (when === "delayed") {
      const s = scalarString(startIn);
      const ms = s === undefined ? undefined : parseDuration(s);
      if (ms === undefined) {
        st.bag.error(
          "GL042",
          `${name}: when: delayed needs start_in (e.g. "30 minutes")`,
          posOf(st, startOwner, "start_in"),
        );
      } else if (ms > 7 * 86_400_000) {
        st.bag.error("GL042", `${name}.start_in must be at most one week`, posOf(st, startOwner, "start_in"));
      } else j.startInMs = ms;
    }

    const timeout = compileTimeout(st, job, name);
    if (timeout !== undefined) j.timeoutMs = timeout;
    if (typeof interruptible === "boolean") j.interruptible = interruptible;
    const coverage = compileCoverage(st, job, name);
    if (coverage !== undefined) j.coverage = coverage;
    if (inst.matrix) j.matrix = { ...inst.matrix };

    const environment = compileEnvironment(st, job, name, lookup);
    if (environment) {
      j.environment = environment;
      const envVars: Record<string, string> = {
        CI_ENVIRONMENT_NAME: environment.name,
        CI_ENVIRONMENT_SLUG: environmentSlug(environment.name),
        CI_ENVIRONMENT_ACTION: environment.action ?? "start",
        CI_ENVIRONMENT_TIER: environment.tier,
      };
      if (environment.url !== undefined) envVars.CI_ENVIRONMENT_URL = environment.url;
      for (const [k, v] of Object.entries(envVars)) if (!(k in vars)) vars[k] = { kind: "value", value: v };
      delete (j.environment as { tier?: string }).tier;
    }

    Object.assign(vars, cli);
    j.variables = { ...vars };

    const commands = [...before, ...scripts];
    const stepLoc = posOf(st, job, "script");
    const step: Step = {
      kind: "script",
      commands,
      loc: { file: stepLoc.file, line: stepLoc.line, column: stepLoc.column },
    };
    j.steps = [step];
    if (after.length > 0) j.afterSteps = [{ kind: "script", commands: after }];

    const artifacts = compileArtifacts(st, job, name, lookup);
    if (artifacts) j.artifacts = artifacts;

    out.push({
      base: name,
      job: j,
      needs,
      needsOwner,
      dependencies: job.dependencies,
      depsOwner: job,
    });
  }
  return { instances: out, isMatrix };
}

function compileEnvironment(
  st: CompileState,
  job: YMap,
  name: string,
  lookup: (n: string) => string | undefined,
): { name: string; url?: string; action?: string; tier: string } | undefined {
  const e = job.environment;
  if (e === undefined || e === null) return undefined;
  let envName: string | undefined;
  let url: string | undefined;
  let action: string | undefined;
  let tier: string | undefined;
  if (typeof e === "string") envName = e;
  else if (isMapValue(e)) {
    envName = scalarString(e.name);
    url = scalarString(e.url);
    action = scalarString(e.action);
    tier = scalarString(e.deployment_tier);
  }
  if (envName === undefined) {
    st.bag.error(
      "GL043",
      `${name}.environment must be a name or {name, url, action}`,
      posOf(st, job, "environment"),
    );
    return undefined;
  }
  const expanded = expandVariables(envName, lookup);
  const out: { name: string; url?: string; action?: string; tier: string } = {
    name: expanded,
    tier: tier ?? guessTier(expanded),
  };
  if (url !== undefined) out.url = expandVariables(url, lookup);
  if (action !== undefined) out.action = action;
  return out;
}

/**
 * `coverage: /regex/` in the JS form the engine applies: RE2's leading `(?i)` becomes a flag,
 * as JS has no inline flag groups. An invalid pattern is a diagnostic.
 */
function compileCoverage(st: CompileState, job: YMap, name: string): string | undefined {
  const raw = scalarString(job.coverage);
  if (raw === undefined) return undefined;
  const m = /^\/(.*)\/([a-z]*)$/s.exec(raw);
  if (!m) {
    st.bag.error(
      "GL044",
      `${name}.coverage must be a regular expression in slashes, e.g. /Lines: (\\d+)%/`,
      posOf(st, job, "coverage"),
    );
    return undefined;
  }
  try {
    const re = compileRegex(m[1]!, m[2]!);
    return `/${re.source}/${re.flags}`;
  } catch (err) {
    st.bag.error("GL044", `${name}.coverage: ${(err as Error).message}`, posOf(st, job, "coverage"));
    return undefined;
  }
}

/** GitLab's default deployment tier from the environment name. */
function guessTier(name: string): string {
  const n = name.toLowerCase();
  if (/^(prod|production|live)/.test(n)) return "production";
  if (/^(stag|staging|model|pre|demo)/.test(n)) return "staging";
  if (/^(test|tst|int|ac|qa)/.test(n)) return "testing";
  if (/^(dev|review|trunk)/.test(n)) return "development";
  return "other";
}
