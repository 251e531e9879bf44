import type { RuleMeta } from "../types.js";
import type { DInstr, DockerfileModel } from "./model.js";

/** Where a Dockerfile rule fired, with an optional specific message. */
export interface DockerHit {
  at: DInstr;
  message?: string;
}

/** A Dockerfile rule: metadata plus a check over the parsed model. */
export interface DockerRule extends RuleMeta {
  check(model: DockerfileModel): DockerHit[];
}

/** Builds a rule with the `dockerfile/` id prefix and the hadolint code as its first equivalent. */
export function dockerRule(
  id: string,
  severity: RuleMeta["severity"],
  title: string,
  help: string,
  equivalents: string[],
  check: (model: DockerfileModel) => DockerHit[],
): DockerRule {
  return { id: `dockerfile/${id}`, scanner: "dockerfile", severity, title, help, equivalents, check };
}

/** Every RUN instruction with its stage. */
export function runs(model: DockerfileModel): DInstr[] {
  return model.all.filter((i) => i.keyword === "RUN");
}

/** Hits for each instruction `pred` accepts. */
export function each(
  model: DockerfileModel,
  keyword: string | null,
  pred: (i: DInstr) => boolean | string,
): DockerHit[] {
  const out: DockerHit[] = [];
  for (const i of model.all) {
    if (keyword !== null && i.keyword !== keyword) continue;
    const r = pred(i);
    if (r === true) out.push({ at: i });
    else if (typeof r === "string") out.push({ at: i, message: r });
  }
  return out;
}

/** True if a RUN has a cache or tmpfs mount whose target is one of `targets` (or below it). */
export function mountsTarget(i: DInstr, ...targets: string[]): boolean {
  return i.flags.some((f) => {
    if (f.name !== "mount") return false;
    const t = /(?:^|,)(?:target|dst|destination)=([^,]+)/.exec(f.value)?.[1];
    const type = /(?:^|,)type=([^,]+)/.exec(f.value)?.[1];
    return (
      (type === "cache" || type === "tmpfs") &&
      t !== undefined &&
      targets.some((x) => t.replace(/\/+$/, "") === x || t.startsWith(`${x}/`))
    );
  });
}
