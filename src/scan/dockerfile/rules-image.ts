import { lineage, type DockerfileModel, type Stage } from "./model.js";
import { dockerRule, each, type DockerHit, type DockerRule } from "./rule.js";

const isVariable = (s: string): boolean => s.includes("$");

function isStageRef(model: DockerfileModel, stage: Stage): boolean {
  return (
    stage.parent !== undefined ||
    model.stages.some((s) => s.index < stage.index && s.alias?.toLowerCase() === stage.image.toLowerCase())
  );
}

/** The USER in effect at the end of a stage, following its base stages. */
function effectiveUser(stage: Stage): { user: string; at: Stage["instrs"][number] } | undefined {
  for (const s of lineage(stage)) {
    const users = s.instrs.filter((i) => i.keyword === "USER");
    const last = users[users.length - 1];
    if (last) return { user: last.args.trim(), at: last };
  }
  return undefined;
}

const FULL_BASES =
  /^(?:docker\.io\/)?(?:library\/)?(?:ubuntu|debian|centos|fedora|rockylinux|almalinux|amazonlinux|oraclelinux|node|python|ruby|golang|openjdk|eclipse-temurin|php|perl|rust|gcc|maven|gradle)$/;

/** Base images, stages and the final image's shape. */
export const IMAGE_RULES: DockerRule[] = [
  dockerRule(
    "pin-base-image",
    "medium",
    "Pin the base image to a tag or digest",
    "Write `FROM image:tag` (better `image:tag@sha256:…`) so builds are reproducible and reviewed when the base changes.",
    ["hadolint:DL3006", "checkov:CKV_DOCKER_7"],
    (m) =>
      m.stages
        .filter(
          (s) =>
            s.from &&
            s.tag === undefined &&
            s.digest === undefined &&
            s.image.toLowerCase() !== "scratch" &&
            !isVariable(s.image) &&
            !isStageRef(m, s),
        )
        .map((s) => ({
          at: s.from as NonNullable<Stage["from"]>,
          message: `Base image '${s.image}' has no tag or digest`,
        })),
  ),
  dockerRule(
    "no-latest-tag",
    "medium",
    "Do not use the latest tag",
    "`latest` moves; pin a version tag (and a digest) instead.",
    ["hadolint:DL3007", "checkov:CKV_DOCKER_7"],
    (m) =>
      m.stages
        .filter((s) => s.from && s.tag === "latest" && s.digest === undefined)
        .map((s) => ({ at: s.from as NonNullable<Stage["from"]> })),
  ),
  dockerRule(
    "last-user-root",
    "high",
    "The final image runs as root",
    "Add `USER <non-root user>` after the steps that need root; the last USER decides who runs the container.",
    ["hadolint:DL3002", "checkov:CKV_DOCKER_8"],
    (m) => {
      const last = m.stages[m.stages.length - 1];
      const u = last ? effectiveUser(last) : undefined;
      return u && /^(?:root|0)(?::.*)?$/.test(u.user) ? [{ at: u.at }] : [];
    },
  ),
  dockerRule(
    "no-user",
    "low",
    "The image never sets a non-root USER",
    "Create a user (`RUN useradd -r app`) and switch to it with `USER app` so the container does not run as root.",
    ["checkov:CKV_DOCKER_3"],
    (m) => {
      const last = m.stages[m.stages.length - 1];
      if (!last?.from || last.image.toLowerCase() === "scratch" || /distroless/.test(last.image)) return [];
      return effectiveUser(last) ? [] : [{ at: last.from }];
    },
  ),
  dockerRule(
    "healthcheck-missing",
    "low",
    "No HEALTHCHECK in the final image",
    "Add `HEALTHCHECK CMD <probe>` (or `HEALTHCHECK NONE` to say none is wanted) so the runtime can tell a hung container.",
    ["hadolint:DL3057", "checkov:CKV_DOCKER_2"],
    (m) => {
      const last = m.stages[m.stages.length - 1];
      if (!last?.from) return [];
      return lineage(last).some((s) => s.instrs.some((i) => i.keyword === "HEALTHCHECK"))
        ? []
        : [{ at: last.from }];
    },
  ),
  dockerRule(
    "multiple-healthchecks",
    "low",
    "Only one HEALTHCHECK per stage takes effect",
    "Keep a single HEALTHCHECK.",
    ["hadolint:DL3012"],
    (m) =>
      m.stages.flatMap((s) =>
        s.instrs
          .filter((i) => i.keyword === "HEALTHCHECK")
          .slice(1)
          .map((at) => ({ at })),
      ),
  ),
  dockerRule(
    "multiple-cmd",
    "medium",
    "Only the last CMD takes effect",
    "Keep one CMD per stage.",
    ["hadolint:DL4003"],
    (m) =>
      m.stages.flatMap((s) =>
        s.instrs
          .filter((i) => i.keyword === "CMD")
          .slice(1)
          .map((at) => ({ at })),
      ),
  ),
  dockerRule(
    "multiple-entrypoint",
    "medium",
    "Only the last ENTRYPOINT takes effect",
    "Keep one ENTRYPOINT per stage.",
    ["hadolint:DL4004"],
    (m) =>
      m.stages.flatMap((s) =>
        s.instrs
          .filter((i) => i.keyword === "ENTRYPOINT")
          .slice(1)
          .map((at) => ({ at })),
      ),
  ),
  dockerRule(
    "maintainer-deprecated",
    "low",
    "MAINTAINER is deprecated",
    'Use `LABEL org.opencontainers.image.authors="…"`.',
    ["hadolint:DL4000"],
    (m) => each(m, "MAINTAINER", () => true),
  ),
  dockerRule(
    "duplicate-stage-alias",
    "high",
    "Stage names must be unique",
    "Rename one of the stages: `FROM … AS <unique-name>`.",
    ["hadolint:DL3024", "checkov:CKV_DOCKER_11"],
    (m) =>
      m.stages
        .filter(
          (s, k) =>
            s.alias && m.stages.slice(0, k).some((o) => o.alias?.toLowerCase() === s.alias?.toLowerCase()),
        )
        .map((s) => ({ at: s.from as NonNullable<Stage["from"]> })),
  ),
  dockerRule(
    "stage-named-scratch",
    "medium",
    "Do not name a stage 'scratch'",
    "`scratch` is the empty image; pick another stage name.",
    ["hadolint:DL3063"],
    (m) =>
      m.stages
        .filter((s) => s.alias?.toLowerCase() === "scratch")
        .map((s) => ({ at: s.from as NonNullable<Stage["from"]> })),
  ),
  dockerRule(
    "redundant-platform",
    "low",
    "--platform=$TARGETPLATFORM is the default",
    "Drop the flag, or use `$BUILDPLATFORM` for cross-compiling stages.",
    ["hadolint:DL3065"],
    (m) =>
      m.stages
        .filter((s) => s.from && /^\$\{?TARGETPLATFORM\}?$/.test(s.platform ?? ""))
        .map((s) => ({ at: s.from as NonNullable<Stage["from"]> })),
  ),
  dockerRule(
    "hardcoded-platform",
    "low",
    "FROM --platform with a fixed platform",
    "Use `--platform=$BUILDPLATFORM` (or no flag) so the image builds for the requested platform.",
    ["hadolint:DL3029"],
    (m) =>
      m.stages
        .filter((s) => s.from && s.platform !== undefined && !s.platform.includes("$"))
        .map((s) => ({ at: s.from as NonNullable<Stage["from"]> })),
  ),
  dockerRule(
    "instruction-before-from",
    "high",
    "Only ARG may come before the first FROM",
    "Move the instruction into a stage.",
    ["hadolint:DL3061"],
    (m) => {
      const firstFrom = m.all.find((i) => i.keyword === "FROM");
      const hits: DockerHit[] = m.all
        .filter((i) => firstFrom && i.line < firstFrom.line && i.keyword !== "ARG")
        .map((at) => ({ at }));
      return hits;
    },
  ),
  dockerRule(
    "prefer-minimal-base",
    "info",
    "Consider a minimal base image",
    "Full distribution images carry shells, package managers and hundreds of packages you do not run. Prefer `-slim`, `-alpine`, distroless or a multi-stage build that copies only the artifact.",
    [],
    (m) => {
      const last = m.stages[m.stages.length - 1];
      if (!last?.from || m.stages.length > 1) return [];
      const tag = last.tag ?? "";
      return FULL_BASES.test(last.image) && !/slim|alpine|minimal|distroless|micro/.test(tag)
        ? [{ at: last.from, message: `Single-stage build on the full '${last.image}' image` }]
        : [];
    },
  ),
  dockerRule(
    "build-tools-in-final-image",
    "info",
    "Compilers in the final image: use a multi-stage build",
    "Build in one stage (`FROM … AS build`) and `COPY --from=build` only the output into a small runtime stage.",
    [],
    (m) => {
      if (m.stages.length !== 1) return [];
      const hit = m.all.find(
        (i) =>
          i.keyword === "RUN" &&
          /\b(?:build-essential|gcc|g\+\+|make|cmake|golang|maven|gradle|cargo|rustc)\b/.test(i.script) &&
          /\b(?:install|add)\b/.test(i.script),
      );
      return hit ? [{ at: hit }] : [];
    },
  ),
];
