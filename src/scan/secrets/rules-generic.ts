import { assigned, prefixed, type SecretRule } from "./rule.js";

const SECRET_KEYS = String.raw`secret|token|creds|passw(?:or)?d|passwd|pwd|passphrase|api[_.\-]?key|access[_.\-]?key|auth[_.\-]?key|credential|private[_.\-]?key|client[_.\-]?secret`;

/** Key names that contain a secret word but hold no secret. */
const HARMLESS_KEY =
  /(?:^|[_.-])?(?:id|ids|name|names|file|filename|path|dir|url|uri|endpoint|type|length|len|size|count|hash|format|field|prefix|suffix|header|enabled|required|policy|pattern|regex|expiry|expires|ttl|timeout|version|store|storage|provider|manager|vault|ref|key_?vault|selector|label)$|keyvault|csrf|xsrf|public|pubkey|nonce|bucket|keyframe|keystore|keytab|keymesh|keyword|keypress|keychars|keystr|tokenizer|page_?token|next_?token|sequencekey|sortkey|primarykey|foreignkey/i;

/** Values that are references, not literals: `${X}`, `$X`, `{{ x }}`, `os.getenv(...)`, `var.x`. */
const REFERENCE =
  /^(?:\$|%|\{\{|<|env\.|var\.|process\.env|os\.|ENV\[|secrets\.|vars\.|self\.|this\.|config\.|settings\.|props\.|args\.|params\.|request\.)/i;

const DOTTED_IDENT = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+[!?]?$/;

/** Generic and structural rules: private keys, URLs with passwords, JWTs, assignments. */
export const GENERIC_RULES: SecretRule[] = [
  {
    id: "private-key",
    provider: "PEM/OpenSSH",
    title: "Private key",
    severity: "critical",
    keywords: ["private key"],
    multiline: true,
    pattern:
      /(?<s>-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{40,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)/g,
    equivalents: ["gitleaks:private-key", "secretlint:privatekey"],
    reject: (s) => {
      const body = s.replace(/^-----BEGIN[^\n]*?-----|-----END[\s\S]*$/g, "");
      return /x{10,}|\.\.\.|<|\{\{|\$\{/i.test(body) || body.replace(/\\n|\\r|\s|"|'|\+/g, "").length < 40;
    },
  },
  {
    id: "private-key-escaped",
    provider: "PEM/OpenSSH",
    title: "Private key (escaped in a string)",
    severity: "critical",
    keywords: ["private key"],
    pattern:
      /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY-----(?<s>(?:\\n|[A-Za-z0-9+/=]){64,}?)(?:\\n)?-----END/g,
    equivalents: ["gitleaks:private-key", "secretlint:gcp"],
  },
  {
    id: "jwt",
    provider: "JWT",
    title: "JSON Web Token",
    severity: "medium",
    keywords: ["eyj"],
    pattern: prefixed(
      String.raw`ey[JI][A-Za-z0-9_\-]{15,}\.ey[A-Za-z0-9_\-/\\+]{15,}\.(?:[A-Za-z0-9_\-/\\+]{10,}={0,2})?`,
    ),
    minEntropy: 3,
    equivalents: ["gitleaks:jwt"],
  },
  {
    id: "jwt-base64",
    provider: "JWT",
    title: "Base64-encoded JSON Web Token",
    severity: "medium",
    keywords: ["zxlk"],
    pattern: prefixed(String.raw`ZXlK[A-Za-z0-9+/_\-]{60,}={0,2}`),
    reject: (s) => !/\.ey[IJ]/.test(Buffer.from(s, "base64").toString("latin1")),
    minEntropy: 3,
    equivalents: ["gitleaks:jwt-base64"],
  },
  {
    id: "url-credentials",
    provider: "URL",
    title: "Password in a URL (database, broker, git or HTTP)",
    severity: "high",
    keywords: ["://"],
    pattern:
      /(?<![\w+.-])[a-z][a-z0-9+.-]{1,30}:\/\/(?<u>[^\s:@/'"`<>]{1,128}):(?<s>[^\s@/'"`<>]{3,256})@(?:[\w-]+\.)*[\w-]+/gi,
    minEntropy: 1.5,
    equivalents: [
      "secretlint:basicauth",
      "secretlint:database-connection-string",
      "gitleaks:sidekiq-sensitive-url",
    ],
    reject: (s, _line, g) =>
      s === g?.u ||
      /^(?:\*+|x+|\.+|password|passwd|pwd|secret|changeme|token|\[?password\]?|<[^>]*>|\$\{?\w*\}?|\{\{.*|%\w+%?|\{[^}]*\})$/i.test(
        s,
      ) ||
      /^\$|\{\{|\$\{|^\[|^<|^:|^\(/.test(s),
  },
  {
    id: "curl-auth-user",
    provider: "curl",
    title: "Credentials passed to curl -u",
    severity: "high",
    keywords: ["curl"],
    multiline: true,
    pattern:
      /\bcurl\b(?:[^\n]|\\\r?\n)*?\s(?:-u|--user)\s*['"]?(?<u>[^\s:'"$]{1,100}):['"]?(?<s>[^\s'"$][^\s'"]{2,100})['"]?(?=\s|$)/g,
    minEntropy: 2.5,
    equivalents: ["gitleaks:curl-auth-user"],
    reject: (s) => /^(?:\[?pass(?:word)?\]?|token|secret|changeme|x+|\*+)$/i.test(s) || /[{}<>[\]]/.test(s),
  },
  {
    id: "curl-auth-header",
    provider: "curl",
    title: "Credential in a curl Authorization header",
    severity: "high",
    keywords: ["curl"],
    multiline: true,
    pattern:
      /\bcurl\b[\s\S]{0,600}?(?:-H|--header)\s*['"](?:Authorization|X-API-Key|apikey|api-key|X-Auth-Token):\s*(?:(?:Bearer|Token|Basic)\s+)?(?<s>[\w\-.=+/~]{16,})['"]/gi,
    minEntropy: 3,
    equivalents: ["gitleaks:curl-auth-header"],
    reject: (s) => /^ey[\w-]+\.ey[\w-]+\.[\w-]+$/.test(s) && s.length < 130,
  },
  {
    id: "kubernetes-secret-yaml",
    provider: "Kubernetes",
    title: "Kubernetes Secret with inline data",
    severity: "medium",
    keywords: ["kind: secret", "kind: 'secret'", 'kind: "secret"', "kind:secret"],
    multiline: true,
    document: true,
    pattern:
      /(?:^|\n)[ \t]*(?:data|stringData):[ \t]*\r?\n[ \t]+['"]?[\w.-]+['"]?:[ \t]*(?:[|>][-+]?[ \t]*\r?\n[ \t]+)?(?<s>[^\s'"{][^\s]{2,}|'[^'\s{]{3,}'|"[^"\s{]{3,}")/g,
    equivalents: ["gitleaks:kubernetes-secret-yaml", "secretlint:no-k8s-kind-secret"],
  },
  {
    id: "sidekiq-secret",
    provider: "Sidekiq",
    title: "Sidekiq Enterprise credentials",
    severity: "high",
    keywords: ["contribsys__com"],
    pattern: assigned("BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM", "[a-f0-9]{8}:[a-f0-9]{8}"),
    minEntropy: 0,
    equivalents: ["gitleaks:sidekiq-secret"],
  },
  {
    id: "nuget-config-password",
    provider: "NuGet",
    title: "Clear-text password in NuGet.config",
    severity: "high",
    keywords: ["cleartextpassword"],
    pattern: /<add key="ClearTextPassword"\s+value="(?<s>[^"]{8,})"/gi,
    minEntropy: 2.5,
    equivalents: ["gitleaks:nuget-config-password"],
  },
  {
    id: "generic-password",
    provider: "Generic",
    title: "Hard-coded password",
    severity: "high",
    keywords: ["passw", "pwd"],
    pattern: assigned(
      String.raw`passw(?:or)?d|passwd|pwd|passphrase`,
      String.raw`[^\s'"\x60;,<>(){}\[\]]{6,128}`,
      { strict: true },
    ),
    minEntropy: 2,
    equivalents: ["gitleaks:generic-api-key", "secretlint:pattern", "gitleaks:hashicorp-tf-password"],
  },
  {
    id: "generic-api-key",
    provider: "Generic",
    title: "Hard-coded secret or API key (high-entropy value assigned to a secret-looking name)",
    severity: "medium",
    keywords: [
      "secret",
      "token",
      "api_key",
      "apikey",
      "api-key",
      "access_key",
      "accesskey",
      "auth",
      "credential",
      "private_key",
      "key",
    ],
    pattern: new RegExp(
      String.raw`(?<k>(?:${SECRET_KEYS}|key)[\w.\-]{0,20}?)(?:[ \t]+(?:string|String|str))?[ \t'"\x60\])]{0,4}(?:=|:|=>|\?=|\.=|:{1,3}=)[ \t'"\x60=]{0,6}(?<s>[\w\-+/=.~!@#%^&*]{10,256})(?=[\s'"\x60;,)<>\]\\}|&]|$)`,
      "gi",
    ),
    minEntropy: 3.3,
    equivalents: ["gitleaks:generic-api-key", "secretlint:pattern"],
  },
];

/** Shared post-filters for the two generic assignment rules (name and value heuristics). */
export function rejectGeneric(ruleId: string, key: string | undefined, secret: string): boolean {
  if (REFERENCE.test(secret) || DOTTED_IDENT.test(secret)) return true;
  if (/^[\w.-]+=$/.test(secret) || (key !== undefined && secret.toLowerCase() === key.toLowerCase()))
    return true;
  if (
    /^(?:true|false|null|none|nil|undefined|required|optional|string|number|changeme|password|secret|redacted|hidden)$/i.test(
      secret,
    )
  )
    return true;
  // Paths and URLs are locations, not credentials (URLs with passwords have their own rule).
  if (/^\/[\w\-./:]*$/.test(secret) || /^[a-z][a-z0-9+.-]*:\/\//i.test(secret)) return true;
  if (ruleId === "generic-api-key") {
    // Lower-case kebab/snake identifiers (`no-k8s-kind-secret`, `max_retry_count`) are names.
    if (/^[a-z][a-z0-9]{0,11}(?:[-_][a-z0-9]{1,12}){2,}$/.test(secret)) return true;
    if (/=[^=]/.test(secret)) return true;
    if (key !== undefined && HARMLESS_KEY.test(key.replace(/["'\s]/g, ""))) return true;
    if (!/\d/.test(secret) && !/[A-Z].*[a-z]|[a-z].*[A-Z]/.test(secret)) return true;
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(secret)) return true;
    if (/^[a-z]+(?:[A-Z][a-z]+)+\d*$/.test(secret) || /^[A-Z][a-z]+(?:[A-Z][a-z]+)+\d*$/.test(secret))
      return true;
    if (/^[\w.-]+\.(?:pem|p12|pfx|key|crt|cer|json|ya?ml|txt|keytab|jks)$/i.test(secret)) return true;
    if (/^\d+(?:\.\d+)*$/.test(secret) || /\d+\.\d+(?:\.\d+)?$/.test(secret)) return true;
    if (/^[A-Za-z][a-z]+(?:_[A-Za-z][A-Za-z0-9]*)+$/.test(secret)) return true;
    if (/abcdefghij|1234567890|0123456789/i.test(secret)) return true;
  }
  return false;
}
