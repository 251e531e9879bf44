import { get, isObject, type K8sObject } from "./load.js";

/** A pod template inside a workload (or a bare Pod), with its path for locating findings. */
export interface PodRef {
  obj: K8sObject;
  spec: Record<string, unknown>;
  path: (string | number)[];
  labels: Record<string, string>;
}

/** One container of a pod template. */
export interface ContainerRef {
  pod: PodRef;
  container: Record<string, unknown>;
  path: (string | number)[];
  name: string;
  init: boolean;
}

const TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** Kinds that run pods. */
export const WORKLOAD_KINDS = new Set(Object.keys(TEMPLATE_PATHS));

/** The pod template of a workload object, if it has one. */
export function podOf(obj: K8sObject): PodRef | undefined {
  const base = TEMPLATE_PATHS[obj.kind];
  if (!base) return undefined;
  const tpl = base.length === 0 ? obj.raw : get(obj.raw, ...base);
  const spec = get(tpl, "spec");
  if (!isObject(spec)) return undefined;
  const labels = get(tpl, "metadata", "labels");
  return {
    obj,
    spec,
    path: [...base, "spec"],
    labels: isObject(labels) ? (labels as Record<string, string>) : {},
  };
}

/** Containers (and optionally init containers) of a pod template. */
export function containersOf(pod: PodRef, withInit = false): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const key of withInit ? ["initContainers", "containers"] : ["containers"]) {
    const list = pod.spec[key];
    if (!Array.isArray(list)) continue;
    list.forEach((c, i) => {
      if (isObject(c))
        out.push({
          pod,
          container: c,
          path: [...pod.path, key, i],
          name: typeof c.name === "string" ? c.name : `#${i}`,
          init: key === "initContainers",
        });
    });
  }
  return out;
}

/** True when every key/value of `selector` is in `labels` (an empty selector matches nothing here). */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isObject(selector)) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === String(v));
}

/** Label selector with matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export function matchesLabelSelector(sel: unknown, labels: Record<string, string>): boolean {
  if (!isObject(sel)) return false;
  const ml = isObject(sel.matchLabels) ? sel.matchLabels : {};
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  if (Object.keys(ml).length === 0 && exprs.length === 0) return true;
  if (!Object.entries(ml).every(([k, v]) => labels[k] === String(v))) return false;
  return exprs.every((e: unknown) => {
    if (!isObject(e) || typeof e.key !== "string") return false;
    const vals = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = e.key in labels;
    switch (e.operator) {
      case "In":
        return has && vals.includes(labels[e.key] as string);
      case "NotIn":
        return !has || !vals.includes(labels[e.key] as string);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
}
