import { lineage, shippedStages, type DInstr, type DockerfileModel } from "./model.js";
import { dockerRule, mountsTarget, runs, type DockerHit, type DockerRule } from "./rule.js";
import { commandName, hasFlag, operands, type ShellCommand } from "./shell.js";

/** Commands of `name` whose first operand (the sub-command) is one of `subs`. */
function calls(
  i: DInstr,
  names: string[],
  subs?: string[],
): { cmd: ShellCommand; index: number; rest: string[] }[] {
  const out: { cmd: ShellCommand; index: number; rest: string[] }[] = [];
  i.commands.forEach((cmd, index) => {
    let name = commandName(cmd);
    let args = cmd.argv.slice(1);
    // `sudo apt-get …` and `env X=1 apt-get …` run the same package manager.
    while ((name === "sudo" || name === "env") && args.length > 0) {
      const k = args.findIndex((a) => !a.startsWith("-") && !/^\w+=/.test(a));
      if (k < 0) break;
      name = (args[k] as string).replace(/^.*\//, "");
      args = args.slice(k + 1);
    }
    if (!names.includes(name)) {
      // `python -m pip install …`
      const m = name.startsWith("python") ? args.indexOf("-m") : -1;
      if (m < 0 || !names.includes(args[m + 1] ?? "")) return;
      args = args.slice(m + 2);
    }
    if (!subs) return void out.push({ cmd, index, rest: args });
    const sub = args.findIndex((a) => !a.startsWith("-"));
    if (sub >= 0 && subs.includes(args[sub] as string))
      out.push({ cmd, index, rest: [...args.slice(0, sub), ...args.slice(sub + 1)] });
  });
  return out;
}

/** Hits on RUNs where `bad(rest, i)` holds for some call of the package manager. */
function perCall(
  model: DockerfileModel,
  names: string[],
  subs: string[],
  bad: (rest: string[], i: DInstr) => boolean,
): DockerHit[] {
  return runs(model)
    .filter((i) => calls(i, names, subs).some((c) => bad(c.rest, i)))
    .map((at) => ({ at }));
}

/** Variables visible to a RUN: ENV and ARG of its stage lineage, global ARGs. */
function variables(model: DockerfileModel, i: DInstr): Map<string, string> {
  const vars = new Map<string, string>();
  const stages = lineage(i.stage).reverse();
  const add = (ins: DInstr): void => {
    if (ins.keyword !== "ENV" && ins.keyword !== "ARG") return;
    for (const m of ins.args.matchAll(/([A-Za-z_]\w*)(?:=("[^"]*"|'[^']*'|\S*)|\s+(\S.*))?/g))
      vars.set(m[1] as string, (m[2] ?? m[3] ?? "").replace(/^["']|["']$/g, ""));
  };
  model.preamble.forEach(add);
  for (const s of stages) for (const ins of s.instrs) if (ins.line < i.line || s !== i.stage) add(ins);
  return vars;
}

function expand(word: string, vars: Map<string, string>): string {
  return word.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (m, n: string) => vars.get(n) ?? m);
}

const APT_OPTS_WITH_VALUE = ["-o", "-t", "--target-release", "-c", "--config-file"];
const PIP_OPTS_WITH_VALUE = [
  "-i",
  "--index-url",
  "--extra-index-url",
  "--target",
  "-t",
  "--prefix",
  "--root",
  "--build",
  "-b",
  "--trusted-host",
  "--root-user-action",
  "--src",
  "--python",
  "--platform",
  "--python-version",
  "--implementation",
  "--abi",
  "--cache-dir",
  "--log",
  "--proxy",
  "--retries",
  "--timeout",
  "-e",
  "--editable",
];
const NPM_OPTS_WITH_VALUE = [
  "--registry",
  "--loglevel",
  "--prefix",
  "--cache",
  "--userconfig",
  "--tag",
  "--workspace",
  "-w",
];
const APK_OPTS_WITH_VALUE = [
  "--repository",
  "-X",
  "-t",
  "--virtual",
  "--repositories-file",
  "--root",
  "-p",
  "--arch",
  "--keys-dir",
  "--cache-dir",
];

/** Stage cleanup rules apply only to stages that end up in the image. */
function inShipped(model: DockerfileModel, i: DInstr): boolean {
  return shippedStages(model).has(i.stage) || i.stage.index === -1;
}

const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined
    ? undefined
    : /^(?:1|yes|true|on)$/i.test(v)
      ? true
      : /^(?:0|no|false|off)$/i.test(v)
        ? false
        : undefined;

/** Package manager hygiene: pinned versions, no caches, non-interactive installs. */
export const PACKAGE_RULES: DockerRule[] = [
  dockerRule(
    "apt-pin-versions",
    "low",
    "Pin versions in apt-get install",
    "Install `package=version` so rebuilds are reproducible, e.g. `apt-get install -y curl=7.88.1-10+deb12u5`.",
    ["hadolint:DL3008"],
    (m) =>
      perCall(m, ["apt-get"], ["install"], (rest) =>
        operands(rest, APT_OPTS_WITH_VALUE).some(
          (p) => !p.includes("=") && !p.endsWith(".deb") && !p.startsWith("/") && !p.startsWith("."),
        ),
      ),
  ),
  dockerRule(
    "apt-lists-not-removed",
    "low",
    "Delete the apt lists after installing",
    "End the RUN with `&& rm -rf /var/lib/apt/lists/*` (or use a cache mount on /var/lib/apt) so the package index does not ship in the layer.",
    ["hadolint:DL3009"],
    (m) =>
      runs(m)
        .filter((i) => inShipped(m, i))
        .filter(
          (i) =>
            calls(i, ["apt-get", "apt", "aptitude"], ["update"]).length > 0 &&
            calls(i, ["apt-get", "apt", "aptitude"], ["install"]).length > 0,
        )
        .filter(
          (i) =>
            !/rm\s+(-\w+\s+)*\/var\/lib\/apt\/lists/.test(i.script) &&
            !mountsTarget(i, "/var/lib/apt", "/var/lib/apt/lists"),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "apt-get-yes",
    "medium",
    "Use apt-get install -y",
    "Without `-y` the build waits for a confirmation that never comes; add `-y` (or `-qq`).",
    ["hadolint:DL3014"],
    (m) =>
      perCall(m, ["apt-get"], ["install"], (rest) => {
        if (hasFlag(rest, "-y", "--yes", "--assume-yes") || rest.includes("-q=2") || rest.includes("-qq"))
          return false;
        const qs =
          rest.filter((a) => /^-q+$/.test(a)).reduce((n, a) => n + a.length - 1, 0) +
          rest.filter((a) => a === "--quiet").length;
        return qs < 2;
      }),
  ),
  dockerRule(
    "apt-no-install-recommends",
    "low",
    "Avoid additional packages with --no-install-recommends",
    "Add `--no-install-recommends` to keep the image small.",
    ["hadolint:DL3015"],
    (m) =>
      perCall(
        m,
        ["apt-get"],
        ["install"],
        (rest) =>
          !rest.includes("--no-install-recommends") &&
          !rest.some((a, k) => rest[k - 1] === "-o" && /APT::Install-Recommends=(?:false|0)/i.test(a)),
      ),
  ),
  dockerRule(
    "apt-user-tool",
    "low",
    "Use apt-get or apt-cache instead of apt",
    "`apt` is for interactive use and its output is not stable; use `apt-get`.",
    ["hadolint:DL3027"],
    (m) =>
      runs(m)
        .filter(
          (i) =>
            calls(
              i,
              ["apt"],
              [
                "install",
                "update",
                "upgrade",
                "remove",
                "purge",
                "autoremove",
                "full-upgrade",
                "search",
                "show",
                "list",
              ],
            ).length > 0,
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "pip-pin-versions",
    "low",
    "Pin versions in pip install",
    "Use `pip install name==version` or a requirements/constraints file.",
    ["hadolint:DL3013"],
    (m) =>
      runs(m)
        .filter((i) =>
          [...calls(i, ["pip", "pip2", "pip3"], ["install"]), ...calls(i, ["pipx"], ["install"])].some(
            (c) => {
              if (hasFlag(c.rest, "-r", "--requirement", "-c", "--constraint")) return false;
              return operands(c.rest, PIP_OPTS_WITH_VALUE).some((p) => {
                if (/^(?:git\+|hg\+|svn\+|bzr\+)/.test(p))
                  return !/@[^/]+(?:#|$)/.test(p.replace(/^[a-z+]+:\/\/[^@/]*@/, ""));
                if (
                  /[=<>~!]=?|@/.test(p) ||
                  p.includes("/") ||
                  p === "." ||
                  /\.(?:whl|tar\.gz|tgz|zip|tar\.bz2)$/.test(p) ||
                  /^https?:/.test(p)
                )
                  return false;
                return true;
              });
            },
          ),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "pip-no-cache-dir",
    "low",
    "Use pip install --no-cache-dir",
    "Add `--no-cache-dir` (or set `PIP_NO_CACHE_DIR=1`, or use a cache mount on /root/.cache/pip) so pip's cache does not ship.",
    ["hadolint:DL3042"],
    (m) =>
      runs(m)
        .filter((i) => {
          const installs = calls(i, ["pip", "pip2", "pip3"], ["install"]);
          if (installs.length === 0 || mountsTarget(i, "/root/.cache/pip", "/root/.cache")) return false;
          const vars = variables(m, i);
          let envSetting = truthy(vars.get("PIP_NO_CACHE_DIR"));
          for (const [k, c] of i.commands.entries()) {
            if (commandName(c) === "export")
              for (const a of c.argv.slice(1))
                if (a.startsWith("PIP_NO_CACHE_DIR=")) envSetting = truthy(a.slice(17));
            const call = installs.find((x) => x.index === k);
            if (!call) continue;
            const local = truthy(c.env.PIP_NO_CACHE_DIR) ?? envSetting;
            if (!call.rest.includes("--no-cache-dir") && local !== true) return true;
          }
          return false;
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "npm-pin-versions",
    "low",
    "Pin versions in npm install",
    "Use `npm install name@version`, or `npm ci` with a lock file.",
    ["hadolint:DL3016"],
    (m) =>
      perCall(m, ["npm"], ["install", "i", "add"], (rest) =>
        operands(rest, NPM_OPTS_WITH_VALUE).some((p) => {
          if (/^(?:\.{0,2}\/|~\/)/.test(p) || /\.(?:tgz|tar\.gz|tar)$/.test(p)) return false;
          if (/^(?:git|git\+\w+|https?):/.test(p) || /^[\w-]+\/[\w.-]+$/.test(p)) return !p.includes("#");
          const bare = p.startsWith("@") ? p.slice(1) : p;
          return !bare.includes("@");
        }),
      ),
  ),
  dockerRule(
    "apk-pin-versions",
    "low",
    "Pin versions in apk add",
    "Use `apk add name=version`.",
    ["hadolint:DL3018"],
    (m) =>
      perCall(m, ["apk"], ["add"], (rest) =>
        operands(rest, APK_OPTS_WITH_VALUE).some((p) => !/[=~<>]/.test(p) && !p.endsWith(".apk")),
      ),
  ),
  dockerRule(
    "apk-no-cache",
    "low",
    "Use apk add --no-cache",
    "Add `--no-cache` so the index is not stored in the image (or mount a cache on /var/cache/apk).",
    ["hadolint:DL3019"],
    (m) =>
      runs(m)
        .filter(
          (i) =>
            calls(i, ["apk"], ["add"]).some((c) => !c.rest.includes("--no-cache")) &&
            !mountsTarget(i, "/var/cache/apk"),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "gem-pin-versions",
    "low",
    "Pin versions in gem install",
    "Use `gem install name:version` or `-v version`.",
    ["hadolint:DL3028"],
    (m) =>
      perCall(m, ["gem"], ["install", "i"], (rest) => {
        if (hasFlag(rest, "-v", "--version")) return false;
        const cut = rest.indexOf("--");
        return operands(cut >= 0 ? rest.slice(0, cut) : rest, [
          "-i",
          "--install-dir",
          "-n",
          "--bindir",
          "-s",
          "--source",
          "--platform",
        ]).some((p) => !p.includes(":") && !p.endsWith(".gem"));
      }),
  ),
  dockerRule(
    "yum-yes",
    "medium",
    "Use yum install -y",
    "Add `-y` so the build does not wait for a confirmation.",
    ["hadolint:DL3030"],
    (m) =>
      perCall(
        m,
        ["yum"],
        ["install", "groupinstall", "localinstall", "reinstall"],
        (rest) => !hasFlag(rest, "-y", "--assumeyes"),
      ),
  ),
  dockerRule(
    "yum-clean",
    "low",
    "Run yum clean all after yum install",
    "End the RUN with `&& yum clean all` so the package cache does not ship.",
    ["hadolint:DL3032"],
    (m) =>
      runs(m)
        .filter(
          (i) =>
            calls(i, ["yum"], ["install", "groupinstall", "localinstall"]).length > 0 &&
            !/yum\s+clean\s+all/.test(i.script) &&
            !/rm\s+-rf\s+\/var\/cache\/yum/.test(i.script) &&
            !mountsTarget(i, "/var/cache/yum"),
        )
        .map((at) => ({ at })),
  ),
  ...(["yum", "dnf"] as const).map((pm) =>
    dockerRule(
      `${pm}-pin-versions`,
      "low",
      `Pin versions in ${pm} install`,
      `Use \`${pm} install name-version\` (and \`module install name:stream\`).`,
      [pm === "yum" ? "hadolint:DL3033" : "hadolint:DL3041"],
      (m) =>
        runs(m)
          .filter((i) => {
            const names = pm === "yum" ? ["yum"] : ["dnf", "microdnf"];
            const vars = variables(m, i);
            const pkgs = calls(i, names, ["install"]).flatMap((c) => {
              const ops = operands(c.rest, ["--setopt", "-x", "--exclude", "--releasever", "--installroot"]);
              if (ops[0] === "module") return [];
              return ops.map((p) => expand(p, vars));
            });
            const modules = calls(i, names, ["module"]).flatMap((c) => {
              const ops = operands(c.rest);
              return ops[0] === "install" ? ops.slice(1).map((p) => `${p}::module`) : [];
            });
            return (
              pkgs.some((p) => !/-\d|\.rpm$|^\//.test(p) || p.includes("$")) ||
              modules.some((p) => !p.replace("::module", "").includes(":"))
            );
          })
          .map((at) => ({ at })),
    ),
  ),
  dockerRule(
    "zypper-non-interactive",
    "medium",
    "Use zypper install -n",
    "Add `-n`/`--non-interactive` (or `-y`).",
    ["hadolint:DL3034"],
    (m) =>
      perCall(
        m,
        ["zypper"],
        ["install", "in", "remove", "rm", "update", "up", "patch"],
        (rest) => !hasFlag(rest, "-n", "--non-interactive", "-y", "--no-confirm"),
      ),
  ),
  dockerRule(
    "zypper-dist-upgrade",
    "medium",
    "Do not use zypper dist-upgrade",
    "Upgrade the base image instead of running a distribution upgrade in a layer.",
    ["hadolint:DL3035"],
    (m) => perCall(m, ["zypper"], ["dist-upgrade", "dup"], () => true),
  ),
  dockerRule(
    "zypper-clean",
    "low",
    "Run zypper clean after zypper install",
    "End the RUN with `&& zypper clean` (or mount a cache on /var/cache/zypp).",
    ["hadolint:DL3036"],
    (m) =>
      runs(m)
        .filter((i) => {
          const inst = calls(i, ["zypper"], ["install", "in"]);
          if (inst.length === 0 || mountsTarget(i, "/var/cache/zypp")) return false;
          const cleans = calls(i, ["zypper"], ["clean", "cc"]).map((c) => c.index);
          return !inst.every((c) => cleans.some((k) => k > c.index));
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "zypper-pin-versions",
    "low",
    "Pin versions in zypper install",
    "Use `zypper install name=version`.",
    ["hadolint:DL3037"],
    (m) =>
      perCall(m, ["zypper"], ["install", "in"], (rest) =>
        operands(rest).some((p) => !/[=<>]/.test(p) && !p.endsWith(".rpm")),
      ),
  ),
  dockerRule(
    "dnf-yes",
    "medium",
    "Use dnf install -y",
    "Add `-y` so the build does not wait for a confirmation.",
    ["hadolint:DL3038"],
    (m) =>
      perCall(
        m,
        ["dnf", "microdnf"],
        ["install", "in", "groupinstall", "reinstall"],
        (rest) => !hasFlag(rest, "-y", "--assumeyes"),
      ),
  ),
  dockerRule(
    "dnf-clean",
    "low",
    "Run dnf clean all after dnf install",
    "End the RUN with `&& dnf clean all` (or mount a cache on /var/cache/libdnf5).",
    ["hadolint:DL3040"],
    (m) =>
      runs(m)
        .filter((i) => {
          const inst = calls(
            i,
            ["dnf", "microdnf"],
            [
              "install",
              "in",
              "up",
              "upgrade",
              "update",
              "reinstall",
              "rei",
              "up-min",
              "upgrade-minimal",
              "groupinstall",
            ],
          );
          if (inst.length === 0 || mountsTarget(i, "/var/cache/libdnf5", "/var/cache/dnf", "/var/cache/yum"))
            return false;
          const cleans = calls(i, ["dnf", "microdnf"], ["clean"]).map((c) => c.index);
          const rmIdx = i.commands.findIndex(
            (c) =>
              commandName(c) === "rm" && c.argv.some((a) => /^\/var\/cache\/(?:yum|dnf|libdnf5)/.test(a)),
          );
          const last = inst[inst.length - 1] as { index: number };
          return !cleans.some((k) => k > last.index) && !(rmIdx > last.index);
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "yarn-cache-clean",
    "low",
    "Run yarn cache clean after yarn install",
    "End the RUN with `&& yarn cache clean` (or mount a cache on the yarn cache folder).",
    ["hadolint:DL3060"],
    (m) =>
      runs(m)
        .filter((i) => {
          const inst = calls(i, ["yarn"], ["install", "add"]);
          if (
            inst.length === 0 ||
            mountsTarget(i, "/root/.cache/yarn", "/usr/local/share/.cache/yarn", "/home/node/.cache/yarn")
          )
            return false;
          const cleans = calls(i, ["yarn"], ["cache"]).map((c) => c.index);
          const last = inst[inst.length - 1] as { index: number };
          return !cleans.some((k) => k > last.index);
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "go-pin-versions",
    "low",
    "Pin versions in go install/get/run",
    "Use `go install module/path@vX.Y.Z`, not `@latest` or no version.",
    ["hadolint:DL3062"],
    (m) =>
      runs(m)
        .filter((i) =>
          ["install", "get", "run"].some((sub) =>
            calls(i, ["go"], [sub]).some((c) => goUnpinned(sub, c.rest)),
          ),
        )
        .map((at) => ({ at })),
  ),
];

function goUnpinned(sub: string, rest: string[]): boolean {
  const ops = operands(rest, ["-tool", "-C", "-o", "-tags", "-ldflags", "-gcflags", "-modfile"]);
  const pkgs = (sub === "run" ? ops.slice(0, 1) : ops).concat(
    rest.includes("-tool") ? [rest[rest.indexOf("-tool") + 1] ?? ""] : [],
  );
  return pkgs.some((p) => {
    if (p === "" || p.startsWith(".") || p.startsWith("/") || p.endsWith(".go")) return false;
    if (!p.includes(".") && !p.includes("/")) return rest.includes("-tool") || !p.includes("@");
    const at = p.lastIndexOf("@");
    return at < 0 || p.slice(at + 1) === "latest";
  });
}
