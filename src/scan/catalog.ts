import { DOCKERIGNORE_RULE, DOCKER_RULES } from "./dockerfile/rules.js";
import { K8S_RULES } from "./k8s/rules.js";
import { SECRET_RULES } from "./secrets/rules.js";
import type { RuleMeta } from "./types.js";

const SECRET_HELP =
  "Revoke the credential at the provider now (it is in the history), remove it from the code and load it from the environment or a secret store. If it is a test value, add `gantry:allow <reason>` on the same or the previous line.";

let all: RuleMeta[] | undefined;

/** Every rule of every scanner, as `--list-rules`, the docs and SARIF show them. */
export function allRules(): RuleMeta[] {
  return (all ??= [
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
    ...DOCKER_RULES.map(({ id, scanner, severity, title, help, equivalents }) => ({
      id,
      scanner,
      severity,
      title,
      help,
      equivalents,
    })),
    DOCKERIGNORE_RULE,
    ...K8S_RULES.map(({ id, scanner, severity, title, help, equivalents }) => ({
      id,
      scanner,
      severity,
      title,
      help,
      equivalents,
    })),
  ]);
}

/** Looks a rule up by id. */
export function ruleById(id: string): RuleMeta | undefined {
  return allRules().find((r) => r.id === id);
}

/** Number of distinct secret providers covered (for docs). */
export function secretProviderCount(): number {
  return new Set(SECRET_RULES.map((r) => r.provider)).size;
}
