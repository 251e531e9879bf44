import { detectSecrets } from "../secrets/detector.js";
import { secretRules } from "../secrets/scan-buffer.js";
import { get, isObject, str } from "./load.js";
import { matchesLabelSelector, podOf } from "./pods.js";
import { k8sRule, label, perContainer, perPod, type K8sRule } from "./rule.js";

const DEPRECATED_APIS: Record<string, string> = {
  "extensions/v1beta1": "apps/v1 or networking.k8s.io/v1",
  "apps/v1beta1": "apps/v1",
  "apps/v1beta2": "apps/v1",
  "batch/v1beta1": "batch/v1",
  "policy/v1beta1": "policy/v1",
  "networking.k8s.io/v1beta1": "networking.k8s.io/v1",
  "autoscaling/v2beta1": "autoscaling/v2",
  "autoscaling/v2beta2": "autoscaling/v2",
  "rbac.authorization.k8s.io/v1beta1": "rbac.authorization.k8s.io/v1",
};

const SECRET_ENV = /(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

function resourceRule(
  id: string,
  kind: "requests" | "limits",
  res: "cpu" | "memory",
  equivalents: string[],
): K8sRule {
  return k8sRule(
    id,
    kind === "limits" && res === "cpu" ? "low" : "medium",
    `${res === "cpu" ? "CPU" : "Memory"} ${kind === "requests" ? "request" : "limit"} not set`,
    `Set \`resources.${kind}.${res}\` so the scheduler ${kind === "requests" ? "can place the pod" : "can stop a runaway container from starving its neighbours"}.`,
    equivalents,
    (objs) =>
      perContainer(objs, (c) =>
        get(c.container, "resources", kind, res) === undefined
          ? `Container '${c.name}' has no ${res} ${kind === "requests" ? "request" : "limit"}`
          : false,
      ),
  );
}

/** Image tag and the reference without it. */
function imageTag(image: string): { tag: string | undefined; digest: boolean } {
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.indexOf(":", slash + 1);
  return { tag: colon >= 0 ? noDigest.slice(colon + 1) : undefined, digest: at >= 0 };
}

/** Resources, probes, images, environment and workload settings. */
export const WORKLOAD_RULES: K8sRule[] = [
  resourceRule("cpu-requests", "requests", "cpu", [
    "polaris:cpuRequestsMissing",
    "checkov:CKV_K8S_10",
    "kube-linter:unset-cpu-requirements",
    "kube-score:Container Resources",
    "platform:resources",
  ]),
  resourceRule("cpu-limits", "limits", "cpu", [
    "polaris:cpuLimitsMissing",
    "checkov:CKV_K8S_11",
    "kube-linter:unset-cpu-requirements",
    "kube-score:Container Resources",
    "platform:resources",
  ]),
  resourceRule("memory-requests", "requests", "memory", [
    "polaris:memoryRequestsMissing",
    "checkov:CKV_K8S_12",
    "kube-linter:unset-memory-requirements",
    "kube-score:Container Resources",
    "platform:resources",
  ]),
  resourceRule("memory-limits", "limits", "memory", [
    "polaris:memoryLimitsMissing",
    "checkov:CKV_K8S_13",
    "kube-linter:unset-memory-requirements",
    "kube-score:Container Resources",
    "platform:resources",
  ]),
  k8sRule(
    "liveness-probe",
    "medium",
    "No liveness probe",
    "Add `livenessProbe` so the kubelet restarts a hung container.",
    [
      "kube-linter:no-liveness-probe",
      "polaris:livenessProbeMissing",
      "checkov:CKV_K8S_8",
      "platform:livenessProbe",
    ],
    (objs) =>
      perContainer(objs, (c) =>
        c.pod.obj.kind === "Job" || c.pod.obj.kind === "CronJob" || isObject(c.container.livenessProbe)
          ? false
          : `Container '${c.name}' has no liveness probe`,
      ),
  ),
  k8sRule(
    "readiness-probe",
    "medium",
    "No readiness probe",
    "Add `readinessProbe` so traffic only reaches a container that can serve it.",
    [
      "kube-linter:no-readiness-probe",
      "polaris:readinessProbeMissing",
      "checkov:CKV_K8S_9",
      "platform:readinessProbe",
    ],
    (objs) =>
      perContainer(objs, (c) =>
        c.pod.obj.kind === "Job" || c.pod.obj.kind === "CronJob" || isObject(c.container.readinessProbe)
          ? false
          : `Container '${c.name}' has no readiness probe`,
      ),
  ),
  k8sRule(
    "identical-probes",
    "medium",
    "Liveness and readiness probes are identical",
    "A liveness probe that fails with readiness restarts pods under load; make liveness check only that the process is alive.",
    ["kube-score:Pod Probes Identical"],
    (objs) =>
      perContainer(objs, (c) => {
        const strip = (p: unknown): string =>
          isObject(p)
            ? JSON.stringify({
                ...p,
                initialDelaySeconds: 0,
                periodSeconds: 0,
                timeoutSeconds: 0,
                successThreshold: 0,
                failureThreshold: 0,
              })
            : "";
        const l = strip(c.container.livenessProbe);
        return l !== "" && l === strip(c.container.readinessProbe)
          ? {
              path: [...c.path, "livenessProbe"],
              message: `Container '${c.name}' uses the same probe for liveness and readiness`,
            }
          : false;
      }),
  ),
  k8sRule(
    "image-tag",
    "medium",
    "Image has no tag or uses latest",
    "Pin the image to a version tag (better: a digest).",
    [
      "kube-linter:latest-tag",
      "polaris:tagNotSpecified",
      "kube-score:Container Image Tag",
      "checkov:CKV_K8S_14",
      "platform:latestTag",
    ],
    (objs) =>
      perContainer(
        objs,
        (c) => {
          const image = typeof c.container.image === "string" ? c.container.image : "";
          const { tag, digest } = imageTag(image);
          if (digest || (tag !== undefined && tag !== "latest")) return false;
          return {
            path: [...c.path, "image"],
            message: `Container '${c.name}' image '${image}' ${tag === "latest" ? "uses latest" : "has no tag"}`,
          };
        },
        true,
      ),
  ),
  k8sRule(
    "image-pull-policy",
    "low",
    "imagePullPolicy is not Always",
    "With a mutable tag, `IfNotPresent` keeps running whatever image a node cached; set `imagePullPolicy: Always` or pin by digest.",
    ["polaris:pullPolicyNotAlways", "kube-score:Container Image Pull Policy", "checkov:CKV_K8S_15"],
    (objs) =>
      perContainer(objs, (c) => {
        const policy = c.container.imagePullPolicy;
        if (policy === "Always") return false;
        const { tag, digest } = imageTag(str(c.container.image));
        if (policy === undefined && (digest || tag === "latest")) return false;
        return `Container '${c.name}' has imagePullPolicy ${policy === undefined ? "unset" : str(policy)}`;
      }),
  ),
  k8sRule(
    "duplicate-env-var",
    "medium",
    "Environment variable defined twice",
    "Remove the duplicate: only the last definition takes effect.",
    ["kube-linter:duplicate-env-var", "kube-score:Environment Variable Key Duplication"],
    (objs) =>
      perContainer(
        objs,
        (c) => {
          const env = Array.isArray(c.container.env) ? c.container.env : [];
          const seen = new Set<string>();
          for (const [i, e] of env.entries()) {
            const n = String(get(e, "name"));
            if (seen.has(n))
              return { path: [...c.path, "env", i], message: `Container '${c.name}' defines ${n} twice` };
            seen.add(n);
          }
          return false;
        },
        true,
      ),
  ),
  k8sRule(
    "secret-in-env",
    "high",
    "Secret in a plain environment variable",
    "Reference a Secret with `valueFrom.secretKeyRef` instead of writing the value in the manifest.",
    ["kube-linter:env-var-secret", "polaris:sensitiveContainerEnvVar", "checkov:CKV_K8S_35"],
    (objs) =>
      perContainer(
        objs,
        (c) => {
          const env = Array.isArray(c.container.env) ? c.container.env : [];
          const i = env.findIndex((e) => {
            const value = get(e, "value");
            if (typeof value !== "string" || value === "") return false;
            return (
              SECRET_ENV.test(String(get(e, "name"))) ||
              /PRIVATE KEY/.test(value) ||
              detectSecrets(value, secretRules()).length > 0
            );
          });
          return i >= 0
            ? {
                path: [...c.path, "env", i],
                message: `Container '${c.name}' sets ${String(get(env[i], "name"))} in plain text`,
              }
            : false;
        },
        true,
      ),
  ),
  k8sRule(
    "sensitive-configmap",
    "high",
    "Secret-looking key in a ConfigMap",
    "Move credentials to a Secret (and an external secret store).",
    ["polaris:sensitiveConfigmapContent"],
    (objs) =>
      objs
        .filter((o) => o.kind === "ConfigMap" && isObject(o.raw.data))
        .flatMap((o) => {
          const data = o.raw.data as Record<string, unknown>;
          const key = Object.keys(data).find(
            (k) =>
              SECRET_ENV.test(k) ||
              /(?:^|[_.-])key$/i.test(k) ||
              detectSecrets(String(data[k]), secretRules()).length > 0,
          );
          return key ? [{ obj: o, path: ["data", key], message: `ConfigMap/${o.name} has key ${key}` }] : [];
        }),
  ),
  k8sRule(
    "naked-pod",
    "medium",
    "Bare Pod without a controller",
    "Run pods through a Deployment, StatefulSet, DaemonSet or Job so they are rescheduled.",
    ["polaris:nakedPod"],
    (objs) =>
      objs
        .filter((o) => o.kind === "Pod" && !Array.isArray(get(o.raw, "metadata", "ownerReferences")))
        .map((o) => ({ obj: o, path: ["kind"], message: `Pod/${o.name} has no controller` })),
  ),
  k8sRule(
    "deprecated-api-version",
    "high",
    "Deprecated or removed apiVersion",
    "Move to the stable API version.",
    ["kube-linter:no-extensions-v1beta", "kube-score:Stable version"],
    (objs) =>
      objs
        .filter((o) => DEPRECATED_APIS[o.apiVersion] !== undefined)
        .map((o) => ({
          obj: o,
          path: ["apiVersion"],
          message: `${label(o)} uses ${o.apiVersion}; use ${DEPRECATED_APIS[o.apiVersion] ?? ""}`,
        })),
  ),
  k8sRule(
    "selector-mismatch",
    "high",
    "Selector does not match the pod template labels",
    "Make `spec.selector` match `spec.template.metadata.labels`, or the controller never owns its pods.",
    [
      "kube-linter:mismatching-selector",
      "kube-score:StatefulSet Pod Selector labels match template metadata labels",
    ],
    (objs) =>
      objs
        .filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].includes(o.kind))
        .flatMap((o) => {
          const pod = podOf(o);
          const sel = get(o.raw, "spec", "selector");
          return pod && isObject(sel) && !matchesLabelSelector(sel, pod.labels)
            ? [
                {
                  obj: o,
                  path: ["spec", "selector"],
                  message: `${label(o)} selector does not match its template labels`,
                },
              ]
            : [];
        }),
  ),
  k8sRule(
    "cronjob-deadline",
    "low",
    "CronJob has no startingDeadlineSeconds",
    "Set `startingDeadlineSeconds` so missed runs do not pile up after an outage.",
    ["kube-score:CronJob has deadline"],
    (objs) =>
      objs
        .filter((o) => o.kind === "CronJob" && get(o.raw, "spec", "startingDeadlineSeconds") === undefined)
        .map((o) => ({ obj: o, path: ["spec"], message: `${label(o)} has no startingDeadlineSeconds` })),
  ),
  k8sRule(
    "job-restart-policy",
    "medium",
    "Job pods must use restartPolicy OnFailure or Never",
    "Set `restartPolicy: OnFailure` (or `Never`) in the job's pod template.",
    ["kube-score:CronJob RestartPolicy"],
    (objs) =>
      perPod(objs, (p) =>
        (p.obj.kind === "Job" || p.obj.kind === "CronJob") &&
        p.spec.restartPolicy !== "OnFailure" &&
        p.spec.restartPolicy !== "Never"
          ? {
              path: [...p.path, "restartPolicy"],
              message: `${label(p.obj)} restartPolicy is ${str(p.spec.restartPolicy) || "unset"}`,
            }
          : false,
      ),
  ),
  k8sRule(
    "job-ttl",
    "low",
    "Job has no ttlSecondsAfterFinished",
    "Set `ttlSecondsAfterFinished` so finished jobs and their pods are cleaned up.",
    ["kube-linter:job-ttl-seconds-after-finished"],
    (objs) =>
      objs
        .filter(
          (o) =>
            o.kind === "Job" &&
            get(o.raw, "spec", "ttlSecondsAfterFinished") === undefined &&
            !get(o.raw, "metadata", "ownerReferences"),
        )
        .map((o) => ({ obj: o, path: ["spec"], message: `${label(o)} has no ttlSecondsAfterFinished` })),
  ),
];
