/** One simple command of a shell script: `A=1 apt-get install -y x` → env {A: "1"}, argv [apt-get, install, -y, x]. */
export interface ShellCommand {
  argv: string[];
  env: Record<string, string>;
  /** True when this command's output is piped into the next one. */
  pipedOut: boolean;
}

/**
 * Splits a POSIX-shell script into simple commands: enough of the grammar for linting RUN
 * (quotes, escapes, `$(...)`, `&&`, `||`, `;`, `|`, `&`, newlines). Quotes are removed from words.
 */
export function parseShell(script: string): ShellCommand[] {
  const src = script.replace(/\\\r?\n/g, " ");
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = (piped: boolean): void => {
    endWord();
    if (words.length > 0) {
      const env: Record<string, string> = {};
      while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) {
        const w = words.shift() as string;
        const eq = w.indexOf("=");
        env[w.slice(0, eq)] = w.slice(eq + 1);
      }
      commands.push({ argv: words, env, pipedOut: piped });
    }
    words = [];
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      word += src.slice(i + 1, end === -1 ? src.length : end);
      inWord = true;
      i = end === -1 ? src.length : end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < src.length && src[j] !== '"'; j++) {
        // Inside double quotes a backslash escapes only $ ` " \ and newline (POSIX); C:\Path stays.
        if (src[j] === "\\" && j + 1 < src.length && '$`"\\\n'.includes(src[j + 1] as string)) {
          word += src[j + 1];
          j++;
        } else word += src[j];
      }
      inWord = true;
      i = j;
    } else if (c === "\\" && next !== undefined) {
      word += next;
      inWord = true;
      i++;
    } else if (c === "$" && next === "(") {
      let depth = 0;
      let j = i + 1;
      for (; j < src.length; j++) {
        if (src[j] === "(") depth++;
        else if (src[j] === ")" && --depth === 0) break;
      }
      word += src.slice(i, j + 1);
      inWord = true;
      i = j;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      word += src.slice(i, end === -1 ? src.length : end + 1);
      inWord = true;
      i = end === -1 ? src.length : end;
    } else if (c === "#" && !inWord) {
      const end = src.indexOf("\n", i);
      i = end === -1 ? src.length : end - 1;
    } else if ((c === "&" && next === "&") || (c === "|" && next === "|")) {
      endCommand(false);
      i++;
    } else if (c === "|") {
      endCommand(true);
    } else if (c === ";" || c === "\n" || c === "&") {
      endCommand(false);
    } else if (c === " " || c === "\t" || c === "\r") {
      endWord();
    } else if ((c === "(" || c === ")" || c === "{" || c === "}") && !inWord) {
      endCommand(false);
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand(false);
  return commands;
}

/** The command name without its directory: `/usr/bin/apt-get` → `apt-get`. */
export function commandName(cmd: ShellCommand): string {
  const first = cmd.argv[0] ?? "";
  return first.slice(first.lastIndexOf("/") + 1);
}

/** Words after the command name that are not options. Options listed in `withValue` consume the next word. */
export function operands(args: readonly string[], withValue: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      out.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("-")) {
      if (withValue.includes(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** True if any of `flags` is present (`-y`, `--yes`), including inside short-flag clusters like `-qy`. */
export function hasFlag(args: readonly string[], ...flags: string[]): boolean {
  for (const a of args) {
    if (flags.includes(a) || flags.some((f) => f.startsWith("--") && a.startsWith(`${f}=`))) return true;
    if (/^-[A-Za-z]{2,}$/.test(a))
      for (const f of flags) if (/^-[A-Za-z]$/.test(f) && a.includes(f.slice(1))) return true;
  }
  return false;
}
