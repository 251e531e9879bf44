/**
 * Reads `stages {}` into a tree of stage definitions, enforcing Jenkins' structural rules
 * with its own messages: one of steps/stages/parallel/matrix per stage, no parallel or matrix
 * inside another, no agent/tools on a stage that holds parallel or matrix stages, unique names.
 */
import { entries, soleArg, type Entry } from "./blocks.js";
import { report, type Cx } from "./context.js";
import { knownValue } from "./values.js";

const SECTIONS = [
  "agent",
  "environment",
  "options",
  "tools",
  "when",
  "input",
  "post",
  "steps",
  "stages",
  "parallel",
  "matrix",
  "failFast",
] as const;
type Section = (typeof SECTIONS)[number];
const BODIES = ["matrix", "parallel", "stages", "steps"] as const;

export interface StageDef {
  name: string;
  entry: Entry;
  sections: Partial<Record<Section, Entry>>;
  body:
    | { kind: "steps"; entry: Entry }
    | { kind: "stages"; children: StageDef[] }
    | { kind: "parallel"; children: StageDef[] }
    | { kind: "matrix"; entry: Entry; matrix: MatrixDef };
  failFast: boolean;
}

export interface MatrixDef {
  axes: { name: string; values: string[] }[];
  excludes: { name: string; values: string[]; not: boolean }[][];
  sections: Partial<Record<Section, Entry>>;
  stages: StageDef[];
}

/** Parses the stages of a `stages {}` (or `parallel {}`) entry; sibling stages need distinct names. */
export function readStages(e: Entry, cx: Cx, nestedIn: "parallel" | "matrix" | undefined): StageDef[] {
  const out: StageDef[] = [];
  const names = new Set<string>();
  const items = entries(e.closure, cx, "stages");
  if (items.length === 0) report(cx, "error", "JK-stages", "No stages specified", e.at);
  for (const s of items) {
    const st = readStage(s, cx, names, nestedIn);
    if (st) out.push(st);
  }
  return out;
}

function readStage(
  s: Entry,
  cx: Cx,
  names: Set<string>,
  nestedIn: "parallel" | "matrix" | undefined,
): StageDef | undefined {
  if (s.name !== "stage") {
    report(
      cx,
      "error",
      "JK-stages",
      `Expected a stage, found "${s.name}"`,
      s.at,
      "stages {} holds stage('name') { ... } entries",
    );
    return undefined;
  }
  const arg = soleArg(s);
  const name = arg ? knownValue(arg, cx) : undefined;
  if (typeof name !== "string" || name === "") {
    report(
      cx,
      "error",
      "JK-stages",
      "Stage names must be non-empty strings known before the run",
      s.at,
      "stage('Build') { ... }",
    );
    return undefined;
  }
  if (names.has(name)) report(cx, "error", "JK-stages", `Duplicate stage name: "${name}"`, s.at);
  names.add(name);
  const sections: Partial<Record<Section, Entry>> = {};
  for (const sec of entries(s.closure, cx, `stage "${name}"`)) {
    if (!(SECTIONS as readonly string[]).includes(sec.name)) {
      report(
        cx,
        "error",
        "JK-stages",
        `Unknown stage section "${sec.name}". Starting with version 0.5, steps in a stage must be in a ‘steps’ block.`,
        sec.at,
      );
      continue;
    }
    if (sections[sec.name as Section]) {
      report(cx, "error", "JK-stages", `Multiple occurrences of the ${sec.name} section`, sec.at);
      continue;
    }
    sections[sec.name as Section] = sec;
  }
  const bodies = BODIES.filter((b) => sections[b]);
  if (bodies.length === 0) {
    report(
      cx,
      "error",
      "JK-stages",
      `Expected one of "steps", "stages", or "parallel" for stage "${name}"`,
      s.at,
    );
    return undefined;
  }
  if (bodies.length > 1) {
    report(
      cx,
      "error",
      "JK-stages",
      `Only one of "matrix", "parallel", "stages", or "steps" allowed for stage "${name}"`,
      s.at,
    );
    return undefined;
  }
  const kind = bodies[0]!;
  const bodyEntry = sections[kind]!;
  if ((kind === "parallel" || kind === "matrix") && nestedIn) {
    report(
      cx,
      "error",
      "JK-stages",
      `"matrix" or "parallel" cannot be nested inside another "matrix" or "parallel".`,
      bodyEntry.at,
    );
    return undefined;
  }
  if (kind === "parallel" || kind === "matrix") {
    for (const forbidden of ["agent", "tools"] as const) {
      if (sections[forbidden])
        report(
          cx,
          "error",
          "JK-stages",
          `"${forbidden}" is not allowed in stage "${name}" as it contains parallel or matrix stages`,
          sections[forbidden].at,
        );
    }
  }
  let failFast = false;
  if (sections.failFast) {
    const v = soleArg(sections.failFast);
    failFast = v ? knownValue(v, cx) === true : false;
  }
  const base = { name, entry: s, sections, failFast };
  switch (kind) {
    case "steps":
      return { ...base, body: { kind: "steps", entry: bodyEntry } };
    case "stages":
      return { ...base, body: { kind: "stages", children: readStages(bodyEntry, cx, nestedIn) } };
    case "parallel": {
      const children = readStages(bodyEntry, cx, "parallel");
      return { ...base, body: { kind: "parallel", children } };
    }
    case "matrix": {
      const matrix = readMatrix(bodyEntry, cx);
      return matrix ? { ...base, body: { kind: "matrix", entry: bodyEntry, matrix } } : undefined;
    }
  }
}

const MATRIX_SECTIONS = [
  "axes",
  "excludes",
  "agent",
  "environment",
  "options",
  "tools",
  "when",
  "input",
  "post",
  "stages",
];

function readMatrix(e: Entry, cx: Cx): MatrixDef | undefined {
  const sections: Partial<Record<Section, Entry>> = {};
  let axesEntry: Entry | undefined;
  let excludesEntry: Entry | undefined;
  for (const sec of entries(e.closure, cx, "matrix")) {
    if (!MATRIX_SECTIONS.includes(sec.name)) {
      report(
        cx,
        "error",
        "JK-matrix",
        `Unknown matrix section "${sec.name}"`,
        sec.at,
        `one of ${MATRIX_SECTIONS.join(", ")}`,
      );
      continue;
    }
    if (sec.name === "axes") axesEntry = sec;
    else if (sec.name === "excludes") excludesEntry = sec;
    else sections[sec.name as Section] = sec;
  }
  if (!axesEntry) {
    report(cx, "error", "JK-matrix", 'Missing required section "axes"', e.at);
    return undefined;
  }
  if (!sections.stages) {
    report(cx, "error", "JK-matrix", 'Missing required section "stages"', e.at);
    return undefined;
  }
  const axes: MatrixDef["axes"] = [];
  for (const a of entries(axesEntry.closure, cx, "axes")) {
    const axis = readAxis(a, cx, false);
    if (!axis) continue;
    if (axes.some((x) => x.name === axis.name))
      report(cx, "error", "JK-matrix", `Duplicate axis name: "${axis.name}"`, a.at);
    axes.push({ name: axis.name, values: axis.values });
  }
  if (axes.length === 0)
    report(cx, "error", "JK-matrix", "Matrix axes must have at least one axis", axesEntry.at);
  const excludes: MatrixDef["excludes"] = [];
  for (const ex of entries(excludesEntry?.closure, cx, "excludes")) {
    if (ex.name !== "exclude") {
      report(cx, "error", "JK-matrix", `Expected "exclude", found "${ex.name}"`, ex.at);
      continue;
    }
    const rule: MatrixDef["excludes"][number] = [];
    for (const a of entries(ex.closure, cx, "exclude")) {
      const axis = readAxis(a, cx, true);
      if (!axis) continue;
      if (!axes.some((x) => x.name === axis.name))
        report(cx, "error", "JK-matrix", `Exclude axis "${axis.name}" is not one of the matrix axes`, a.at);
      rule.push(axis);
    }
    excludes.push(rule);
  }
  const stages = readStages(sections.stages, cx, "matrix");
  return { axes, excludes, sections, stages };
}

function readAxis(
  a: Entry,
  cx: Cx,
  inExclude: boolean,
): { name: string; values: string[]; not: boolean } | undefined {
  if (a.name !== "axis") {
    report(cx, "error", "JK-matrix", `Expected "axis", found "${a.name}"`, a.at);
    return undefined;
  }
  let name: string | undefined;
  let values: string[] | undefined;
  let notValues: string[] | undefined;
  for (const d of entries(a.closure, cx, "axis")) {
    const list = d.args.map((x) => knownValue(x.value, cx)).flatMap((v) => (Array.isArray(v) ? v : [v]));
    const strings = list
      .filter(
        (v): v is string | number | boolean =>
          typeof v === "string" || typeof v === "number" || typeof v === "boolean",
      )
      .map(String);
    if (d.name === "name") name = strings[0];
    else if (d.name === "values") values = strings;
    else if (d.name === "notValues" && inExclude) notValues = strings;
    else
      report(
        cx,
        "error",
        "JK-matrix",
        `Unknown axis directive "${d.name}"`,
        d.at,
        inExclude ? "name, values or notValues" : "name and values",
      );
  }
  if (!name) {
    report(cx, "error", "JK-matrix", 'Missing required parameter: "name"', a.at);
    return undefined;
  }
  if (inExclude) {
    if ((values === undefined) === (notValues === undefined)) {
      report(cx, "error", "JK-matrix", 'Exclude axis must contain either "values" or "notValues"', a.at);
      return undefined;
    }
    return { name, values: values ?? notValues ?? [], not: notValues !== undefined };
  }
  if (!values || values.length === 0) {
    report(cx, "error", "JK-matrix", `Axis "${name}" has no values`, a.at);
    return undefined;
  }
  return { name, values, not: false };
}

/** The cells of a matrix in Jenkins' order (first axis outermost), without excluded ones. */
export function matrixCells(m: MatrixDef): Record<string, string>[] {
  let cells: Record<string, string>[] = [{}];
  for (const axis of m.axes) cells = cells.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.name]: v })));
  return cells.filter(
    (cell) =>
      !m.excludes.some(
        (rule) => rule.length > 0 && rule.every((a) => a.values.includes(cell[a.name] ?? "") !== a.not),
      ),
  );
}
