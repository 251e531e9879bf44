import { lineage, type DInstr } from "./model.js";
import { dockerRule, runs, type DockerRule } from "./rule.js";
import { commandName } from "./shell.js";

const POINTLESS = new Set([
  "ssh",
  "vim",
  "shutdown",
  "service",
  "ps",
  "free",
  "top",
  "kill",
  "mount",
  "ifconfig",
]);

/** The shell a RUN executes with: the last SHELL of its stage before it, else /bin/sh. */
function shellOf(i: DInstr): string[] {
  for (const s of lineage(i.stage)) {
    const shells = s.instrs.filter((x) => x.keyword === "SHELL" && (s !== i.stage || x.line < i.line));
    const last = shells[shells.length - 1];
    if (last?.json) return last.json;
  }
  return ["/bin/sh", "-c"];
}

/** What RUN scripts do. */
export const RUN_RULES: DockerRule[] = [
  dockerRule(
    "pointless-command",
    "info",
    "Command makes no sense in a Dockerfile",
    "Commands like ssh, vim, top, service or shutdown do nothing useful during a build; remove them.",
    ["hadolint:DL3001"],
    (m) =>
      runs(m)
        .filter((i) => i.commands.some((c) => POINTLESS.has(commandName(c))))
        .map((at) => ({ at })),
  ),
  dockerRule(
    "cd-in-run",
    "low",
    "Use WORKDIR instead of cd",
    "`cd` lasts only for this RUN; `WORKDIR /path` is explicit and applies to later instructions.",
    ["hadolint:DL3003"],
    (m) =>
      runs(m)
        .filter((i) => i.commands.some((c) => commandName(c) === "cd"))
        .map((at) => ({ at })),
  ),
  dockerRule(
    "no-sudo",
    "high",
    "Do not use sudo",
    "Build steps already run as the current USER; switch with `USER root` and back instead of sudo.",
    ["hadolint:DL3004"],
    (m) =>
      runs(m)
        .filter((i) => i.commands.some((c) => commandName(c) === "sudo"))
        .map((at) => ({ at })),
  ),
  dockerRule(
    "useradd-large-uid",
    "low",
    "useradd with a large UID needs -l",
    "Without `-l` (`--no-log-init`) a large UID bloats /var/log/faillog and lastlog in the layer.",
    ["hadolint:DL3046"],
    (m) =>
      runs(m)
        .filter((i) =>
          i.commands.some((c) => {
            if (commandName(c) !== "useradd") return false;
            const a = c.argv;
            const uid =
              a[a.indexOf("-u") + 1] ??
              a.find((x) => x.startsWith("--uid="))?.slice(6) ??
              (a.includes("--uid") ? a[a.indexOf("--uid") + 1] : undefined);
            const hasU = a.includes("-u") || a.includes("--uid") || a.some((x) => x.startsWith("--uid="));
            return (
              hasU &&
              uid !== undefined &&
              /^\d{6,}$/.test(uid) &&
              !a.includes("-l") &&
              !a.includes("--no-log-init")
            );
          }),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "wget-progress",
    "info",
    "Use wget --progress=dot:giga (or -q)",
    "Without it the build log fills with progress bars.",
    ["hadolint:DL3047"],
    (m) =>
      runs(m)
        .filter((i) =>
          i.commands.some(
            (c) =>
              commandName(c) === "wget" &&
              !c.argv.some((a) =>
                /^--progress|^-q$|^--quiet$|^-nv$|^--no-verbose$|^-o$|^--output-file|^-a$|^--append-output|^-[a-zA-Z]*q[a-zA-Z]*$/.test(
                  a,
                ),
              ),
          ),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "wget-and-curl",
    "info",
    "Both wget and curl are used",
    "Pick one download tool to keep the image smaller.",
    ["hadolint:DL4001"],
    (m) => {
      const all = runs(m);
      const w = all.find((i) => i.commands.some((c) => commandName(c) === "wget"));
      const c = all.find((i) => i.commands.some((x) => commandName(x) === "curl"));
      if (!w || !c) return [];
      return [{ at: w.line > c.line ? w : c }];
    },
  ),
  dockerRule(
    "relink-sh",
    "medium",
    "Use SHELL to change the default shell",
    'Instead of `ln -s /bin/bash /bin/sh`, write `SHELL ["/bin/bash", "-c"]`.',
    ["hadolint:DL4005"],
    (m) =>
      runs(m)
        .filter((i) => i.commands.some((c) => commandName(c) === "ln" && c.argv.at(-1) === "/bin/sh"))
        .map((at) => ({ at })),
  ),
  dockerRule(
    "pipefail",
    "medium",
    "Set -o pipefail before a RUN with a pipe",
    'A failing command before `|` is otherwise ignored. Add `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`.',
    ["hadolint:DL4006"],
    (m) =>
      runs(m)
        .filter((i) => {
          if (!i.commands.some((c) => c.pipedOut)) return false;
          const sh = shellOf(i);
          const exe = (sh[0] ?? "").replace(/^.*[\\/]/, "");
          if (/^(?:pwsh|powershell|cmd)(?:\.exe)?$/i.test(exe)) return false;
          const pipefail = sh.some((a, k) => a === "pipefail" && /^-[a-z]*o$/.test(sh[k - 1] ?? ""));
          if (pipefail && /^(?:bash|zsh|ash|ksh|mksh)$/.test(exe)) return false;
          return !/set\s+-[a-z]*o\s+pipefail|set\s+-o\s+pipefail/.test(i.script);
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "consecutive-run",
    "info",
    "Consecutive RUN instructions: consider merging them",
    "Each RUN is a layer; join related steps with `&&` (fewer layers, smaller image).",
    ["hadolint:DL3059"],
    (m) =>
      m.stages.flatMap((s) =>
        s.instrs
          .filter((i, k) => {
            const prev = s.instrs[k - 1];
            if (i.keyword !== "RUN" || prev?.keyword !== "RUN") return false;
            const simple = (x: DInstr): boolean => x.commands.length <= 1;
            return simple(i) && simple(prev) && JSON.stringify(i.flags) === JSON.stringify(prev.flags);
          })
          .map((at) => ({ at })),
      ),
  ),
  dockerRule(
    "curl-pipe-shell",
    "high",
    "Remote script piped into a shell",
    "Download the script, verify its checksum or signature, then run it.",
    [],
    (m) =>
      runs(m)
        .filter((i) =>
          i.commands.some(
            (c, k) =>
              c.pipedOut &&
              ["curl", "wget"].includes(commandName(c)) &&
              /^(?:sh|bash|zsh|ash|dash|python3?)$/.test(
                commandName(i.commands[k + 1] ?? { argv: [], env: {}, pipedOut: false }),
              ),
          ),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "chmod-777",
    "medium",
    "World-writable permissions (chmod 777)",
    "Grant only what the process needs (e.g. 755 for programs, 644 for data) and chown to the runtime user.",
    [],
    (m) =>
      runs(m)
        .filter((i) =>
          i.commands.some(
            (c) => commandName(c) === "chmod" && c.argv.some((a) => /^0?777$|^a\+rwx$|^o\+w/.test(a)),
          ),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "dist-upgrade",
    "low",
    "Avoid upgrading the whole distribution in a layer",
    "Use a newer base image tag instead of `apt-get upgrade`/`dist-upgrade`; upgrades make builds unreproducible.",
    [],
    (m) =>
      runs(m)
        .filter((i) =>
          i.commands.some(
            (c) =>
              ["apt-get", "apt"].includes(commandName(c)) &&
              c.argv.some((a) => a === "upgrade" || a === "dist-upgrade" || a === "full-upgrade"),
          ),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "update-without-install",
    "low",
    "Package index updated in a RUN that installs nothing",
    "Run `apt-get update && apt-get install …` in the same RUN, or a stale cached `update` layer installs old packages.",
    ["checkov:CKV_DOCKER_5"],
    (m) =>
      runs(m)
        .filter((i) => {
          const names = i.commands.map((c) => [
            commandName(c),
            c.argv.slice(1).find((a) => !a.startsWith("-")) ?? "",
          ]);
          const upd = names.some(
            ([n, s]) =>
              (n === "apt-get" || n === "apt" || n === "apk" || n === "yum" || n === "dnf") && s === "update",
          );
          const inst = names.some(
            ([n, s]) => ["install", "add", "upgrade", "dist-upgrade"].includes(s ?? "") && n !== undefined,
          );
          return upd && !inst;
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "copy-all-before-install",
    "info",
    "Whole context copied before installing dependencies",
    "Copy the dependency manifests first (`COPY package*.json ./`, `requirements.txt`, `go.mod go.sum`), install, then `COPY . .`: a code change then reuses the cached install layer.",
    [],
    (m) =>
      m.stages.flatMap((s) => {
        const copyAll = s.instrs.find(
          (i) =>
            i.keyword === "COPY" &&
            !i.flags.some((f) => f.name === "from") &&
            /^\.\/?\s+\S+$/.test(i.args.trim()),
        );
        if (!copyAll) return [];
        const install = s.instrs.find(
          (i) =>
            i.keyword === "RUN" &&
            i.line > copyAll.line &&
            /\b(?:npm (?:ci|install|i)|yarn(?: install)?$|yarn install|pnpm install|pip3? install -r|poetry install|bundle install|go mod download|composer install|mvn [\w:-]*dependency)/m.test(
              i.script,
            ),
        );
        return install ? [{ at: copyAll }] : [];
      }),
  ),
  dockerRule(
    "data-in-image",
    "low",
    "Data files copied into the image",
    "Keep databases, dumps and data sets out of the image: mount them as a volume or fetch them at run time, so the image stays small and the data is not shipped to every registry.",
    [],
    (m) =>
      m.all
        .filter(
          (i) => (i.keyword === "COPY" || i.keyword === "ADD") && !i.flags.some((f) => f.name === "from"),
        )
        .filter((i) =>
          /(?:^|\s|\/)[^\s]*\.(?:sql|dump|sqlite3?|db|csv|parquet|bak|h5|pkl)(?:\s|$)/i.test(i.args),
        )
        .map((at) => ({ at })),
  ),
];
