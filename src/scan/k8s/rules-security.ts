import { get, isObject, str } from "./load.js";
import { k8sRule, label, perContainer, perPod, type K8sRule } from "./rule.js";
import type { ContainerRef } from "./pods.js";

const sc = (c: ContainerRef, key: string): unknown => get(c.container, "securityContext", key);
const podSc = (c: ContainerRef, key: string): unknown => get(c.pod.spec, "securityContext", key);
const caps = (c: ContainerRef, key: "add" | "drop"): string[] => {
  const v = get(c.container, "securityContext", "capabilities", key);
  return Array.isArray(v) ? v.map((x) => String(x).toUpperCase().replace(/^CAP_/, "")) : [];
};
const scPath = (c: ContainerRef, ...rest: string[]): (string | number)[] => [
  ...c.path,
  "securityContext",
  ...rest,
];

const DANGEROUS_CAPS = [
  "ALL",
  "SYS_ADMIN",
  "NET_ADMIN",
  "SYS_MODULE",
  "SYS_PTRACE",
  "SYS_RAWIO",
  "BPF",
  "PERFMON",
];
const DEFAULT_CAPS = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
];
const SENSITIVE_HOST_PATHS =
  /^\/(?:$|etc(?:\/|$)|proc|sys|root|boot|dev|var\/run\/docker\.sock|run\/docker\.sock|var\/run\/crio|run\/containerd|var\/run\/containerd|var\/lib\/kubelet|var\/lib\/docker|usr)/;

/** Container and pod security settings. */
export const SECURITY_RULES: K8sRule[] = [
  k8sRule(
    "run-as-non-root",
    "high",
    "Container may run as root",
    "Set `securityContext.runAsNonRoot: true` (pod or container) and a non-zero `runAsUser`.",
    [
      "kube-linter:run-as-non-root",
      "polaris:runAsRootAllowed",
      "checkov:CKV_K8S_23",
      "platform:runAsNonRoot",
    ],
    (objs) =>
      perContainer(objs, (c) => {
        const user = sc(c, "runAsUser") ?? podSc(c, "runAsUser");
        if (user === 0)
          return { path: scPath(c, "runAsUser"), message: `Container '${c.name}' runs as UID 0` };
        const nonRoot = sc(c, "runAsNonRoot") ?? podSc(c, "runAsNonRoot");
        if (nonRoot === true || (typeof user === "number" && user > 0)) return false;
        return `Container '${c.name}' does not set runAsNonRoot: true`;
      }),
  ),
  k8sRule(
    "read-only-root-fs",
    "medium",
    "Root file system is writable",
    "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` where the program must write.",
    [
      "kube-linter:no-read-only-root-fs",
      "polaris:notReadOnlyRootFilesystem",
      "kube-score:Container Security Context ReadOnlyRootFilesystem",
      "checkov:CKV_K8S_22",
      "platform:readOnlyRootFilesystem",
    ],
    (objs) =>
      perContainer(objs, (c) =>
        sc(c, "readOnlyRootFilesystem") === true
          ? false
          : `Container '${c.name}' has a writable root file system`,
      ),
  ),
  k8sRule(
    "privileged",
    "critical",
    "Privileged container",
    "Remove `privileged: true`; grant only the capabilities needed.",
    [
      "kube-linter:privileged-container",
      "polaris:runAsPrivileged",
      "kube-score:Container Security Context Privileged",
      "checkov:CKV_K8S_16",
      "platform:privileged",
    ],
    (objs) =>
      perContainer(
        objs,
        (c) =>
          sc(c, "privileged") === true
            ? { path: scPath(c, "privileged"), message: `Container '${c.name}' is privileged` }
            : false,
        true,
      ),
  ),
  k8sRule(
    "privilege-escalation",
    "high",
    "Privilege escalation is allowed",
    "Set `securityContext.allowPrivilegeEscalation: false`.",
    [
      "kube-linter:privilege-escalation-container",
      "polaris:privilegeEscalationAllowed",
      "checkov:CKV_K8S_20",
    ],
    (objs) =>
      perContainer(
        objs,
        (c) =>
          sc(c, "allowPrivilegeEscalation") === false
            ? false
            : `Container '${c.name}' does not set allowPrivilegeEscalation: false`,
        true,
      ),
  ),
  k8sRule(
    "dangerous-capabilities",
    "high",
    "Dangerous Linux capability added",
    "Do not add ALL, SYS_ADMIN, NET_ADMIN or similar; find a narrower capability.",
    ["polaris:dangerousCapabilities", "checkov:CKV_K8S_39"],
    (objs) =>
      perContainer(
        objs,
        (c) => {
          const bad = caps(c, "add").filter((x) => DANGEROUS_CAPS.includes(x));
          return bad.length > 0
            ? {
                path: scPath(c, "capabilities", "add"),
                message: `Container '${c.name}' adds ${bad.join(", ")}`,
              }
            : false;
        },
        true,
      ),
  ),
  k8sRule(
    "drop-capabilities",
    "medium",
    "Default capabilities are not dropped",
    "Add `securityContext.capabilities.drop: [ALL]` and add back only what is needed.",
    [
      "polaris:insecureCapabilities",
      "kube-linter:drop-net-raw-capability",
      "checkov:CKV_K8S_28",
      "checkov:CKV_K8S_37",
    ],
    (objs) =>
      perContainer(objs, (c) => {
        const drop = caps(c, "drop");
        const added = caps(c, "add").filter((x) => DEFAULT_CAPS.includes(x));
        if (added.length > 0)
          return {
            path: scPath(c, "capabilities", "add"),
            message: `Container '${c.name}' adds ${added.join(", ")}`,
          };
        if (drop.includes("ALL") || DEFAULT_CAPS.every((x) => drop.includes(x))) return false;
        return `Container '${c.name}' keeps the default capabilities (drop ALL)`;
      }),
  ),
  ...(["hostNetwork", "hostPID", "hostIPC"] as const).map((field) =>
    k8sRule(
      field.replace(/^host/, "host-").toLowerCase(),
      "high",
      `Pod shares the host's ${field.slice(4) === "Network" ? "network" : field.slice(4)} namespace`,
      `Remove \`${field}: true\`.`,
      {
        hostNetwork: [
          "kube-linter:host-network",
          "polaris:hostNetworkSet",
          "checkov:CKV_K8S_19",
          "platform:hostNetwork",
        ],
        hostPID: ["kube-linter:host-pid", "polaris:hostPIDSet", "checkov:CKV_K8S_17"],
        hostIPC: ["kube-linter:host-ipc", "polaris:hostIPCSet", "checkov:CKV_K8S_18"],
      }[field],
      (objs) =>
        perPod(objs, (p) =>
          p.spec[field] === true
            ? { path: [...p.path, field], message: `${label(p.obj)} sets ${field}: true` }
            : false,
        ),
    ),
  ),
  k8sRule(
    "host-path",
    "medium",
    "hostPath volume",
    "Use a PersistentVolumeClaim, ConfigMap, Secret or emptyDir instead of the node's file system.",
    ["polaris:hostPathSet", "checkov:CKV_K8S_27"],
    (objs) =>
      perPod(objs, (p) => {
        const vols = Array.isArray(p.spec.volumes) ? p.spec.volumes : [];
        const i = vols.findIndex((v) => isObject(v) && isObject(v.hostPath));
        return i >= 0
          ? {
              path: [...p.path, "volumes", i, "hostPath"],
              message: `${label(p.obj)} mounts a hostPath volume`,
            }
          : false;
      }),
  ),
  k8sRule(
    "sensitive-host-mount",
    "critical",
    "Sensitive host path mounted (docker.sock, /etc, /proc, …)",
    "Never mount the container runtime socket or system folders: they give root on the node.",
    ["kube-linter:sensitive-host-mounts", "checkov:CKV_K8S_27"],
    (objs) =>
      perPod(objs, (p) => {
        const vols = Array.isArray(p.spec.volumes) ? p.spec.volumes : [];
        const i = vols.findIndex((v) => SENSITIVE_HOST_PATHS.test(str(get(v, "hostPath", "path")) || "-"));
        return i >= 0
          ? {
              path: [...p.path, "volumes", i, "hostPath", "path"],
              message: `${label(p.obj)} mounts ${String(get(vols[i], "hostPath", "path"))}`,
            }
          : false;
      }),
  ),
  k8sRule(
    "writable-host-mount",
    "high",
    "hostPath mounted read-write",
    "Mount it with `readOnly: true`, or avoid hostPath.",
    ["kube-linter:writable-host-mount"],
    (objs) =>
      perContainer(objs, (c) => {
        const vols = Array.isArray(c.pod.spec.volumes) ? c.pod.spec.volumes : [];
        const hostVols = new Set(
          vols.filter((v) => isObject(v) && isObject(v.hostPath)).map((v) => String(get(v, "name"))),
        );
        const mounts = Array.isArray(c.container.volumeMounts) ? c.container.volumeMounts : [];
        const i = mounts.findIndex(
          (m) => hostVols.has(String(get(m, "name"))) && get(m, "readOnly") !== true,
        );
        return i >= 0
          ? {
              path: [...c.path, "volumeMounts", i],
              message: `Container '${c.name}' mounts hostPath '${String(get(mounts[i], "name"))}' read-write`,
            }
          : false;
      }),
  ),
  k8sRule(
    "host-port",
    "medium",
    "Container binds a host port",
    "Expose the port with a Service instead of `hostPort`.",
    ["polaris:hostPortSet", "checkov:CKV_K8S_26"],
    (objs) =>
      perContainer(objs, (c) => {
        const ports = Array.isArray(c.container.ports) ? c.container.ports : [];
        const i = ports.findIndex((p) => get(p, "hostPort") !== undefined && get(p, "hostPort") !== 0);
        return i >= 0
          ? {
              path: [...c.path, "ports", i, "hostPort"],
              message: `Container '${c.name}' uses hostPort ${String(get(ports[i], "hostPort"))}`,
            }
          : false;
      }),
  ),
  k8sRule(
    "ssh-port",
    "medium",
    "Container exposes port 22",
    "Do not run SSH in a container; use `kubectl exec`.",
    ["kube-linter:ssh-port"],
    (objs) =>
      perContainer(objs, (c) => {
        const ports = Array.isArray(c.container.ports) ? c.container.ports : [];
        const i = ports.findIndex((p) => get(p, "containerPort") === 22);
        return i >= 0
          ? { path: [...c.path, "ports", i], message: `Container '${c.name}' exposes port 22` }
          : false;
      }),
  ),
  k8sRule(
    "automount-service-account-token",
    "low",
    "Service account token mounted automatically",
    "Set `automountServiceAccountToken: false` on the pod (or its ServiceAccount) unless it calls the Kubernetes API.",
    ["polaris:automountServiceAccountToken", "checkov:CKV_K8S_38"],
    (objs) =>
      perPod(objs, (p) => {
        if (p.spec.automountServiceAccountToken === false) return false;
        const saName = typeof p.spec.serviceAccountName === "string" ? p.spec.serviceAccountName : "default";
        const sa = objs.find(
          (o) => o.kind === "ServiceAccount" && o.name === saName && o.namespace === p.obj.namespace,
        );
        if (sa && sa.raw.automountServiceAccountToken === false) return false;
        return `${label(p.obj)} mounts the service account token`;
      }),
  ),
  k8sRule(
    "default-service-account",
    "low",
    "Pod uses the default service account",
    "Create a dedicated ServiceAccount with only the permissions the pod needs.",
    ["kube-linter:default-service-account", "checkov:CKV_K8S_41"],
    (objs) =>
      perPod(objs, (p) =>
        p.spec.serviceAccountName === "default" || p.spec.serviceAccount === "default"
          ? {
              path: [...p.path, "serviceAccountName"],
              message: `${label(p.obj)} uses the default service account`,
            }
          : false,
      ),
  ),
  k8sRule(
    "deprecated-service-account-field",
    "low",
    "serviceAccount is deprecated",
    "Use `serviceAccountName`.",
    ["kube-linter:deprecated-service-account-field"],
    (objs) =>
      perPod(objs, (p) =>
        typeof p.spec.serviceAccount === "string" && p.spec.serviceAccount !== ""
          ? {
              path: [...p.path, "serviceAccount"],
              message: `${label(p.obj)} uses the deprecated serviceAccount field`,
            }
          : false,
      ),
  ),
  k8sRule(
    "unsafe-sysctls",
    "high",
    "Unsafe sysctl set",
    "Only the namespaced safe sysctls are allowed by default; remove the others.",
    ["kube-linter:unsafe-sysctls"],
    (objs) =>
      perPod(objs, (p) => {
        const s = get(p.spec, "securityContext", "sysctls");
        const list = Array.isArray(s) ? s : [];
        const i = list.findIndex(
          (x) =>
            /^(?:kernel\.(?:msg|sem|shm)|fs\.mqueue\.|net\.)/.test(String(get(x, "name"))) &&
            !/^net\.ipv4\.(?:ip_local_port_range|tcp_syncookies|ping_group_range|ip_unprivileged_port_start|ip_local_reserved_ports|tcp_keepalive_time|tcp_fin_timeout|tcp_keepalive_intvl|tcp_keepalive_probes)$|^kernel\.shm_rmid_forced$/.test(
              String(get(x, "name")),
            ),
        );
        return i >= 0
          ? {
              path: [...p.path, "securityContext", "sysctls", i],
              message: `${label(p.obj)} sets unsafe sysctl ${String(get(list[i], "name"))}`,
            }
          : false;
      }),
  ),
];
