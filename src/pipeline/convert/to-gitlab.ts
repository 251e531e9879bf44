/**
 * Plan → .gitlab-ci.yml. Jobs keep their ids, stages and `needs`; steps become `script`
 * lines; conditions GitLab can express become `rules`. Everything else is written as a
 * `# gantry: could not carry over: ...` comment on the job.
 */
import type { Condition, ExecutorSpec, Expr, Job, Plan, Post, Step, Variable } from "../plan.js";
import { duration, isPredefined, Notes, ownVariables, render } from "./common.js";

type Y = Record<string, unknown>;
type Path = (string | number)[];

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** Double quotes: the shell still expands `${VAR}`, as the engine does for echo messages. */
const dq = (s: string): string => `"${s.replace(/[\\"`]/g, "\\$&")}"`;

export function toGitlab(plan: Plan): string {
  const notes = new Notes();
  const out: Y = {};
  const used = new Set(plan.jobs.map((j) => j.stage));
  const stages = [...new Set([...plan.stages.filter((s) => used.has(s)), ...used])];
  const hasPost = Object.values(plan.post).some((s) => s?.length);
  out.stages = hasPost ? [...stages, ".post"] : stages;
  const vars = variables(plan.variables, plan, notes, ["variables"]);
  for (const p of plan.parameters) {
    vars[p.name] = {
      value: p.default ?? "",
      ...(p.description ? { description: p.description } : {}),
      ...(p.choices ? { options: p.choices } : {}),
    };
  }
  if (Object.keys(vars).length) out.variables = vars;
  const img = image(plan.executor, notes, ["stages"]);
  if (img) out.default = { image: img };
  if (plan.triggers.length)
    notes.add(
      ["stages"],
      `triggers ${plan.triggers.map((t) => `${t.kind} "${t.spec}"`).join(", ")} (use pipeline schedules)`,
    );
  if (plan.options.timeoutMs)
    notes.add(["stages"], `pipeline timeout ${duration(plan.options.timeoutMs)} (set the project's timeout)`);
  if (plan.options.disableConcurrentBuilds)
    notes.add(["stages"], "disableConcurrentBuilds (use resource_group)");
  for (const j of plan.jobs) out[j.id] = job(j, plan, notes, [j.id]);
  for (const [cond, steps] of Object.entries(plan.post)) {
    if (!steps?.length) continue;
    const when =
      cond === "always" || cond === "cleanup"
        ? "always"
        : cond === "success"
          ? "on_success"
          : cond === "failure" || cond === "unsuccessful"
            ? "on_failure"
            : undefined;
    const id = `post: ${cond}`;
    if (!when) {
      notes.add(["stages"], `pipeline post "${cond}"`);
      continue;
    }
    out[id] = { stage: ".post", when, script: nonEmpty(script(steps, notes, [id]), id) };
  }
  return render(out, notes, ` Converted by gantry convert from ${plan.file} (${plan.format}).`);
}

function variables(vars: Record<string, Variable>, plan: Plan, notes: Notes, p: Path): Y {
  const out: Y = {};
  for (const [k, v] of Object.entries(vars)) {
    if (isPredefined(k, plan)) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      notes.add(p, `variable "${k}" (not a valid variable name)`);
      continue;
    }
    if (v.kind === "value") out[k] = v.expand === false ? { value: v.value, expand: false } : v.value;
    else notes.add(p, `credential ${k} (${v.id}, ${v.part}): define it as a masked CI/CD variable`);
  }
  return out;
}

function image(e: ExecutorSpec, notes: Notes, p: Path): unknown {
  if (e.kind === "docker") {
    if (e.build)
      notes.add(p, `agent built from ${e.build.dockerfile} (build and push the image in an earlier job)`);
    if (e.args) notes.add(p, `docker args "${e.args}"`);
    if (!e.image) return undefined;
    return e.image.entrypoint ? { name: e.image.name, entrypoint: e.image.entrypoint } : e.image.name;
  }
  if (e.kind === "kubernetes")
    notes.add(p, "kubernetes pod agent (use the Kubernetes executor's runner config)");
  return undefined;
}

function job(j: Job, plan: Plan, notes: Notes, p: Path): Y {
  const out: Y = { stage: j.stage };
  if (JSON.stringify(j.executor) !== JSON.stringify(plan.executor)) {
    const img = image(j.executor, notes, p);
    if (img) out.image = img;
    if (j.executor.kind === "docker" && j.executor.services.length)
      out.services = j.executor.services.map((s) =>
        s.alias.length ? { name: s.name, alias: s.alias.join(",") } : s.name,
      );
  }
  if (j.executor.labels.length) out.tags = j.executor.labels;
  const vars = variables(ownVariables(j, plan), plan, notes, p);
  if (Object.keys(vars).length) out.variables = vars;
  // A needed job with rules may be left out of the pipeline; Jenkins skips it and goes on.
  const conditional = new Set(plan.jobs.filter((x) => x.condition).map((x) => x.id));
  out.needs = j.needs.map((n) =>
    n.artifacts && !conditional.has(n.job)
      ? n.job
      : { job: n.job, artifacts: n.artifacts, ...(conditional.has(n.job) ? { optional: true } : {}) },
  );
  const rules = j.condition ? rulesOf(j.condition, notes, p) : undefined;
  let when: string | undefined = j.when === "on_success" ? undefined : j.when;
  if (j.input) {
    when = "manual";
    notes.add(
      p,
      `input "${j.input.message}"${j.input.submitter ? ` for ${j.input.submitter}` : ""} (became when: manual)`,
    );
  }
  if (rules) out.rules = rules.map((r) => ({ ...r, ...(when ? { when } : {}) }));
  else if (when) out.when = when;
  if (j.startInMs) out.start_in = duration(j.startInMs);
  out.script = nonEmpty(script(j.steps, notes, p), j.name);
  const always = [...(j.post.always ?? []), ...(j.post.cleanup ?? []), ...j.afterSteps];
  if (always.length) out.after_script = script(always, notes, p);
  const lostPost = (Object.keys(j.post) as (keyof Post)[]).filter(
    (k) => k !== "always" && k !== "cleanup" && j.post[k]?.length,
  );
  if (lostPost.length)
    notes.add(p, `post ${lostPost.join(", ")} (add jobs with when: on_failure / on_success)`);
  const artifacts = artifactsOf(j);
  if (artifacts) out.artifacts = artifacts;
  if (j.cache.length)
    out.cache = j.cache.map((c) => ({
      key:
        typeof c.key === "string"
          ? c.key
          : { files: c.key.files, ...(c.key.prefix ? { prefix: c.key.prefix } : {}) },
      paths: c.paths,
      policy: c.policy,
      when: c.when,
    }));
  if (j.allowFailure)
    out.allow_failure = j.allowFailureExitCodes ? { exit_codes: j.allowFailureExitCodes } : true;
  if (j.retry.max > 0) {
    out.retry = Math.min(2, j.retry.max);
    if (j.retry.max > 2) notes.add(p, `retry ${j.retry.max} (GitLab allows at most 2)`);
  }
  if (j.timeoutMs) out.timeout = duration(j.timeoutMs);
  if (j.environment)
    out.environment = { name: j.environment.name, ...(j.environment.url ? { url: j.environment.url } : {}) };
  if (j.coverage) out.coverage = j.coverage;
  if (j.interruptible !== undefined) out.interruptible = j.interruptible;
  if (j.failFastGroup) notes.add(p, `fail-fast group "${j.failFastGroup}"`);
  return out;
}

function artifactsOf(j: Job): Y | undefined {
  const paths = [...(j.artifacts?.paths ?? [])];
  const junit = [...(j.artifacts?.reports.junit ?? [])];
  const walk = (steps: Step[]): void => {
    for (const s of steps) {
      if (s.kind === "archiveArtifacts") paths.push(...s.paths);
      if (s.kind === "junit") junit.push(...s.patterns);
      if ("steps" in s) walk(s.steps);
    }
  };
  walk([...j.steps, ...Object.values(j.post).flat()]);
  if (!paths.length && !junit.length) return undefined;
  return {
    ...(paths.length ? { paths: [...new Set(paths)] } : {}),
    ...(j.artifacts?.exclude.length ? { exclude: j.artifacts.exclude } : {}),
    ...(j.artifacts?.when && j.artifacts.when !== "on_success"
      ? { when: j.artifacts.when }
      : junit.length
        ? { when: "always" }
        : {}),
    ...(j.artifacts?.expireIn ? { expire_in: j.artifacts.expireIn } : {}),
    ...(junit.length || j.artifacts?.reports.dotenv.length
      ? {
          reports: {
            ...(junit.length ? { junit: [...new Set(junit)] } : {}),
            ...(j.artifacts?.reports.dotenv.length ? { dotenv: j.artifacts.reports.dotenv } : {}),
          },
        }
      : {}),
  };
}

/** GitLab needs at least one script line; steps that became artifacts leave none. */
function nonEmpty(lines: string[], name: string): string[] {
  return lines.length ? lines : [`echo ${q(`${name}: no shell steps`)}`];
}

/** Steps as shell lines, in one GitLab script. */
function script(steps: Step[], notes: Notes, p: Path, indent = ""): string[] {
  const out: string[] = [];
  for (const s of steps) {
    switch (s.kind) {
      case "sh":
        out.push(s.script.trim());
        break;
      case "script":
        out.push(...s.commands);
        break;
      case "echo":
        out.push(`echo ${dq(s.message)}`);
        break;
      case "dir":
        out.push(`(cd ${q(s.path)} && {\n${script(s.steps, notes, p).join("\n")}\n})`);
        break;
      case "withEnv":
        out.push(
          `(${Object.entries(s.env)
            .map(([k, v]) => `export ${k}="${v.replace(/"/g, '\\"')}"`)
            .join("; ")}\n${script(s.steps, notes, p).join("\n")}\n)`,
        );
        break;
      case "withCredentials":
        notes.add(
          p,
          `withCredentials ${s.bindings.map((b) => b.credentialsId).join(", ")} (define them as masked CI/CD variables)`,
        );
        out.push(...script(s.steps, notes, p));
        break;
      case "writeFile":
        out.push(`cat > ${q(s.file)} <<'GANTRY_EOF'\n${s.text}\nGANTRY_EOF`);
        break;
      case "sleep":
        out.push(`sleep ${Math.ceil(s.ms / 1000)}`);
        break;
      case "error":
        out.push(`echo ${q(s.message)} >&2; exit 1`);
        break;
      case "unstable":
        out.push(`echo ${q(`UNSTABLE: ${s.message}`)}`);
        notes.add(p, `unstable("${s.message}") (GitLab has no unstable result; use allow_failure)`);
        break;
      case "retry":
        out.push(
          `for gantry_try in $(seq ${s.count}); do (\n${script(s.steps, notes, p).join("\n")}\n) && break; [ "$gantry_try" = ${s.count} ] && exit 1; done`,
        );
        break;
      case "timeout":
        out.push(
          `timeout ${Math.ceil(s.ms / 1000)} sh -e <<'GANTRY_EOF'\n${script(s.steps, notes, p).join("\n")}\nGANTRY_EOF`,
        );
        break;
      case "catchError":
        out.push(`(\n${script(s.steps, notes, p).join("\n")}\n) || echo ${q(s.message ?? "error caught")}`);
        if (s.stageResult !== "SUCCESS" || s.buildResult !== "SUCCESS")
          notes.add(p, `catchError result ${s.buildResult}/${s.stageResult}`);
        break;
      case "deleteDir":
        out.push("find . -mindepth 1 -delete");
        break;
      case "checkout":
      case "archiveArtifacts":
      case "junit":
        break;
      case "stash":
      case "unstash":
        notes.add(p, `${s.kind} "${s.name}" (use artifacts and needs)`);
        break;
      case "dockerBuild":
        out.push(
          `docker build ${s.dockerfile ? `-f ${q(s.dockerfile)} ` : ""}${s.tags.map((t) => `-t ${q(t)} `).join("")}${Object.entries(
            s.buildArgs,
          )
            .map(([k, v]) => `--build-arg ${q(`${k}=${v}`)} `)
            .join("")}${q(s.context)}`,
        );
        if (s.push) notes.add(p, `dockerBuild push to ${s.push.registry}`);
        break;
      case "scan":
        out.push(
          `gantry scan ${q(s.path)} --fail-on ${s.failOn} --format ${s.format} --output ${q(s.output)}`,
        );
        break;
    }
  }
  return out.map((l) => indent + l);
}

/** A Condition as GitLab `rules:` (an `if`, or `changes`), or undefined with a note. */
function rulesOf(c: Condition, notes: Notes, p: Path): Y[] | undefined {
  if (c.kind === "changeset" && (!c.comparator || c.comparator === "GLOB")) return [{ changes: [c.pattern] }];
  const expr = ifOf(c);
  if (expr) return [{ if: expr }];
  notes.add(p, `when condition ${describe(c)}`);
  return undefined;
}

function regex(pattern: string, comparator: "EQUALS" | "GLOB" | "REGEXP"): string {
  if (comparator === "REGEXP") return `/^(?:${pattern})$/`;
  const esc = pattern.replace(/[.+^$()|[\]\\/]/g, "\\$&");
  return comparator === "EQUALS"
    ? `/^${esc}$/`
    : `/^${esc
        .replace(/\*\*/g, "\u0000")
        .replace(/\*/g, "[^/]*")
        .replace(/\u0000/g, ".*")
        .replace(/\?/g, ".")}$/`;
}

function ifOf(c: Condition): string | undefined {
  switch (c.kind) {
    case "branch":
      return c.comparator === "EQUALS" || (c.comparator === "GLOB" && !/[*?[{]/.test(c.pattern))
        ? `$CI_COMMIT_BRANCH == "${c.pattern}"`
        : `$CI_COMMIT_BRANCH =~ ${regex(c.pattern, c.comparator)}`;
    case "tag":
      return c.pattern === undefined
        ? "$CI_COMMIT_TAG"
        : `$CI_COMMIT_TAG =~ ${regex(c.pattern, c.comparator)}`;
    case "buildingTag":
      return "$CI_COMMIT_TAG";
    case "changeRequest":
      return "$CI_MERGE_REQUEST_IID";
    case "environment":
      return `$${c.name} == "${c.value.replace(/"/g, '\\"')}"`;
    case "allOf":
    case "anyOf": {
      const parts = c.conditions.map(ifOf);
      if (parts.some((x) => x === undefined)) return undefined;
      return parts.map((x) => `(${x})`).join(c.kind === "allOf" ? " && " : " || ");
    }
    case "not": {
      const inner = c.condition;
      if (inner.kind === "environment") return `$${inner.name} != "${inner.value.replace(/"/g, '\\"')}"`;
      if (inner.kind === "branch")
        return inner.comparator === "EQUALS"
          ? `$CI_COMMIT_BRANCH != "${inner.pattern}"`
          : `$CI_COMMIT_BRANCH !~ ${regex(inner.pattern, inner.comparator)}`;
      if (inner.kind === "buildingTag") return "$CI_COMMIT_TAG == null";
      if (inner.kind === "changeRequest") return "$CI_MERGE_REQUEST_IID == null";
      return undefined;
    }
    case "expression":
      return exprIf(c.expr);
    default:
      return undefined;
  }
}

/** A simple Expr (comparisons of variables with literals, &&, ||, !) as a GitLab `if`. */
function exprIf(e: Expr): string | undefined {
  const side = (x: Expr): string | undefined => {
    if (x.kind === "var" && x.scope !== "currentBuild") return `$${x.name}`;
    if (x.kind === "literal") return x.value === null ? "null" : JSON.stringify(String(x.value));
    return undefined;
  };
  switch (e.kind) {
    case "var":
      return side(e);
    case "unary": {
      if (e.op !== "!" || e.arg.kind !== "var") return undefined;
      const v = side(e.arg);
      return v ? `${v} == null || ${v} == ""` : undefined;
    }
    case "binary": {
      if (e.op === "&&" || e.op === "||") {
        const l = exprIf(e.left);
        const r = exprIf(e.right);
        return l && r ? `(${l}) ${e.op} (${r})` : undefined;
      }
      const l = side(e.left);
      if (!l || !l.startsWith("$")) return undefined;
      if ((e.op === "==" || e.op === "!=") && side(e.right)) return `${l} ${e.op} ${side(e.right)}`;
      // GitLab's regular expressions (RE2) have no lookaround.
      if (
        (e.op === "=~" || e.op === "==~") &&
        e.right.kind === "literal" &&
        typeof e.right.value === "string" &&
        !/\(\?[=!<]/.test(e.right.value)
      ) {
        const re = e.op === "==~" ? `^(?:${e.right.value})$` : e.right.value;
        return `${l} =~ /${re.replace(/\//g, "\\/")}/`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function describe(c: Condition): string {
  switch (c.kind) {
    case "expression":
      return `expression "${c.source.replace(/\s+/g, " ")}"`;
    case "not":
      return `not (${describe(c.condition)})`;
    case "allOf":
    case "anyOf":
      return `${c.kind} (${c.conditions.map(describe).join(", ")})`;
    case "changeset":
      return `changeset "${c.pattern}" (${c.comparator ?? "GLOB"})`;
    case "triggeredBy":
      return `triggeredBy "${c.cause}"`;
    default:
      return c.kind;
  }
}
