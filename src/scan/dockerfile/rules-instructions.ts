import path from "node:path";
import { lineage, type DInstr } from "./model.js";
import { dockerRule, each, type DockerRule } from "./rule.js";

const ARCHIVE = /\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|gz|bz2|xz|tar\.zst|zst)$/i;
const unquote = (s: string): string => s.replace(/^["']|["']$/g, "");

/** Source and destination words of COPY/ADD (JSON or shell form). */
function copyArgs(i: DInstr): string[] {
  if (i.json) return i.json;
  return (i.args.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map(unquote);
}

const isAbsolute = (p: string): boolean =>
  p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith("$") || p.startsWith("\\");

const SECRET_NAME =
  /(?:^|_)(?:PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY(?:_ID)?|PRIVATE_?KEY|CREDENTIALS?|AUTH)(?:$|_)/i;

/** ENV/ARG names with the value they assign, for both `K=V` and the legacy `K V` form. */
function assignments(i: DInstr): { name: string; value: string | undefined }[] {
  const out: { name: string; value: string | undefined }[] = [];
  if (!/=/.test(i.args.split(/\s/)[0] ?? "") && i.keyword === "ENV") {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(i.args.trim());
    if (m) return [{ name: m[1] as string, value: unquote((m[2] as string).trim()) }];
  }
  for (const m of i.args.matchAll(/([A-Za-z_][\w.-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g))
    out.push({ name: m[1] as string, value: m[2] === undefined ? undefined : unquote(m[2]) });
  return out;
}

/** COPY, ADD, WORKDIR, EXPOSE, CMD, ENV, LABEL, ONBUILD. */
export const INSTRUCTION_RULES: DockerRule[] = [
  dockerRule(
    "workdir-absolute",
    "medium",
    "Use an absolute WORKDIR",
    "Relative WORKDIRs depend on every earlier WORKDIR; write the full path.",
    ["hadolint:DL3000", "checkov:CKV_DOCKER_10"],
    (m) => each(m, "WORKDIR", (i) => !isAbsolute(unquote(i.args.trim()))),
  ),
  dockerRule(
    "copy-over-add",
    "medium",
    "Use COPY instead of ADD for files and folders",
    "ADD also fetches URLs and unpacks archives; COPY does only what it says. Use ADD only to extract a local tar archive.",
    ["hadolint:DL3020", "checkov:CKV_DOCKER_4"],
    (m) =>
      each(m, "ADD", (i) => {
        const a = copyArgs(i);
        return a
          .slice(0, -1)
          .some((src) => !/^(?:https?|git|ftp):\/\//i.test(src) && !/^git@/.test(src) && !ARCHIVE.test(src));
      }),
  ),
  dockerRule(
    "add-remote-url",
    "medium",
    "ADD fetches a URL without verifying it",
    "Download with `RUN curl -fsSLO <url> && echo '<sha256>  file' | sha256sum -c` (or `ADD --checksum=sha256:…`).",
    ["checkov:CKV_DOCKER_4"],
    (m) =>
      each(
        m,
        "ADD",
        (i) =>
          copyArgs(i)
            .slice(0, -1)
            .some((s) => /^(?:https?|ftp):\/\//i.test(s)) && !i.flags.some((f) => f.name === "checksum"),
      ),
  ),
  dockerRule(
    "copy-multiple-dest-slash",
    "high",
    "COPY with several sources needs a folder destination ending in /",
    "End the destination with `/`.",
    ["hadolint:DL3021"],
    (m) =>
      m.all
        .filter(
          (i) =>
            (i.keyword === "COPY" || i.keyword === "ADD") &&
            copyArgs(i).length > 2 &&
            !/[/\\]$/.test(copyArgs(i).at(-1) ?? ""),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "copy-from-unknown-stage",
    "high",
    "COPY --from names a stage that does not exist yet",
    "Refer to an earlier `FROM … AS name` (or its index), or to a full image reference.",
    ["hadolint:DL3022"],
    (m) =>
      each(m, "COPY", (i) => {
        const from = i.flags.find((f) => f.name === "from")?.value;
        if (from === undefined || from.includes(":") || from.includes("/") || from.includes("$"))
          return false;
        const earlier = m.stages.filter((s) => s.index < i.stage.index);
        if (/^\d+$/.test(from))
          return Number(from) >= i.stage.index || i.stage.index < 0 || earlier.length === 0;
        return !earlier.some((s) => s.alias?.toLowerCase() === from.toLowerCase());
      }),
  ),
  dockerRule(
    "copy-from-self",
    "high",
    "COPY --from cannot name its own stage",
    "Copy from an earlier stage.",
    ["hadolint:DL3023"],
    (m) =>
      each(m, "COPY", (i) => {
        const from = i.flags.find((f) => f.name === "from")?.value;
        return (
          from !== undefined &&
          i.stage.alias !== undefined &&
          from.toLowerCase() === i.stage.alias.toLowerCase()
        );
      }),
  ),
  dockerRule(
    "copy-root-to-root",
    "medium",
    "COPY --from=… / / copies a whole file system over the image",
    "Copy only the paths you need.",
    ["hadolint:DL3067"],
    (m) =>
      each(m, "COPY", (i) => {
        const a = copyArgs(i);
        return i.flags.some((f) => f.name === "from") && a.length === 2 && a[0] === "/" && a[1] === "/";
      }),
  ),
  dockerRule(
    "json-cmd",
    "medium",
    "Use the JSON form for CMD, ENTRYPOINT and HEALTHCHECK CMD",
    'Write `CMD ["executable", "arg"]` so the process gets signals directly instead of through `/bin/sh -c`.',
    ["hadolint:DL3025"],
    (m) =>
      m.all
        .filter((i) => {
          if (i.keyword === "CMD" || i.keyword === "ENTRYPOINT") return !i.json;
          if (i.keyword !== "HEALTHCHECK") return false;
          const cmd = /\bCMD\s+([\s\S]*)$/i.exec(i.args)?.[1];
          return cmd !== undefined && !cmd.trim().startsWith("[");
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "use-add-for-archives",
    "info",
    "Use ADD to extract a local archive",
    "`ADD archive.tar.gz /dest/` unpacks in one layer instead of COPY plus RUN tar.",
    ["hadolint:DL3010"],
    (m) =>
      m.all
        .filter((i) => i.keyword === "COPY" && !i.flags.some((f) => f.name === "from"))
        .filter((i) => {
          const archives = copyArgs(i)
            .slice(0, -1)
            .filter((s) => ARCHIVE.test(s));
          const dest = copyArgs(i).at(-1) ?? "";
          const names = [
            ...archives.map((a) => path.win32.basename(path.posix.basename(a))),
            ARCHIVE.test(dest) ? path.win32.basename(path.posix.basename(dest)) : "",
          ].filter(Boolean);
          return (
            names.length > 0 &&
            i.stage.instrs.some(
              (r) =>
                r.keyword === "RUN" &&
                r.line > i.line &&
                r.commands.some(
                  (c) =>
                    c.argv[0] === "tar" &&
                    c.argv.some((a) => /^-?[a-wyz]*x/.test(a)) &&
                    c.argv.some((a) => names.some((n) => path.win32.basename(path.posix.basename(a)) === n)),
                ),
            )
          );
        })
        .map((at) => ({ at })),
  ),
  dockerRule(
    "expose-valid-port",
    "high",
    "EXPOSE a valid port (0–65535)",
    "Fix the port number.",
    ["hadolint:DL3011"],
    (m) =>
      each(m, "EXPOSE", (i) =>
        i.args
          .split(/\s+/)
          .filter(Boolean)
          .some(
            (p) =>
              !p.includes("$") &&
              p
                .replace(/\/\w+$/, "")
                .split("-")
                .some((n) => !/^\d+$/.test(n) || Number(n) > 65535),
          ),
      ),
  ),
  dockerRule(
    "expose-ssh",
    "medium",
    "Port 22 (SSH) is exposed",
    "Do not run sshd in a container; use `docker exec`/`kubectl exec` to get a shell.",
    ["checkov:CKV_DOCKER_1"],
    (m) => each(m, "EXPOSE", (i) => i.args.split(/\s+/).some((p) => p.replace(/\/\w+$/, "") === "22")),
  ),
  dockerRule(
    "onbuild-forbidden",
    "high",
    "ONBUILD cannot trigger FROM, MAINTAINER or ONBUILD",
    "Remove the instruction from ONBUILD.",
    ["hadolint:DL3043"],
    (m) =>
      m.all
        .filter((i) => i.onbuild && ["FROM", "MAINTAINER", "ONBUILD"].includes(i.keyword))
        .map((at) => ({ at })),
  ),
  dockerRule(
    "env-self-reference",
    "medium",
    "ENV refers to a variable set in the same ENV",
    "The reference sees the old value; split it into two ENV instructions.",
    ["hadolint:DL3044"],
    (m) =>
      each(m, "ENV", (i) => {
        const set = new Set<string>();
        for (const a of assignments(i)) {
          const refs = [...(a.value ?? "").matchAll(/\$\{?([A-Za-z_]\w*)\}?/g)].map((x) => x[1] as string);
          if (refs.some((r) => set.has(r))) return true;
          set.add(a.name);
        }
        return false;
      }),
  ),
  dockerRule(
    "copy-relative-dest-no-workdir",
    "low",
    "COPY to a relative path without a WORKDIR",
    "Set `WORKDIR /app` first or use an absolute destination.",
    ["hadolint:DL3045"],
    (m) =>
      each(m, "COPY", (i) => {
        const dest = copyArgs(i).at(-1) ?? "";
        if (isAbsolute(dest) || dest.includes("$")) return false;
        return !lineage(i.stage).some((s) =>
          s.instrs.some((w) => w.keyword === "WORKDIR" && (s !== i.stage || w.line < i.line)),
        );
      }),
  ),
  dockerRule(
    "label-key-invalid",
    "low",
    "Invalid LABEL key",
    "Keys are lower-case reverse-DNS (`org.opencontainers.image.source`); `com.docker.*`, `io.docker.*` and `org.dockerproject.*` are reserved.",
    ["hadolint:DL3048"],
    (m) =>
      each(m, "LABEL", (i) =>
        [...i.args.matchAll(/(?:^|\s)("[^"]*"|[^\s=]+)\s*=/g)]
          .map((x) => unquote(x[1] as string))
          .some(
            (k) =>
              /^(?:com\.docker|io\.docker|org\.dockerproject)\./.test(k) ||
              !/^[a-z](?:[a-z0-9.-]*[a-z0-9])?$/.test(k) ||
              /\.\.|--/.test(k),
          ),
      ),
  ),
  dockerRule(
    "secret-in-env-or-arg",
    "high",
    "Secret passed through ENV or ARG",
    "ENV values and ARG values stay in the image history. Use `RUN --mount=type=secret,id=…` (BuildKit secrets) instead.",
    ["hadolint:DL3064"],
    (m) =>
      m.all
        .filter((i) => i.keyword === "ENV" || i.keyword === "ARG")
        .filter((i) =>
          assignments(i).some(
            (a) =>
              SECRET_NAME.test(a.name) &&
              (i.keyword === "ARG" || (a.value !== undefined && a.value !== "" && !a.value.startsWith("$"))),
          ),
        )
        .map((at) => ({ at })),
  ),
  dockerRule(
    "copy-sensitive-file",
    "high",
    "A key, credential or .env file is copied into the image",
    "Keep secrets out of the build context (`.dockerignore`) and mount them at build time with `RUN --mount=type=secret`.",
    [],
    (m) =>
      m.all
        .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
        .filter((i) =>
          copyArgs(i)
            .slice(0, -1)
            .some((s) =>
              /(?:^|\/)(?:id_rsa|id_dsa|id_ecdsa|id_ed25519|\.env|\.npmrc|\.pypirc|\.netrc|credentials(?:\.json)?|[^/]*\.pem|[^/]*\.key|[^/]*\.p12|[^/]*\.pfx)$/.test(
                s,
              ),
            ),
        )
        .map((at) => ({ at })),
  ),
];
