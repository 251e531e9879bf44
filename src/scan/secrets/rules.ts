import { GENERIC_RULES } from "./rules-generic.js";
import { KEYED_RULES } from "./rules-keyed.js";
import { TOKEN_RULES } from "./rules-tokens.js";
import type { SecretRule } from "./rule.js";

/** Every secret rule, most specific first: a specific rule wins over a generic one on the same text. */
export const SECRET_RULES: readonly SecretRule[] = [...TOKEN_RULES, ...KEYED_RULES, ...GENERIC_RULES];
