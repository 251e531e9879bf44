import { SECRET_RULES } from "./secrets/rules.js";
import type { RuleMeta, ScannerKind } from "./types.js";

const SECRET_HELP =
  "Revoke the credential at the provider now (it is in the history), remove it from the code and load it from the environment or a secret store. If it is a test value, add `gantry:allow <reason>` on the same or the previous line.";

let secretMetas: RuleMeta[] | undefined;

/** The secret rules' metadata (cheap: no parser is loaded). */
export function secretRuleMetas(): RuleMeta[] {
  return (secretMetas ??= [
    ...SECRET_RULES.map((r) => ({
      id: `secrets/${r.id}`,
      scanner: "secrets" as const,
      severity: r.severity,
      title: r.title,
      help: r.help ? `${r.help} ${SECRET_HELP}` : SECRET_HELP,
      equivalents: r.equivalents,
    })),
    {
      id: "secrets/pkcs12-file",
      scanner: "secrets" as const,
      severity: "high" as const,
      title: "PKCS#12 key store (certificate with private key)",
      help: `Do not commit .p12/.pfx files. ${SECRET_HELP}`,
      equivalents: ["gitleaks:pkcs12-file"],
    },
  ]);
}

const meta = ({ id, scanner, severity, title, help, equivalents }: RuleMeta): RuleMeta => ({
  id,
  scanner,
  severity,
  title,
  help,
  equivalents,
});

/**
 * The rules of the given scanners, as `--list-rules`, the docs and SARIF show them. The
 * Dockerfile and Kubernetes modules (and their parsers) load only when asked for.
 */
export async function rulesFor(scanners: ReadonlySet<ScannerKind>): Promise<RuleMeta[]> {
  const out: RuleMeta[] = [];
  if (scanners.has("secrets")) out.push(...secretRuleMetas());
  if (scanners.has("dockerfile")) {
    const { DOCKER_RULES, DOCKERIGNORE_RULE } = await import("./dockerfile/rules.js");
    out.push(...DOCKER_RULES.map(meta), DOCKERIGNORE_RULE);
  }
  if (scanners.has("kubernetes")) {
    const { K8S_RULES } = await import("./k8s/rules.js");
    out.push(...K8S_RULES.map(meta));
  }
  return out;
}

/** Every rule of every scanner. */
export function allRules(): Promise<RuleMeta[]> {
  return rulesFor(new Set<ScannerKind>(["secrets", "dockerfile", "kubernetes"]));
}

/** Number of distinct secret providers covered (for docs). */
export function secretProviderCount(): number {
  return new Set(SECRET_RULES.map((r) => r.provider)).size;
}
