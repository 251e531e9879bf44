import type { z } from "zod";
import { didYouMeanHint } from "../diagnostics.js";
import type { BuildResult, CredentialBinding, Step } from "../plan.js";
import type { Position } from "../diagnostics.js";
import { parseDuration } from "./duration.js";
import { STEP_EXTRA_KEYS, STEP_NAMES, stepArgs, type StepName } from "./schema.js";

type Path = (string | number)[];

/** What step compilation needs from the compiler around it. */
export interface StepCompiler {
  check<T extends z.ZodType>(schema: T, value: unknown, path: Path): z.infer<T> | undefined;
  error(code: string, message: string, path: Path, hint?: string): void;
  loc(path: Path): Position;
  /** Expands a `uses: lib/step` into steps; absent when libraries are not available. */
  expandUses?(ref: string, args: Record<string, unknown>, path: Path): Step[];
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined
    ? []
    : typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : v;

/** Compiles a list of gantry.yml steps; every problem becomes a diagnostic. */
export function compileSteps(c: StepCompiler, raw: unknown[], path: Path): Step[] {
  const out: Step[] = [];
  for (const [i, item] of raw.entries()) {
    const p = [...path, i];
    if (typeof item === "string") {
      out.push({ kind: "sh", script: item, loc: c.loc(p) });
      continue;
    }
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      c.error("invalid-step", "a step must be a string (a shell command) or a mapping like `sh: make`", p);
      continue;
    }
    const keys = Object.keys(item);
    const name = keys.find((k) => (STEP_NAMES as string[]).includes(k)) as StepName | undefined;
    if (!name) {
      const k = keys[0] ?? "";
      c.error(
        "unknown-step",
        `unknown step "${k}"`,
        [...p, k],
        didYouMeanHint(k, STEP_NAMES) ?? `steps: ${STEP_NAMES.join(", ")}`,
      );
      continue;
    }
    const extra = keys.filter((k) => k !== name && !(STEP_EXTRA_KEYS[name] ?? []).includes(k));
    if (extra.length > 0) {
      c.error(
        "unknown-key",
        `step "${name}" has unexpected key(s) ${extra.join(", ")}`,
        [...p, extra[0]!],
        "put one step per list item",
      );
      continue;
    }
    const value = (item as Record<string, unknown>)[name];
    const args = c.check(stepArgs[name] as z.ZodType, value, [...p, name]);
    if (args === undefined) continue;
    const step = compileStep(c, name, args, value, [...p, name], item as Record<string, unknown>);
    for (const s of step) out.push({ ...s, loc: c.loc(p) });
  }
  return out;
}

// Each case reads the zod-validated arguments of its own step; a per-step generic would not
// narrow through the switch, so the arguments are `any` here and nowhere else.
/* eslint-disable @typescript-eslint/no-explicit-any */
function compileStep(
  c: StepCompiler,
  name: StepName,
  a: any,
  raw: any,
  p: Path,
  item: Record<string, unknown>,
): Step[] {
  const nested = (key = "steps") =>
    compileSteps(c, (raw as Record<string, unknown[]>)[key] ?? [], [...p, key]);
  switch (name) {
    case "sh":
      return [
        typeof a === "string"
          ? { kind: "sh", script: a }
          : { kind: "sh", script: a.script, ...(a.label ? { label: a.label } : {}) },
      ];
    case "echo":
      return [{ kind: "echo", message: String(a) }];
    case "dir":
      return [{ kind: "dir", path: a.path, steps: nested() }];
    case "withEnv":
      return [
        {
          kind: "withEnv",
          env: Object.fromEntries(Object.entries(a.env).map(([k, v]) => [k, String(v)])),
          steps: nested(),
        },
      ];
    case "withCredentials": {
      const bindings: CredentialBinding[] = a.bindings.map((b: any) =>
        b.string
          ? { kind: "string", ...b.string }
          : b.usernamePassword
            ? { kind: "usernamePassword", ...b.usernamePassword }
            : { kind: "file", ...b.file },
      );
      return [{ kind: "withCredentials", bindings, steps: nested() }];
    }
    case "archiveArtifacts":
      return [
        typeof a === "string"
          ? { kind: "archiveArtifacts", paths: list(a), exclude: [], allowEmpty: false }
          : {
              kind: "archiveArtifacts",
              paths: list(a.artifacts),
              exclude: list(a.excludes),
              allowEmpty: a.allowEmptyArchive ?? false,
              ...(a.fingerprint ? { fingerprint: true } : {}),
            },
      ];
    case "stash":
      return [
        typeof a === "string"
          ? { kind: "stash", name: a, includes: [], exclude: [], allowEmpty: false }
          : {
              kind: "stash",
              name: a.name,
              includes: list(a.includes),
              exclude: list(a.excludes),
              allowEmpty: a.allowEmpty ?? false,
            },
      ];
    case "unstash":
      return [{ kind: "unstash", name: a }];
    case "retry":
      return [{ kind: "retry", count: a.count, steps: nested() }];
    case "timeout": {
      const ms = parseDuration(a.time);
      return [{ kind: "timeout", ms, steps: nested() }];
    }
    case "error":
      return [{ kind: "error", message: a }];
    case "unstable":
      return [{ kind: "unstable", message: a }];
    case "writeFile":
      return [{ kind: "writeFile", file: a.file, text: a.text }];
    case "sleep":
      return [{ kind: "sleep", ms: parseDuration(a, "s") }];
    case "catchError":
      return [
        {
          kind: "catchError",
          buildResult: (a.buildResult ?? "FAILURE") as BuildResult,
          stageResult: (a.stageResult ?? a.buildResult ?? "FAILURE") as BuildResult,
          ...(a.message ? { message: a.message } : {}),
          steps: nested(),
        },
      ];
    case "junit":
      return [
        typeof a === "string"
          ? { kind: "junit", patterns: list(a), allowEmpty: false }
          : { kind: "junit", patterns: list(a.testResults), allowEmpty: a.allowEmptyResults ?? false },
      ];
    case "deleteDir":
      return [{ kind: "deleteDir" }];
    case "checkout":
      return [{ kind: "checkout" }];
    case "dockerBuild":
      return [
        {
          kind: "dockerBuild",
          context: a.context,
          ...(a.dockerfile ? { dockerfile: a.dockerfile } : {}),
          tags: list(a.tags),
          buildArgs: Object.fromEntries(Object.entries(a.buildArgs ?? {}).map(([k, v]) => [k, String(v)])),
          ...(a.target ? { target: a.target } : {}),
          labels: a.labels ?? {},
          ...(a.push
            ? {
                push: {
                  registry: a.push.registry,
                  ...(a.push.credentials ? { credential: a.push.credentials } : {}),
                },
              }
            : {}),
        },
      ];
    case "scan": {
      const o = a === true ? {} : a;
      return [
        {
          kind: "scan",
          path: o.path ?? ".",
          ...(o.only ? { only: o.only } : {}),
          failOn: o.failOn ?? "high",
          format: o.format ?? "sarif",
          output:
            o.output ??
            `gantry-scan.${o.format === "json" ? "json" : o.format === "gitlab" ? "gitlab.json" : "sarif"}`,
        },
      ];
    }
    case "uses": {
      if (!c.expandUses) {
        c.error("libraries-unavailable", "`uses:` needs shared libraries, which are not available here", p);
        return [];
      }
      const args = (item.with ?? {}) as Record<string, unknown>;
      return c.expandUses(a, args, p);
    }
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
