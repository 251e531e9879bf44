import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { parseShell, type ShellCommand } from "./shell.js";

/** One instruction, flattened: ONBUILD triggers appear as their inner instruction with `onbuild` set. */
export interface DInstr {
  keyword: string;
  /** Arguments without flags, line continuations joined. */
  args: string;
  /** `--name=value` flags (`--from`, `--mount`, `--platform`, `--chown`); repeated flags keep every value. */
  flags: { name: string; value: string }[];
  /** The JSON array form (`["a", "b"]`), when used. */
  json: string[] | undefined;
  /** 1-based. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  onbuild: boolean;
  stage: Stage;
  /** RUN only: the parsed shell commands (heredoc bodies included). */
  commands: ShellCommand[];
  /** The script text of a RUN (shell form or heredoc bodies). */
  script: string;
  /** Rule ids or hadolint codes named by `# hadolint ignore=` on the lines above. */
  ignored: Set<string>;
}

/** A build stage: one FROM and what follows it. */
export interface Stage {
  index: number;
  from: DInstr | undefined;
  image: string;
  tag: string | undefined;
  digest: string | undefined;
  alias: string | undefined;
  platform: string | undefined;
  /** The earlier stage this one builds on (`FROM <alias>`), if any. */
  parent: Stage | undefined;
  instrs: DInstr[];
}

/** A parsed Dockerfile. */
export interface DockerfileModel {
  /** Instructions before the first FROM (ARGs, mistakes). */
  preamble: DInstr[];
  stages: Stage[];
  all: DInstr[];
  /** Codes disabled for the whole file by `# hadolint global ignore=`. */
  globalIgnored: Set<string>;
  lines: string[];
}

/** Parses Dockerfile text into stages and flat instructions. */
export function parseDockerfile(text: string): DockerfileModel {
  const df = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const ignoresAt = new Map<number, Set<string>>();
  const globalIgnored = new Set<string>();
  lines.forEach((l, i) => {
    const m = /^\s*#\s*(?:hadolint|gantry)\s+(global\s+)?ignore\s*=\s*([\w\-/,\s]+)/i.exec(l);
    if (!m) return;
    const codes = (m[2] ?? "").split(/[,\s]+/).filter(Boolean);
    if (m[1]) codes.forEach((c) => globalIgnored.add(c));
    else ignoresAt.set(i, new Set(codes));
  });
  const model: DockerfileModel = { preamble: [], stages: [], all: [], globalIgnored, lines };
  const preStage: Stage = {
    index: -1,
    from: undefined,
    image: "",
    tag: undefined,
    digest: undefined,
    alias: undefined,
    platform: undefined,
    parent: undefined,
    instrs: [],
  };
  let stage = preStage;
  for (const ins of df.getInstructions()) {
    const d = toInstr(ins, stage, lines, ignoresAt);
    if (d.keyword === "FROM") {
      stage = newStage(d, model.stages);
      d.stage = stage;
      model.stages.push(stage);
    }
    stage.instrs.push(d);
    if (stage === preStage) model.preamble.push(d);
    model.all.push(d);
  }
  // A fragment without FROM (as in snippets and ONBUILD-only files) is linted as one stage.
  if (model.stages.length === 0 && preStage.instrs.length > 0) {
    preStage.index = 0;
    model.stages.push(preStage);
    model.preamble = [];
  }
  return model;
}

function newStage(from: DInstr, earlier: Stage[]): Stage {
  const words = from.args.split(/\s+/).filter(Boolean);
  const ref = words[0] ?? "";
  const asIdx = words.findIndex((w) => w.toLowerCase() === "as");
  const alias = asIdx >= 0 ? words[asIdx + 1] : undefined;
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const lastSlash = noDigest.lastIndexOf("/");
  const colon = noDigest.indexOf(":", lastSlash + 1);
  const image = colon >= 0 ? noDigest.slice(0, colon) : noDigest;
  const tag = colon >= 0 ? noDigest.slice(colon + 1) : undefined;
  const parent =
    earlier.find((s) => s.alias !== undefined && s.alias.toLowerCase() === ref.toLowerCase()) ??
    (/^\d+$/.test(ref) ? earlier[Number(ref)] : undefined);
  return {
    index: earlier.length,
    from,
    image,
    tag,
    digest,
    alias,
    platform: from.flags.find((f) => f.name === "platform")?.value,
    parent,
    instrs: [],
  };
}

function toInstr(
  ins: Instruction,
  stage: Stage,
  lines: string[],
  ignoresAt: Map<number, Set<string>>,
): DInstr {
  const range = ins.getRange();
  let keyword = ins.getKeyword().toUpperCase();
  let args = ins.getArgumentsContent() ?? "";
  let onbuild = false;
  let flags: { name: string; value: string }[] = [];
  if (keyword === "ONBUILD") {
    onbuild = true;
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(args);
    keyword = (m?.[1] ?? "").toUpperCase();
    args = m?.[2] ?? "";
  }
  // Flags come first (`COPY --from=x a b`); dockerfile-ast strips them from the content, so read them from the line.
  const rawText = lines
    .slice(range.start.line, range.end.line + 1)
    .join("\n")
    .replace(/\\\r?\n/g, " ");
  const afterKeyword = rawText.replace(/^\s*(?:ONBUILD\s+)?\S+/i, "");
  const flagRe = /^\s+--([\w-]+)(?:=("[^"]*"|'[^']*'|\S*))?/;
  let rest = afterKeyword;
  let fm: RegExpExecArray | null;
  while ((fm = flagRe.exec(rest)) !== null) {
    flags.push({ name: fm[1] as string, value: (fm[2] ?? "").replace(/^["']|["']$/g, "") });
    rest = rest.slice(fm[0].length);
  }
  if (flags.length > 0 && ["FROM", "COPY", "ADD", "RUN"].includes(keyword)) args = rest.trim();
  else flags = [];
  let json: string[] | undefined;
  const trimmed = args.trim();
  if (trimmed.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) json = parsed;
    } catch {
      json = undefined;
    }
  }
  let script = "";
  if (keyword === "RUN") {
    if (json) script = json.join(" ");
    else if (/^<<-?["']?\w+/.test(trimmed)) script = trimmed.split("\n").slice(1, -1).join("\n");
    else script = args;
  }
  const ignored = new Set<string>();
  for (let l = range.start.line - 1; l >= 0; l--) {
    const set = ignoresAt.get(l);
    if (set) set.forEach((c) => ignored.add(c));
    else if (!/^\s*#/.test(lines[l] ?? "")) break;
  }
  const last = lines[range.end.line] ?? "";
  return {
    keyword,
    args,
    flags,
    json,
    line: range.start.line + 1,
    column: range.start.character + 1,
    endLine: range.end.line + 1,
    endColumn: Math.max(range.end.character, last.length) + 1,
    onbuild,
    stage,
    commands: keyword === "RUN" ? parseShell(script) : [],
    script,
    ignored,
  };
}

/** The stages a stage inherits from, nearest first, itself included. */
export function lineage(stage: Stage): Stage[] {
  const out: Stage[] = [];
  for (let s: Stage | undefined = stage; s && !out.includes(s); s = s.parent) out.push(s);
  return out;
}

/** Stages whose content ends up in the final image: the last stage and its ancestors. */
export function shippedStages(model: DockerfileModel): Set<Stage> {
  const last = model.stages[model.stages.length - 1];
  return new Set(last ? lineage(last) : []);
}
