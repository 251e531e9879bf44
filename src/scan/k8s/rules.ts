import type { K8sRule } from "./rule.js";
import { CLUSTER_RULES } from "./rules-cluster.js";
import { SECURITY_RULES } from "./rules-security.js";
import { WORKLOAD_RULES } from "./rules-workload.js";
import { SCHEMA_RULE } from "./schema.js";

/** Every Kubernetes rule (the schema rule's check runs separately, asynchronously). */
export const K8S_RULES: readonly K8sRule[] = [
  SCHEMA_RULE,
  ...SECURITY_RULES,
  ...WORKLOAD_RULES,
  ...CLUSTER_RULES,
];
