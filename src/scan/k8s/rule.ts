import type { RuleMeta } from "../types.js";
import type { K8sObject } from "./load.js";
import { containersOf, podOf, type ContainerRef, type PodRef } from "./pods.js";

/** Where a Kubernetes rule fired: an object and the path of the offending field. */
export interface K8sHit {
  obj: K8sObject;
  path: (string | number)[];
  message?: string;
}

/** A Kubernetes rule over the whole set of objects (cross-object checks need them all). */
export interface K8sRule extends RuleMeta {
  check(objects: readonly K8sObject[]): K8sHit[];
}

/** Builds a rule with the `k8s/` id prefix. */
export function k8sRule(
  id: string,
  severity: RuleMeta["severity"],
  title: string,
  help: string,
  equivalents: string[],
  check: (objects: readonly K8sObject[]) => K8sHit[],
): K8sRule {
  return { id: `k8s/${id}`, scanner: "kubernetes", severity, title, help, equivalents, check };
}

/** Runs `test` on every container of every workload; a string result is the message. */
export function perContainer(
  objects: readonly K8sObject[],
  test: (c: ContainerRef) => false | string | { path: (string | number)[]; message: string },
  withInit = false,
): K8sHit[] {
  const hits: K8sHit[] = [];
  for (const obj of objects) {
    const pod = podOf(obj);
    if (!pod) continue;
    for (const c of containersOf(pod, withInit)) {
      const r = test(c);
      if (r === false) continue;
      if (typeof r === "string") hits.push({ obj, path: c.path, message: r });
      else hits.push({ obj, path: r.path, message: r.message });
    }
  }
  return hits;
}

/** Runs `test` on every pod template. */
export function perPod(
  objects: readonly K8sObject[],
  test: (p: PodRef) => false | string | { path: (string | number)[]; message: string },
): K8sHit[] {
  const hits: K8sHit[] = [];
  for (const obj of objects) {
    const pod = podOf(obj);
    if (!pod) continue;
    const r = test(pod);
    if (r === false) continue;
    if (typeof r === "string") hits.push({ obj, path: pod.path, message: r });
    else hits.push({ obj, path: r.path, message: r.message });
  }
  return hits;
}

/** `kind/name` for messages. */
export function label(obj: K8sObject): string {
  return `${obj.kind}/${obj.name || "(unnamed)"}`;
}
