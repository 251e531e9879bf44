import { get, isObject, str, type K8sObject } from "./load.js";
import { podOf, selects, type PodRef } from "./pods.js";
import { k8sRule, label, type K8sHit, type K8sRule } from "./rule.js";

const pods = (objs: readonly K8sObject[]): PodRef[] =>
  objs.map(podOf).filter((p): p is PodRef => p !== undefined);

/** Ingress backends: v1 `service.name`, v1beta1 `serviceName`; undefined name = malformed. */
function backends(ing: K8sObject): { name: string | undefined; path: (string | number)[] }[] {
  const v1 = ing.apiVersion === "networking.k8s.io/v1";
  const out: { name: string | undefined; path: (string | number)[] }[] = [];
  const read = (b: unknown, path: (string | number)[]): void => {
    if (!isObject(b)) return;
    if (isObject(b.resource)) return;
    const name = v1 ? get(b, "service", "name") : b.serviceName;
    out.push({ name: typeof name === "string" ? name : undefined, path });
  };
  read(get(ing.raw, "spec", "defaultBackend") ?? get(ing.raw, "spec", "backend"), [
    "spec",
    v1 ? "defaultBackend" : "backend",
  ]);
  const rules = get(ing.raw, "spec", "rules");
  if (Array.isArray(rules))
    rules.forEach((r, i) => {
      const paths = get(r, "http", "paths");
      if (Array.isArray(paths))
        paths.forEach((p, j) => read(get(p, "backend"), ["spec", "rules", i, "http", "paths", j, "backend"]));
    });
  return out;
}

function accessModes(pvc: K8sObject | Record<string, unknown>): string[] {
  const raw = "raw" in pvc && isObject(pvc.raw) ? pvc.raw : pvc;
  const m = get(raw, "spec", "accessModes");
  return Array.isArray(m) ? m.map(String) : [];
}

const rbacRules = (o: K8sObject): unknown[] => (Array.isArray(o.raw.rules) ? o.raw.rules : []);

const ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];

/** A rule with every API group, every resource and every verb: cluster-admin in all but name. */
function grantsEverything(rule: unknown): boolean {
  const list = (k: string): string[] =>
    Array.isArray(get(rule, k)) ? (get(rule, k) as unknown[]).map(String) : [];
  const verbs = list("verbs");
  return (
    list("apiGroups").includes("*") &&
    list("resources").includes("*") &&
    (verbs.includes("*") || ALL_VERBS.every((v) => verbs.includes(v)))
  );
}

/** Checks across objects of the same file set: services, ingresses, storage, RBAC, ports. */
export const CLUSTER_RULES: K8sRule[] = [
  k8sRule(
    "service-selects-nothing",
    "high",
    "Service selector matches no workload",
    "Fix `spec.selector` to match the pod template labels of a workload in the same namespace.",
    ["kube-linter:dangling-service", "kube-score:Service Targets Pod"],
    (objs) => {
      const ps = pods(objs);
      return objs
        .filter(
          (o) =>
            o.kind === "Service" &&
            get(o.raw, "spec", "type") !== "ExternalName" &&
            isObject(get(o.raw, "spec", "selector")) &&
            Object.keys(get(o.raw, "spec", "selector") as object).length > 0,
        )
        .filter(
          (o) =>
            !ps.some(
              (p) => p.obj.namespace === o.namespace && selects(get(o.raw, "spec", "selector"), p.labels),
            ),
        )
        .map((o) => ({
          obj: o,
          path: ["spec", "selector"],
          message: `${label(o)} selects no pods of the workloads in this set`,
        }));
    },
  ),
  k8sRule(
    "ingress-missing-service",
    "high",
    "Ingress backend names a Service that does not exist",
    "Point the backend at a Service defined in the same namespace (networking.k8s.io/v1: `backend.service.name`).",
    ["kube-linter:dangling-ingress", "kube-score:Ingress targets Service"],
    (objs) =>
      objs
        .filter((o) => o.kind === "Ingress")
        .flatMap((o) =>
          backends(o)
            .filter(
              (b) =>
                b.name === undefined ||
                !objs.some((s) => s.kind === "Service" && s.name === b.name && s.namespace === o.namespace),
            )
            .map((b) => ({
              obj: o,
              path: b.path,
              message:
                b.name === undefined
                  ? `${label(o)} has a backend without a service name`
                  : `${label(o)} routes to missing Service '${b.name}'`,
            })),
        ),
  ),
  k8sRule(
    "nodeport-range",
    "high",
    "nodePort outside 30000–32767 or on a Service that is not NodePort",
    "Use a port in the default node-port range on a `type: NodePort` (or LoadBalancer) Service, or drop `nodePort` and let Kubernetes choose.",
    [],
    (objs) =>
      objs
        .filter((o) => o.kind === "Service")
        .flatMap((o) => {
          const type = str(get(o.raw, "spec", "type")) || "ClusterIP";
          const ports = get(o.raw, "spec", "ports");
          if (!Array.isArray(ports)) return [];
          return ports.flatMap((p, i): K8sHit[] => {
            const np = get(p, "nodePort");
            if (np === undefined || np === null) return [];
            if (type !== "NodePort" && type !== "LoadBalancer")
              return [
                {
                  obj: o,
                  path: ["spec", "ports", i, "nodePort"],
                  message: `${label(o)} sets nodePort on a ${type} Service`,
                },
              ];
            if (typeof np !== "number" || !Number.isInteger(np) || np < 30000 || np > 32767)
              return [
                {
                  obj: o,
                  path: ["spec", "ports", i, "nodePort"],
                  message: `${label(o)} nodePort ${str(np)} is outside 30000–32767`,
                },
              ];
            return [];
          });
        }),
  ),
  k8sRule(
    "service-type-nodeport",
    "low",
    "Service of type NodePort",
    "Expose services through an Ingress or a LoadBalancer; NodePort opens the port on every node.",
    ["kube-score:Service Type"],
    (objs) =>
      objs
        .filter((o) => o.kind === "Service" && get(o.raw, "spec", "type") === "NodePort")
        .map((o) => ({ obj: o, path: ["spec", "type"], message: `${label(o)} is a NodePort Service` })),
  ),
  k8sRule(
    "replicated-rwo-claim",
    "high",
    "Deployment with several replicas mounts a ReadWriteOnce claim",
    "ReadWriteOnce volumes attach to one node: use a StatefulSet with `volumeClaimTemplates`, a ReadWriteMany class, or one replica.",
    [],
    (objs) =>
      objs
        .filter((o) => o.kind === "Deployment" && Number(get(o.raw, "spec", "replicas") ?? 1) > 1)
        .flatMap((o) => {
          const pod = podOf(o);
          const vols = pod && Array.isArray(pod.spec.volumes) ? pod.spec.volumes : [];
          return vols.flatMap((v, i) => {
            const claim = get(v, "persistentVolumeClaim", "claimName");
            if (typeof claim !== "string") return [];
            const pvc = objs.find(
              (x) => x.kind === "PersistentVolumeClaim" && x.name === claim && x.namespace === o.namespace,
            );
            if (
              !pvc ||
              !accessModes(pvc).includes("ReadWriteOnce") ||
              accessModes(pvc).includes("ReadWriteMany")
            )
              return [];
            return [
              {
                obj: o,
                path: [...(pod?.path ?? []), "volumes", i],
                message: `${label(o)} has ${String(get(o.raw, "spec", "replicas"))} replicas sharing ReadWriteOnce claim '${claim}'`,
              },
            ];
          });
        }),
  ),
  k8sRule(
    "statefulset-headless-service",
    "medium",
    "StatefulSet serviceName is not a headless Service selecting its pods",
    "Create a Service with `clusterIP: None` whose selector matches the pods, and name it in `spec.serviceName`.",
    ["kube-score:StatefulSet has ServiceName"],
    (objs) =>
      objs
        .filter((o) => o.kind === "StatefulSet")
        .flatMap((o) => {
          const name = get(o.raw, "spec", "serviceName");
          const pod = podOf(o);
          const svc = objs.find(
            (s) => s.kind === "Service" && s.name === name && s.namespace === o.namespace,
          );
          if (
            typeof name === "string" &&
            svc &&
            get(svc.raw, "spec", "clusterIP") === "None" &&
            pod &&
            selects(get(svc.raw, "spec", "selector"), pod.labels)
          )
            return [];
          const why =
            typeof name !== "string"
              ? "has no serviceName"
              : !svc
                ? `names missing Service '${name}'`
                : get(svc.raw, "spec", "clusterIP") !== "None"
                  ? `names Service '${name}', which is not headless`
                  : `names Service '${name}', which does not select its pods`;
          return [{ obj: o, path: ["spec", "serviceName"], message: `${label(o)} ${why}` }];
        }),
  ),
  k8sRule(
    "hpa-missing-target",
    "medium",
    "HorizontalPodAutoscaler targets a workload that does not exist",
    "Point `scaleTargetRef` at a Deployment/StatefulSet in this set.",
    ["kube-score:HorizontalPodAutoscaler has target", "kube-linter:dangling-horizontalpodautoscaler"],
    (objs) =>
      objs
        .filter((o) => o.kind === "HorizontalPodAutoscaler")
        .filter((o) => {
          const ref = get(o.raw, "spec", "scaleTargetRef");
          return !objs.some(
            (t) => t.kind === get(ref, "kind") && t.name === get(ref, "name") && t.namespace === o.namespace,
          );
        })
        .map((o) => ({
          obj: o,
          path: ["spec", "scaleTargetRef"],
          message: `${label(o)} targets a workload not in this set`,
        })),
  ),
  k8sRule(
    "cluster-admin-binding",
    "high",
    "Binding grants cluster-admin (or a role with every permission)",
    "Bind a narrower (Cluster)Role with only the verbs and resources needed.",
    [
      "kube-linter:cluster-admin-role-binding",
      "polaris:clusterrolebindingClusterAdmin",
      "polaris:rolebindingClusterAdminClusterRole",
      "polaris:rolebindingClusterAdminRole",
    ],
    (objs) =>
      objs
        .filter(
          (o) =>
            (o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding") && !o.name.startsWith("system:"),
        )
        .filter((o) => {
          const kind = get(o.raw, "roleRef", "kind");
          const name = get(o.raw, "roleRef", "name");
          if (name === "cluster-admin" && kind === "ClusterRole") return true;
          const role = objs.find(
            (r) =>
              r.kind === kind && r.name === name && (kind === "ClusterRole" || r.namespace === o.namespace),
          );
          return role !== undefined && rbacRules(role).some(grantsEverything);
        })
        .map((o) => ({
          obj: o,
          path: ["roleRef"],
          message: `${label(o)} grants ${String(get(o.raw, "roleRef", "name"))}, which allows everything`,
        })),
  ),
  k8sRule(
    "rbac-wildcard",
    "high",
    "RBAC rule uses a wildcard",
    "List the API groups, resources and verbs explicitly.",
    ["kube-linter:wildcard-in-rules", "checkov:CKV_K8S_49"],
    (objs) =>
      objs
        .filter((o) => o.kind === "Role" || o.kind === "ClusterRole")
        .flatMap((o) => {
          const i = rbacRules(o).findIndex((r) =>
            ["resources", "verbs"].some(
              (k) => Array.isArray(get(r, k)) && (get(r, k) as unknown[]).includes("*"),
            ),
          );
          return i >= 0 ? [{ obj: o, path: ["rules", i], message: `${label(o)} grants '*'` }] : [];
        }),
  ),
  k8sRule(
    "rbac-pod-exec",
    "high",
    "Role allows exec or attach into pods",
    "Remove `pods/exec` and `pods/attach` (create/get) unless this role is for break-glass debugging.",
    ["polaris:clusterrolePodExecAttach", "polaris:rolePodExecAttach"],
    (objs) =>
      objs
        .filter(
          (o) =>
            (o.kind === "Role" || o.kind === "ClusterRole") &&
            !/^(?:admin|cluster-admin|edit|system:.*)$/.test(o.name),
        )
        .flatMap((o) => {
          const i = rbacRules(o).findIndex((r) => {
            const groups = (get(r, "apiGroups") as unknown[] | undefined) ?? [""];
            const res = (get(r, "resources") as unknown[] | undefined) ?? [];
            const verbs = (get(r, "verbs") as unknown[] | undefined) ?? [];
            const coreGroup = groups.includes("") || groups.includes("*");
            const hitsRes = res.some(
              (x) => x === "*" || x === "pods/exec" || x === "pods/attach" || x === "pods/*",
            );
            const hitsVerb = verbs.some((v) => v === "*" || v === "create" || v === "get");
            return coreGroup && hitsRes && hitsVerb;
          });
          return i >= 0
            ? [{ obj: o, path: ["rules", i], message: `${label(o)} allows exec/attach into pods` }]
            : [];
        }),
  ),
];
