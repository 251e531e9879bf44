/** `agent` → ExecutorSpec, with Jenkins' rules and messages. */
import { stringify } from "yaml";
import type { ExecutorSpec, ImageSpec } from "../plan.js";
import { entries, namedArgs, soleArg, substitute, type Entry } from "./blocks.js";
import { report, type Cx } from "./context.js";
import { evalValue, text } from "./values.js";

const AGENT_TYPES = ["any", "docker", "dockerfile", "kubernetes", "label", "node", "none"];

/** Compiles an `agent ...` entry; `known` substitutes matrix axis values into labels and images. */
export function compileAgent(
  e: Entry,
  cx: Cx,
  known: Readonly<Record<string, string>> = {},
): ExecutorSpec | undefined {
  const str = (n: Parameters<typeof evalValue>[0] | undefined): string =>
    n ? substitute(text(evalValue(n, cx)), known) : "";
  if (!e.closure) {
    const arg = soleArg(e);
    if (arg?.type === "ident" && (arg.name === "any" || arg.name === "none")) {
      return arg.name === "any" ? { kind: "shell", labels: [] } : { kind: "none", labels: [] };
    }
    report(cx, "error", "JK-agent", 'Only "agent none", "agent any" or "agent {...}" are allowed.', e.at);
    return undefined;
  }
  const types = entries(e.closure, cx, "agent");
  if (types.length === 0) {
    report(
      cx,
      "error",
      "JK-agent",
      `No agent type specified. Must be one of [${AGENT_TYPES.join(", ")}]`,
      e.at,
    );
    return undefined;
  }
  if (types.length > 1) {
    report(cx, "error", "JK-agent", "Only one agent type is allowed per agent section", types[1]!.at);
    return undefined;
  }
  const t = types[0]!;
  const opts = agentOptions(t, cx);
  const labels = (v: string): string[] => (v ? [v] : []);
  switch (t.name) {
    case "any":
      return { kind: "shell", labels: [] };
    case "none":
      return { kind: "none", labels: [] };
    case "label":
      return { kind: "shell", labels: labels(str(soleArg(t) ?? opts.label)) };
    case "node":
      return { kind: "shell", labels: labels(str(opts.label)) };
    case "docker": {
      const imageName = str(soleArg(t) ?? opts.image);
      if (!imageName) {
        report(cx, "error", "JK-missing-parameter", 'Missing required parameter: "image"', t.at);
        return undefined;
      }
      const image: ImageSpec = { name: imageName };
      if (opts.alwaysPull && evalValue(opts.alwaysPull, cx) === true) image.pullPolicy = ["always"];
      if (opts.registryUrl || opts.registryCredentialsId) {
        report(
          cx,
          "info",
          "JK-agent",
          "registryUrl/registryCredentialsId are recorded only: the image name is pulled as written",
          t.at,
          "include the registry host in the image name",
        );
      }
      return {
        kind: "docker",
        labels: labels(str(opts.label)),
        image,
        services: [],
        ...(opts.args ? { args: str(opts.args) } : {}),
        ...(opts.reuseNode ? { reuseNode: evalValue(opts.reuseNode, cx) === true } : {}),
      };
    }
    case "dockerfile": {
      const extra = str(opts.additionalBuildArgs);
      const { buildArgs, rest } = splitBuildArgs(extra);
      return {
        kind: "docker",
        labels: labels(str(opts.label)),
        services: [],
        build: {
          dockerfile: str(opts.filename) || "Dockerfile",
          context: str(opts.dir) || ".",
          buildArgs,
          ...(rest ? { additionalArgs: rest } : {}),
        },
        ...(opts.args ? { args: str(opts.args) } : {}),
        ...(opts.reuseNode ? { reuseNode: evalValue(opts.reuseNode, cx) === true } : {}),
      };
    }
    case "kubernetes": {
      let yaml = opts.yaml ? str(opts.yaml) : undefined;
      const template = entries(t.closure, cx, "kubernetes").find((x) => x.name === "containerTemplate");
      if (!yaml && template) yaml = podFromTemplate(template, cx);
      return {
        kind: "kubernetes",
        labels: labels(str(opts.label)),
        ...(yaml ? { yaml } : {}),
        ...(opts.yamlFile ? { yamlFile: str(opts.yamlFile) } : {}),
        ...(opts.defaultContainer ? { defaultContainer: str(opts.defaultContainer) } : {}),
        ...(opts.cloud ? { cloud: str(opts.cloud) } : {}),
        ...(opts.inheritFrom ? { inheritFrom: str(opts.inheritFrom) } : {}),
      };
    }
    default:
      report(
        cx,
        "error",
        "JK-agent",
        `Invalid agent type "${t.name}" specified. Must be one of [${AGENT_TYPES.join(", ")}]`,
        t.at,
      );
      return undefined;
  }
}

/** Options of an agent type, written either as `docker(image: 'x')` or as a block `docker { image 'x' }`. */
function agentOptions(t: Entry, cx: Cx): Record<string, NonNullable<ReturnType<typeof soleArg>>> {
  const out = namedArgs(t);
  delete out[""];
  for (const sub of entries(t.closure, cx, t.name)) {
    const v = soleArg(sub);
    if (v) out[sub.name] = v;
  }
  return out;
}

function splitBuildArgs(extra: string): { buildArgs: Record<string, string>; rest: string } {
  const buildArgs: Record<string, string> = {};
  const rest = extra.replace(
    /--build-arg(?:\s+|=)([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g,
    (_m, k: string, v: string) => {
      buildArgs[k] = v.replace(/^["']|["']$/g, "");
      return "";
    },
  );
  return { buildArgs, rest: rest.trim() };
}

function podFromTemplate(t: Entry, cx: Cx): string {
  const c: Record<string, string> = {};
  for (const sub of entries(t.closure, cx, "containerTemplate")) {
    const v = soleArg(sub);
    if (v) c[sub.name] = text(evalValue(v, cx));
  }
  for (const [k, v] of Object.entries(namedArgs(t))) if (k) c[k] = text(evalValue(v, cx));
  const container: Record<string, unknown> = { name: c.name ?? "main", image: c.image };
  if (c.command) container.command = c.command.split(/\s+/);
  if (c.args) container.args = c.args.split(/\s+/);
  if (c.ttyEnabled === "true") container.tty = true;
  return stringify({ apiVersion: "v1", kind: "Pod", spec: { containers: [container] } });
}
