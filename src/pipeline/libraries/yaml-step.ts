/**
 * Library steps for gantry.yml: `uses: lib/step` (or `lib/step@ref`) with `with:` arguments.
 * A `vars/<step>.yml` declares typed parameters and gantry.yml steps; a `vars/<step>.groovy`
 * (the Jenkinsfile kind) works too and is compiled by the Jenkinsfile compiler.
 */
import { parseDocument } from "yaml";
import { z } from "zod";
import { didYouMeanHint, type Diagnostic } from "../diagnostics.js";
import type { Node } from "../jenkins/ast.js";
import type { Cx, Val } from "../jenkins/context.js";
import { expandLibraryCall } from "../jenkins/library-steps.js";
import { compileSteps as compileGroovySteps } from "../jenkins/steps.js";
import type { SourceLocation, Step } from "../plan.js";
import type { LibraryRequest, LibraryVar, LoadedLibraries } from "./load.js";

const paramSchema = z.strictObject({
  type: z.enum(["string", "number", "boolean", "choice", "list"]).default("string"),
  description: z.string().optional(),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  choices: z.array(z.string()).optional(),
});
/** The format of `vars/<name>.yml`. */
export const yamlVarSchema = z.strictObject({
  description: z.string().optional(),
  parameters: z.record(z.string(), paramSchema).default({}),
  steps: z.array(z.unknown()).min(1),
});

/** A `uses:` step as written in gantry.yml. */
export interface LibraryStepCall {
  /** `library/step` or `library/step@ref`. */
  uses: string;
  /** The `with:` arguments. */
  with: Record<string, unknown>;
  /** Where the `uses:` is, for diagnostics. */
  at: SourceLocation;
}

/**
 * Compiles gantry.yml steps (the caller's own step compiler). `file` and `source` are the
 * library file's label and text, for positions inside it.
 */
export type CompileYamlSteps = (steps: unknown[], file: string, source: string) => Step[];

/** `lib/step@ref` → its parts. */
export function parseUses(uses: string): { library: string; step: string; ref?: string } | undefined {
  const m = /^([\w.-]+)\/([\w.-]+)(?:@([\w./-]+))?$/.exec(uses);
  if (!m) return undefined;
  return { library: m[1]!, step: m[2]!, ...(m[3] ? { ref: m[3] } : {}) };
}

/** The library requests a set of `uses:` imply (`lib` or `lib@ref`), for `loadLibraries`. */
export function usesRequests(calls: readonly { uses: string; at: SourceLocation }[]): LibraryRequest[] {
  const out: LibraryRequest[] = [];
  for (const c of calls) {
    const u = parseUses(c.uses);
    if (!u) continue;
    const spec = u.ref ? `${u.library}@${u.ref}` : u.library;
    if (!out.some((r) => r.spec === spec)) out.push({ spec, at: c.at });
  }
  return out;
}

/**
 * Expands one `uses:` step against libraries already loaded with `loadLibraries` (loading is
 * async and done once per compile; expansion is synchronous). Returns the Plan steps and every
 * problem as a diagnostic at the `uses:` (or inside the library file).
 */
export function expandLibraryStep(
  libs: LoadedLibraries,
  call: LibraryStepCall,
  compileYaml: CompileYamlSteps,
): { steps: Step[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const err = (message: string, hint?: string): { steps: Step[]; diagnostics: Diagnostic[] } => {
    diagnostics.push({ severity: "error", code: "LIB-step", message, ...call.at, ...(hint ? { hint } : {}) });
    return { steps: [], diagnostics };
  };
  const u = parseUses(call.uses);
  if (!u) return err(`uses: "${call.uses}" must be "library/step" or "library/step@ref"`);
  const lib = libs.libraries.find((l) => l.name === u.library);
  if (!lib)
    return err(
      `library "${u.library}" is not loaded`,
      `list it under libraries: in gantry.yml, in .gantry/libraries.yml, or pass --library ${u.library}=<path or git URL>`,
    );
  const yamlVar = libs.yamlVars.get(`${u.library}/${u.step}`);
  const groovyVar = [...libs.vars.values()].find((v) => v.library === u.library && v.name === u.step);
  if (yamlVar) return expandYaml(yamlVar, call, compileYaml, diagnostics);
  if (groovyVar) return { steps: expandGroovy(groovyVar, call, libs, diagnostics), diagnostics };
  const names = [...libs.yamlVars.values(), ...libs.vars.values()]
    .filter((v) => v.library === u.library)
    .map((v) => v.name);
  return err(
    `library ${u.library} has no step "${u.step}" (vars/${u.step}.yml or vars/${u.step}.groovy)`,
    didYouMeanHint(u.step, names) ?? (names.length ? `its steps: ${names.join(", ")}` : undefined),
  );
}

function expandYaml(
  v: LibraryVar,
  call: LibraryStepCall,
  compileYaml: CompileYamlSteps,
  diagnostics: Diagnostic[],
): { steps: Step[]; diagnostics: Diagnostic[] } {
  const inFile = (message: string): void => {
    diagnostics.push({
      severity: "error",
      code: "LIB-step",
      message,
      file: v.file,
      line: 1,
      column: 1,
      hint: "see docs/libraries.md for the vars/<name>.yml format",
    });
  };
  const doc = parseDocument(v.source);
  if (doc.errors.length > 0) {
    inFile(doc.errors[0]!.message.split("\n")[0] ?? "invalid YAML");
    return { steps: [], diagnostics };
  }
  const parsed = yamlVarSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    inFile(`${i.path.join(".") || "(top)"}: ${i.message}`);
    return { steps: [], diagnostics };
  }
  const spec = parsed.data;
  const args: Record<string, unknown> = {};
  const at = (message: string, hint?: string): void => {
    diagnostics.push({ severity: "error", code: "LIB-step", message, ...call.at, ...(hint ? { hint } : {}) });
  };
  for (const key of Object.keys(call.with)) {
    if (!(key in spec.parameters))
      at(
        `step ${call.uses} has no parameter "${key}"`,
        didYouMeanHint(key, Object.keys(spec.parameters)) ??
          `parameters: ${Object.keys(spec.parameters).join(", ") || "(none)"}`,
      );
  }
  for (const [name, p] of Object.entries(spec.parameters)) {
    const given = call.with[name];
    if (given === undefined) {
      if (p.required && p.default === undefined)
        at(`step ${call.uses} needs parameter "${name}"`, p.description);
      else args[name] = p.default ?? (p.type === "boolean" ? false : p.type === "list" ? [] : "");
      continue;
    }
    const problem = typeProblem(given, p);
    if (problem) at(`parameter "${name}" of ${call.uses} ${problem}`);
    args[name] = given;
  }
  if (diagnostics.length > 0) return { steps: [], diagnostics };
  const steps = compileYaml(substitute(spec.steps, args) as unknown[], v.file, v.source);
  return { steps, diagnostics };
}

function typeProblem(value: unknown, p: z.infer<typeof paramSchema>): string | undefined {
  switch (p.type) {
    case "string":
      return typeof value === "string" || typeof value === "number" ? undefined : "must be a string";
    case "number":
      return typeof value === "number" ||
        (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)))
        ? undefined
        : "must be a number";
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "choice":
      return p.choices?.includes(String(value))
        ? undefined
        : `must be one of ${(p.choices ?? []).join(", ")}`;
    case "list":
      return Array.isArray(value) ? undefined : "must be a list";
  }
}

/** Replaces `${args.name}` in every string; a string that is only `${args.name}` takes the value's type. */
export function substitute(value: unknown, args: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = /^\$\{args\.(\w+)\}$/.exec(value);
    if (whole && whole[1]! in args) return args[whole[1]!];
    return value.replace(/\$\{args\.(\w+)\}/g, (m, name: string) => (name in args ? show(args[name]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, args));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, args)]));
  return value;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map(show).join(" ");
  if (v === null || v === undefined) return "";
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** A Groovy library step called from gantry.yml: `with:` becomes its named arguments. */
function expandGroovy(
  v: LibraryVar,
  call: LibraryStepCall,
  libs: LoadedLibraries,
  diagnostics: Diagnostic[],
): Step[] {
  const span = { line: call.at.line, column: call.at.column, offset: 0, end: 0 };
  const node: Node & { type: "call" } = {
    type: "call",
    target: null,
    name: v.name,
    args: Object.entries(call.with).map(([name, value]) => ({ name, value: toNode(value as Val, span) })),
    parens: true,
    ...span,
  };
  const cx: Cx = {
    diags: diagnostics,
    libs,
    scope: { file: call.at.file, source: "", bindings: {}, stack: [] },
  };
  return expandLibraryCall(v, node, cx, compileGroovySteps);
}

function toNode(v: Val, span: { line: number; column: number; offset: number; end: number }): Node {
  if (v === null || v === undefined) return { type: "null", ...span };
  if (typeof v === "string") return { type: "string", parts: [v], quote: "'", ...span };
  if (typeof v === "number") return { type: "number", value: v, text: String(v), ...span };
  if (typeof v === "boolean") return { type: "bool", value: v, ...span };
  if (Array.isArray(v)) return { type: "list", items: v.map((x) => toNode(x, span)), ...span };
  return {
    type: "map",
    entries: Object.entries(v).map(([key, x]) => ({ key, value: toNode(x, span) })),
    ...span,
  };
}
