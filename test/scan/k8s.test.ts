import { describe, expect, it } from "vitest";
import { checkManifests } from "../../src/scan/k8s/check.js";

const deployment = (extra = "", replicas = 1) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.2.3
${extra}`;

async function ids(...docs: string[]): Promise<string[]> {
  return (await checkManifests([{ file: "all.yaml", text: docs.join("\n---\n") }])).map((f) => f.ruleId);
}

describe("Kubernetes checks", () => {
  it("reads multi-document files and points at the offending field", async () => {
    const findings = await checkManifests([
      { file: "m.yaml", text: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n${deployment()}` },
    ]);
    const tag = findings.find((f) => f.ruleId === "k8s/run-as-non-root");
    expect(tag).toMatchObject({ file: "m.yaml", line: 18 });
    expect(findings.map((f) => f.ruleId)).toEqual(
      expect.arrayContaining([
        "k8s/read-only-root-fs",
        "k8s/liveness-probe",
        "k8s/readiness-probe",
        "k8s/memory-limits",
        "k8s/privilege-escalation",
      ]),
    );
  });

  it("a hardened Deployment passes the security checks", async () => {
    const hardened = deployment(`          imagePullPolicy: Always
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
      automountServiceAccountToken: false
`);
    expect(await ids(hardened)).toEqual([]);
  });

  it("validates built-in kinds against the schema", async () => {
    const bad = deployment().replace("replicas: 1", 'replicas: "three"');
    const findings = await checkManifests([{ file: "bad.yaml", text: bad }]);
    const schema = findings.find((f) => f.ruleId === "k8s/schema");
    expect(schema?.message).toContain("/spec/replicas must be integer");
    expect(schema?.line).toBe(6);
  });

  it("catches the Deployment-vs-StatefulSet mistake: replicas > 1 sharing a ReadWriteOnce claim", async () => {
    const pvc =
      "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n";
    const vol = "      volumes:\n        - name: data\n          persistentVolumeClaim: {claimName: data}\n";
    expect(await ids(deployment(vol, 3), pvc)).toContain("k8s/replicated-rwo-claim");
    expect(await ids(deployment(vol, 1), pvc)).not.toContain("k8s/replicated-rwo-claim");
  });

  it("checks Services, Ingresses, NodePorts and StatefulSet service names across objects", async () => {
    const svc = (sel: string, extra = "") =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: ${sel}}\n  ports: [{port: 80${extra}}]\n`;
    expect(await ids(deployment(), svc("web"))).not.toContain("k8s/service-selects-nothing");
    expect(await ids(deployment(), svc("api"))).toContain("k8s/service-selects-nothing");
    expect(await ids(svc("web", ", nodePort: 30080"))).toContain("k8s/nodeport-range");
    expect(
      await ids(svc("web", ", nodePort: 30080").replace("spec:\n", "spec:\n  type: NodePort\n")),
    ).not.toContain("k8s/nodeport-range");
    expect(
      await ids(svc("web", ", nodePort: 8080").replace("spec:\n", "spec:\n  type: NodePort\n")),
    ).toContain("k8s/nodeport-range");
    const ing = (name: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n    - http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend: {service: {name: ${name}, port: {number: 80}}}\n`;
    expect(await ids(ing("web"), svc("web"))).not.toContain("k8s/ingress-missing-service");
    expect(await ids(ing("nope"), svc("web"))).toContain("k8s/ingress-missing-service");
    const sts = deployment()
      .replace("kind: Deployment", "kind: StatefulSet")
      .replace("spec:\n  replicas", "spec:\n  serviceName: web\n  replicas");
    expect(await ids(sts, svc("web"))).toContain("k8s/statefulset-headless-service");
    expect(await ids(sts, svc("web").replace("spec:\n", "spec:\n  clusterIP: None\n"))).not.toContain(
      "k8s/statefulset-headless-service",
    );
  });

  it("flags privileged pods, host namespaces and the docker socket", async () => {
    const text = deployment(`          securityContext: {privileged: true}
          volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]
      hostNetwork: true
      hostPID: true
      volumes:
        - name: sock
          hostPath: {path: /var/run/docker.sock}
`);
    expect(await ids(text)).toEqual(
      expect.arrayContaining([
        "k8s/privileged",
        "k8s/host-network",
        "k8s/host-pid",
        "k8s/host-path",
        "k8s/sensitive-host-mount",
        "k8s/writable-host-mount",
      ]),
    );
  });
});
