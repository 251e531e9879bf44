/** Helpers shared by the converters: what to leave out, durations, and lossy notes. */
import { Document, isMap, isScalar, type Node as YamlNode } from "yaml";
import type { Job, Plan, Variable } from "../plan.js";

/** The comment put before everything a conversion could not carry over. */
export const LOSSY = "gantry: could not carry over:";

/** Notes per output node path (joined with "\u0000"), written as comments. */
export class Notes {
  readonly byPath = new Map<string, string[]>();
  add(path: (string | number)[], note: string): void {
    const key = path.join("\u0000");
    const list = this.byPath.get(key) ?? [];
    if (!list.includes(note)) list.push(note);
    this.byPath.set(key, list);
  }
  get count(): number {
    let n = 0;
    for (const l of this.byPath.values()) n += l.length;
    return n;
  }
}

/** Variables a frontend adds on its own (predefined by the CI system, parameters, stage names). */
export function isPredefined(name: string, plan: Plan): boolean {
  if (plan.parameters.some((p) => p.name === name)) return true;
  if (/^(CI|GITLAB|GANTRY)_/.test(name) || name === "CI" || name === "GITLAB_CI") return true;
  return ["STAGE_NAME", "BRANCH_NAME", "GIT_BRANCH", "GIT_COMMIT", "GIT_URL", "TAG_NAME"].includes(name);
}

/** The variables of `job` that differ from the pipeline's and are not predefined. */
export function ownVariables(job: Job, plan: Plan): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  for (const [k, v] of Object.entries(job.variables)) {
    if (isPredefined(k, plan)) continue;
    if (JSON.stringify(plan.variables[k]) === JSON.stringify(v)) continue;
    out[k] = v;
  }
  return out;
}

/** Milliseconds as the shortest exact gantry.yml/GitLab duration string. */
export function duration(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Renders `value` as YAML with the notes as `# gantry: could not carry over: ...` comments. */
export function render(value: unknown, notes: Notes, header: string): string {
  const doc = new Document(value);
  for (const [key, list] of notes.byPath) {
    const path = key === "" ? [] : key.split("\u0000").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const text = list.map((n) => ` ${LOSSY} ${n}`).join("\n");
    attach(doc, path, text);
  }
  doc.commentBefore = header;
  return doc.toString({ lineWidth: 0 });
}

function attach(doc: Document, path: (string | number)[], text: string): void {
  if (path.length === 0) {
    doc.commentBefore = doc.commentBefore ? `${doc.commentBefore}\n${text}` : text;
    return;
  }
  const parent =
    path.length === 1 ? doc.contents : (doc.getIn(path.slice(0, -1), true) as YamlNode | undefined);
  const last = path[path.length - 1]!;
  if (parent && isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    if (pair && isScalar(pair.key)) {
      pair.key.commentBefore = pair.key.commentBefore ? `${pair.key.commentBefore}\n${text}` : text;
      return;
    }
  }
  const node = doc.getIn(path, true) as YamlNode | undefined;
  if (node && typeof node === "object")
    node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${text}` : text;
  else doc.commentBefore = `${doc.commentBefore ?? ""}\n${text}`;
}
