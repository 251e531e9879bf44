import { ExecutorError } from "../executor.js";

/** What the safe subset of `docker run` arguments (Jenkins `args`) can set. */
export interface RunArgs {
  binds: string[];
  env: string[];
  user?: string;
  workdir?: string;
  network?: string;
  extraHosts: string[];
  dns: string[];
  tmpfs: Record<string, string>;
  groupAdd: string[];
  labels: Record<string, string>;
  memory?: number;
  nanoCpus?: number;
  shmSize?: number;
  hostname?: string;
  entrypoint?: string[];
}

/** Options accepted in `args`, by every spelling; each takes one value. */
const OPTIONS: Record<string, keyof RunArgs> = {
  "-v": "binds",
  "--volume": "binds",
  "-e": "env",
  "--env": "env",
  "-u": "user",
  "--user": "user",
  "-w": "workdir",
  "--workdir": "workdir",
  "--network": "network",
  "--net": "network",
  "--add-host": "extraHosts",
  "--dns": "dns",
  "--tmpfs": "tmpfs",
  "--group-add": "groupAdd",
  "-l": "labels",
  "--label": "labels",
  "-m": "memory",
  "--memory": "memory",
  "--cpus": "nanoCpus",
  "--shm-size": "shmSize",
  "-h": "hostname",
  "--hostname": "hostname",
  "--entrypoint": "entrypoint",
};

/** Flags without a value that are harmless (the executor already behaves that way). */
const IGNORED_FLAGS = new Set(["-t", "--tty", "-i", "--interactive", "-d", "--detach", "--rm", "--init"]);

/** The supported options, for error messages and docs. */
export const SUPPORTED_RUN_ARGS = Object.keys(OPTIONS).filter((o) => o.startsWith("--"));

/**
 * Parses Jenkins-style `args` (a `docker run` argument string) into the safe subset Gantry
 * supports. `$VAR` and `${VAR}` are expanded from `vars` (Jenkins users write `-v $HOME/.m2:...`).
 * Anything outside the subset (`--privileged`, `--cap-add`, `--pid`...) is refused, because it
 * would let a pipeline file take over the host.
 */
export function parseRunArgs(args: string | undefined, vars: Record<string, string | undefined>): RunArgs {
  const out: RunArgs = { binds: [], env: [], extraHosts: [], dns: [], tmpfs: {}, groupAdd: [], labels: {} };
  if (!args?.trim()) return out;
  const words = splitWords(args).map((w) => expandVars(w, vars));
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let name = word;
    let value: string | undefined;
    const eq = word.indexOf("=");
    if (word.startsWith("--") && eq > 0) {
      name = word.slice(0, eq);
      value = word.slice(eq + 1);
    } else if (/^-[a-z]./.test(word) && OPTIONS[word.slice(0, 2)]) {
      name = word.slice(0, 2);
      value = word.slice(2);
    }
    // Harmless flags, alone or combined (`-it`, `-itd`).
    if (IGNORED_FLAGS.has(name) || /^-[itd]+$/.test(word)) continue;
    const key = OPTIONS[name];
    if (!key) {
      throw new ExecutorError(
        `docker agent args: "${word}" is not supported`,
        `supported: ${SUPPORTED_RUN_ARGS.join(", ")} (and their short forms -v -e -u -w -m -l -h); ` +
          "options such as --privileged or --cap-add are refused because a pipeline could take over the host",
      );
    }
    if (value === undefined) {
      value = words[++i];
      if (value === undefined) throw new ExecutorError(`docker agent args: "${name}" needs a value`);
    }
    apply(out, key, name, value);
  }
  return out;
}

function apply(out: RunArgs, key: keyof RunArgs, name: string, value: string): void {
  switch (key) {
    case "binds": {
      const parts = value.split(":");
      if (parts.length < 2 || !parts[0] || !parts[1]) {
        throw new ExecutorError(`docker agent args: ${name} "${value}" must be SOURCE:TARGET[:ro]`);
      }
      out.binds.push(value);
      return;
    }
    case "env":
    case "extraHosts":
    case "dns":
    case "groupAdd":
      out[key].push(value);
      return;
    case "tmpfs": {
      const [target = "", options = ""] = splitOnce(value, ":");
      out.tmpfs[target] = options;
      return;
    }
    case "labels": {
      const [k = "", v = ""] = splitOnce(value, "=");
      out.labels[k] = v;
      return;
    }
    case "memory":
    case "shmSize":
      out[key] = parseBytes(name, value);
      return;
    case "nanoCpus": {
      const cpus = Number(value);
      if (!Number.isFinite(cpus) || cpus <= 0)
        throw new ExecutorError(`docker agent args: --cpus "${value}" is not a number`);
      out.nanoCpus = Math.round(cpus * 1e9);
      return;
    }
    case "entrypoint":
      out.entrypoint = value === "" ? [""] : [value];
      return;
    case "user":
    case "workdir":
    case "network":
    case "hostname":
      out[key] = value;
      return;
  }
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

function parseBytes(name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(value.trim());
  if (!m) throw new ExecutorError(`docker agent args: ${name} "${value}" is not a size (e.g. 512m, 2g)`);
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/** Splits like a POSIX shell would for simple quoting: '...', "...", backslash escapes. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new ExecutorError(`docker agent args: unterminated ${quote} quote in "${s}"`);
  if (inWord) words.push(cur);
  return words;
}

function expandVars(word: string, vars: Record<string, string | undefined>): string {
  return word.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_, a?: string, b?: string) => vars[(a ?? b)!] ?? "",
  );
}
