/**
 * Plan → gantry.yml. Every job becomes a stage (named by its id) with `needs:` for its
 * dependencies, so the DAG is exact whatever the source format; what gantry.yml cannot say
 * is written as a `# gantry: could not carry over: ...` comment where it was.
 */
import type { Condition, ExecutorSpec, Job, Plan, Post, Step, Variable } from "../plan.js";
import { duration, Notes, ownVariables, render } from "./common.js";

type Y = Record<string, unknown>;
type Path = (string | number)[];

export function toGantry(plan: Plan): string {
  const notes = new Notes();
  const pipeline: Y = {};
  pipeline.agent = agent(plan.executor, notes, ["pipeline", "agent"]);
  const env = environment(plan.variables, plan, notes, ["pipeline"]);
  if (Object.keys(env).length) pipeline.environment = env;
  const options: Y = {};
  if (plan.options.timeoutMs) options.timeout = duration(plan.options.timeoutMs);
  if (plan.options.retry) options.retry = plan.options.retry;
  for (const k of ["skipDefaultCheckout", "timestamps", "disableConcurrentBuilds", "failFast"] as const)
    if (plan.options[k]) options[k] = true;
  if (plan.options.buildDiscarder)
    notes.add(
      ["pipeline"],
      `buildDiscarder ${JSON.stringify(plan.options.buildDiscarder)} (configure retention on the server)`,
    );
  if (Object.keys(options).length) pipeline.options = options;
  if (plan.parameters.length) {
    pipeline.parameters = plan.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      ...(p.default !== undefined && p.type !== "choice"
        ? { default: p.type === "boolean" ? p.default === "true" : p.default }
        : {}),
      ...(p.description ? { description: p.description } : {}),
      ...(p.choices ? { choices: p.choices } : {}),
    }));
  }
  if (plan.triggers.length) {
    const t: Y = {};
    const cron = plan.triggers.filter((x) => x.kind === "cron").map((x) => x.spec);
    if (cron.length) t.cron = cron.length === 1 ? cron[0] : cron;
    const poll = plan.triggers.find((x) => x.kind === "pollSCM");
    if (poll) t.pollSCM = poll.spec;
    const up = plan.triggers.find((x) => x.kind === "upstream");
    if (up) t.upstream = up.spec;
    pipeline.triggers = t;
  }
  const groups = new Set(plan.jobs.map((j) => j.failFastGroup).filter(Boolean));
  if (groups.size > 0 && !plan.options.failFast)
    notes.add(
      ["pipeline"],
      `failFast of parallel group(s) ${[...groups].join(", ")} (only pipeline-wide options.failFast exists)`,
    );
  pipeline.stages = topological(plan.jobs).map((j, i) => stage(j, plan, notes, ["pipeline", "stages", i]));
  if (plan.jobs.length === 0) {
    pipeline.stages = [{ stage: "empty", steps: [{ echo: "this pipeline has no jobs" }] }];
    notes.add(
      ["pipeline", "stages"],
      "the pipeline has no jobs (gantry.yml needs a stage, so one that only echoes was added)",
    );
  }
  const post = postOf(plan.post, notes, ["pipeline", "post"]);
  if (post) pipeline.post = post;
  return render({ pipeline }, notes, ` Converted by gantry convert from ${plan.file} (${plan.format}).`);
}

function agent(e: ExecutorSpec, notes: Notes, p: Path): unknown {
  switch (e.kind) {
    case "none":
      return "none";
    case "shell":
      if (e.labels.length > 1) notes.add(p, `labels ${e.labels.join(", ")} (one label only)`);
      return e.labels[0] ? { label: e.labels[0] } : "any";
    case "docker": {
      if (e.services.length) notes.add(p, `services ${e.services.map((s) => s.name).join(", ")}`);
      if (e.build) {
        if (e.args) notes.add(p, `docker run args "${e.args}"`);
        const extra = [
          ...Object.entries(e.build.buildArgs).map(([k, v]) => `--build-arg ${k}=${v}`),
          e.build.additionalArgs ?? "",
        ]
          .filter(Boolean)
          .join(" ");
        return {
          dockerfile: {
            filename: e.build.dockerfile,
            dir: e.build.context,
            ...(extra ? { additionalBuildArgs: extra } : {}),
            ...(e.labels[0] ? { label: e.labels[0] } : {}),
          },
        };
      }
      if (!e.image) return "any";
      if (e.image.entrypoint || e.image.user || e.image.platform)
        notes.add(p, "image entrypoint/user/platform");
      const pull = e.image.pullPolicy?.[0];
      return {
        docker: {
          image: e.image.name,
          ...(e.args ? { args: e.args } : {}),
          ...(e.reuseNode ? { reuseNode: true } : {}),
          ...(pull ? { pullPolicy: pull } : {}),
          ...(e.labels[0] ? { label: e.labels[0] } : {}),
        },
      };
    }
    case "kubernetes":
      return {
        kubernetes: {
          ...(e.yaml ? { yaml: e.yaml } : {}),
          ...(e.yamlFile ? { yamlFile: e.yamlFile } : {}),
          ...(e.defaultContainer ? { defaultContainer: e.defaultContainer } : {}),
          ...(e.cloud ? { cloud: e.cloud } : {}),
          ...(e.inheritFrom ? { inheritFrom: e.inheritFrom } : {}),
        },
      };
  }
}

/** Jobs in an order where every job comes after the jobs it needs (gantry.yml needs that). */
function topological(jobs: Job[]): Job[] {
  const out: Job[] = [];
  const placed = new Set<string>();
  const pending = [...jobs];
  while (pending.length > 0) {
    const i = pending.findIndex((j) =>
      j.needs.every((n) => placed.has(n.job) || !jobs.some((x) => x.id === n.job)),
    );
    // A cycle cannot come out of a frontend; keep the rest in order rather than loop.
    const [next] = pending.splice(i < 0 ? 0 : i, 1);
    out.push(next!);
    placed.add(next!.id);
  }
  return out;
}

function environment(vars: Record<string, Variable>, plan: Plan, notes?: Notes, p?: Path): Y {
  const out: Y = {};
  for (const [k, v] of Object.entries(vars)) {
    if (plan.parameters.some((x) => x.name === k)) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      notes?.add(p ?? [], `variable "${k}" (not a valid environment variable name in gantry.yml)`);
      continue;
    }
    if (v.kind === "value") out[k] = v.value;
    else if (v.part === "secret" || v.part === "usernamePassword" || v.part === "file") {
      out[k] = { credentials: v.id, ...(v.part !== "secret" ? { type: v.part } : {}) };
    }
  }
  // KEY_USR/KEY_PSW come with a usernamePassword KEY.
  for (const [k, v] of Object.entries(vars))
    if (v.kind === "credential" && (v.part === "username" || v.part === "password")) delete out[k];
  return out;
}

function stage(j: Job, plan: Plan, notes: Notes, p: Path): Y {
  const s: Y = { stage: j.id };
  if (j.executor.kind === "none") {
    // Jenkins runs echo-only stages without an agent; gantry.yml needs one.
    s.agent = "any";
    notes.add(
      [...p, "agent"],
      "no agent (Jenkins agent none); gantry.yml needs one, so this stage runs on any",
    );
  } else if (JSON.stringify(j.executor) !== JSON.stringify(plan.executor))
    s.agent = agent(j.executor, notes, [...p, "agent"]);
  const env = environment(ownVariables(j, plan), plan, notes, p);
  if (Object.keys(env).length) s.environment = env;
  const options: Y = {};
  if (j.timeoutMs) options.timeout = duration(j.timeoutMs);
  if (j.retry.max > 0) options.retry = j.retry.max + 1;
  if (j.retry.when.length || j.retry.exitCodes)
    notes.add(p, `retry only when ${[...j.retry.when, ...(j.retry.exitCodes ?? []).map(String)].join(", ")}`);
  if (Object.keys(options).length) s.options = options;
  if (j.condition) {
    const w = when(j.condition, notes, [...p]);
    if (w) s.when = { ...w, ...(j.conditionTiming ?? {}) };
  }
  // Always explicit: without needs a gantry.yml stage waits for the one before it.
  s.needs = j.needs.map((n) => n.job);
  if (j.needs.some((n) => n.artifacts) || j.artifactsFrom.length)
    notes.add(
      p,
      `artifacts passed from ${[...new Set([...j.artifactsFrom, ...j.needs.filter((n) => n.artifacts).map((n) => n.job)])].join(", ")} (use stash/unstash)`,
    );
  if (j.input) {
    s.input = {
      message: j.input.message,
      ...(j.input.ok !== "Proceed" ? { ok: j.input.ok } : {}),
      ...(j.input.submitter ? { submitter: j.input.submitter } : {}),
      ...(j.input.submitterParameter ? { submitterParameter: j.input.submitterParameter } : {}),
      ...(j.input.parameters.length
        ? {
            parameters: j.input.parameters.map((x) => ({
              name: x.name,
              type: x.type,
              ...(x.default !== undefined && x.type !== "choice"
                ? { default: x.type === "boolean" ? x.default === "true" : x.default }
                : {}),
              ...(x.choices ? { choices: x.choices } : {}),
            })),
          }
        : {}),
    };
  }
  if (j.when === "manual" && !j.input) s.input = { message: `Run ${j.name}?` };
  if (j.when === "on_failure" || j.when === "always" || j.when === "delayed")
    notes.add(p, `when: ${j.when}${j.startInMs ? ` (${duration(j.startInMs)})` : ""}`);
  let steps = j.steps.map((st, i) => step(st, notes, [...p, "steps", i]));
  if (j.artifacts) {
    steps.push({
      archiveArtifacts: {
        artifacts: j.artifacts.paths,
        ...(j.artifacts.exclude.length ? { excludes: j.artifacts.exclude } : {}),
        allowEmptyArchive: true,
      },
    });
    if (j.artifacts.reports.junit.length)
      steps.push({ junit: { testResults: j.artifacts.reports.junit, allowEmptyResults: true } });
    const lost = [
      j.artifacts.when !== "on_success" ? `when ${j.artifacts.when}` : "",
      j.artifacts.expireIn ? `expire_in ${j.artifacts.expireIn}` : "",
      j.artifacts.reports.dotenv.length ? "dotenv reports" : "",
      j.artifacts.untracked ? "untracked" : "",
    ].filter(Boolean);
    if (lost.length) notes.add(p, `artifacts ${lost.join(", ")}`);
  }
  if (j.allowFailure) {
    steps = [
      { catchError: { buildResult: "UNSTABLE", stageResult: "UNSTABLE", message: "allowed to fail", steps } },
    ];
    if (j.allowFailureExitCodes)
      notes.add(p, `allow_failure only for exit codes ${j.allowFailureExitCodes.join(", ")}`);
  }
  if (steps.length) s.steps = steps;
  else s.steps = [{ echo: `${j.name}: nothing to do` }];
  if (j.cache.length) notes.add(p, `cache ${j.cache.map((c) => c.paths.join(",")).join("; ")}`);
  for (const [k, v] of [
    ["environment", j.environment?.name],
    ["coverage", j.coverage],
    ["interruptible", j.interruptible],
  ] as const) {
    if (v !== undefined) notes.add(p, `${k}: ${String(v)}`);
  }
  const post: Post = { ...j.post };
  if (j.afterSteps.length) post.always = [...(post.always ?? []), ...j.afterSteps];
  const pp = postOf(post, notes, [...p, "post"]);
  if (pp) s.post = pp;
  return s;
}

function postOf(post: Post, notes: Notes, p: Path): Y | undefined {
  const out: Y = {};
  for (const [k, steps] of Object.entries(post))
    if (steps?.length) out[k] = steps.map((st, i) => step(st, notes, [...p, k, i]));
  return Object.keys(out).length ? out : undefined;
}

function step(st: Step, notes: Notes, p: Path): unknown {
  const nested = (steps: Step[]): unknown[] => steps.map((x, i) => step(x, notes, [...p, i]));
  switch (st.kind) {
    case "sh":
      return st.label ? { sh: { script: st.script, label: st.label } } : { sh: st.script };
    case "script":
      return { sh: st.commands.join("\n") };
    case "echo":
      return { echo: st.message };
    case "dir":
      return { dir: { path: st.path, steps: nested(st.steps) } };
    case "withEnv":
      return { withEnv: { env: st.env, steps: nested(st.steps) } };
    case "withCredentials":
      return {
        withCredentials: {
          bindings: st.bindings.map((b) =>
            b.kind === "string"
              ? { string: { credentialsId: b.credentialsId, variable: b.variable } }
              : b.kind === "file"
                ? { file: { credentialsId: b.credentialsId, variable: b.variable } }
                : {
                    usernamePassword: {
                      credentialsId: b.credentialsId,
                      usernameVariable: b.usernameVariable,
                      passwordVariable: b.passwordVariable,
                    },
                  },
          ),
          steps: nested(st.steps),
        },
      };
    case "archiveArtifacts":
      return {
        archiveArtifacts: {
          artifacts: st.paths,
          ...(st.exclude.length ? { excludes: st.exclude } : {}),
          ...(st.allowEmpty ? { allowEmptyArchive: true } : {}),
          ...(st.fingerprint ? { fingerprint: true } : {}),
        },
      };
    case "stash":
      return {
        stash: {
          name: st.name,
          ...(st.includes.length ? { includes: st.includes } : {}),
          ...(st.exclude.length ? { excludes: st.exclude } : {}),
          ...(st.allowEmpty ? { allowEmpty: true } : {}),
        },
      };
    case "unstash":
      return { unstash: st.name };
    case "retry":
      return { retry: { count: Math.max(1, st.count), steps: nested(st.steps) } };
    case "timeout":
      return { timeout: { time: duration(st.ms), steps: nested(st.steps) } };
    case "error":
      return { error: st.message };
    case "unstable":
      return { unstable: st.message };
    case "writeFile":
      return { writeFile: { file: st.file, text: st.text } };
    case "sleep":
      return { sleep: duration(st.ms) };
    case "catchError": {
      const res = (r: string): string =>
        r === "SUCCESS" || r === "UNSTABLE" || r === "FAILURE" ? r : "FAILURE";
      if (res(st.buildResult) !== st.buildResult || res(st.stageResult) !== st.stageResult)
        notes.add(p, `catchError result ${st.buildResult}/${st.stageResult}`);
      return {
        catchError: {
          buildResult: res(st.buildResult),
          stageResult: res(st.stageResult),
          ...(st.message ? { message: st.message } : {}),
          steps: nested(st.steps),
        },
      };
    }
    case "junit":
      return { junit: { testResults: st.patterns, ...(st.allowEmpty ? { allowEmptyResults: true } : {}) } };
    case "deleteDir":
      return { deleteDir: true };
    case "checkout":
      return { checkout: "scm" };
    case "dockerBuild":
      return {
        dockerBuild: {
          context: st.context,
          ...(st.dockerfile ? { dockerfile: st.dockerfile } : {}),
          tags: st.tags,
          ...(Object.keys(st.buildArgs).length ? { buildArgs: st.buildArgs } : {}),
          ...(st.target ? { target: st.target } : {}),
          ...(Object.keys(st.labels).length ? { labels: st.labels } : {}),
          ...(st.push
            ? {
                push: {
                  registry: st.push.registry,
                  ...(st.push.credential ? { credentials: st.push.credential } : {}),
                },
              }
            : {}),
        },
      };
    case "scan":
      return {
        scan: {
          path: st.path,
          ...(st.only ? { only: st.only } : {}),
          failOn: st.failOn,
          format: st.format,
          output: st.output,
        },
      };
  }
}

/** A Condition as a gantry.yml `when:` level (one comparator per level, so mixed ones nest). */
function when(c: Condition, notes: Notes, p: Path): Y | undefined {
  switch (c.kind) {
    case "branch":
      return { branch: c.pattern, ...(c.comparator !== "GLOB" ? { comparator: c.comparator } : {}) };
    case "tag":
      if (c.pattern === undefined) return { buildingTag: true };
      return { tag: c.pattern, ...(c.comparator !== "GLOB" ? { comparator: c.comparator } : {}) };
    case "buildingTag":
      return { buildingTag: true };
    case "changeRequest":
      return { changeRequest: true };
    case "environment":
      return { environment: { name: c.name, value: c.value } };
    case "equals":
      return { equals: { expected: c.expected, actual: c.actual } };
    case "changeset":
      if (c.comparator && c.comparator !== "GLOB")
        notes.add(p, `changeset comparator ${c.comparator} (globs only)`);
      if (c.caseSensitive) notes.add(p, "case-sensitive changeset");
      return { changeset: c.pattern };
    case "triggeredBy":
      return { triggeredBy: c.cause };
    case "expression":
      return { expression: c.source.replace(/\s*\n\s*/g, " ").trim() };
    case "not": {
      const inner = when(c.condition, notes, p);
      return inner ? { not: inner } : undefined;
    }
    case "allOf":
    case "anyOf": {
      const items = c.conditions.map((x) => when(x, notes, p)).filter((x): x is Y => x !== undefined);
      return { [c.kind]: items };
    }
  }
}
