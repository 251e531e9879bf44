import { describe, expect, it } from "vitest";
import { checkDockerfile } from "../../src/scan/dockerfile/check.js";

const ids = (text: string, opts = {}) => checkDockerfile(text, "Dockerfile", opts).map((f) => f.ruleId);

describe("Dockerfile rules", () => {
  it("flags the usual mistakes of a naive Dockerfile, each once, with positions", () => {
    const text = [
      "FROM ubuntu",
      "MAINTAINER me@example.com",
      "ADD . /app",
      "RUN cd /app && sudo apt-get update && apt-get install python3",
      "ENV DB_PASSWORD=hunter22",
      "EXPOSE 22 70000",
      "CMD python3 app.py",
      "",
    ].join("\n");
    const found = checkDockerfile(text, "Dockerfile");
    const byRule = new Map(found.map((f) => [f.ruleId, f]));
    for (const id of [
      "pin-base-image",
      "maintainer-deprecated",
      "copy-over-add",
      "cd-in-run",
      "no-sudo",
      "apt-get-yes",
      "apt-no-install-recommends",
      "apt-pin-versions",
      "apt-lists-not-removed",
      "secret-in-env-or-arg",
      "expose-ssh",
      "expose-valid-port",
      "json-cmd",
      "healthcheck-missing",
      "no-user",
    ])
      expect(byRule.has(`dockerfile/${id}`), id).toBe(true);
    expect(byRule.get("dockerfile/no-sudo")).toMatchObject({ line: 4, column: 1, endLine: 4 });
    expect(byRule.get("dockerfile/secret-in-env-or-arg")?.severity).toBe("high");
  });

  it("a careful multi-stage Dockerfile passes", () => {
    const text = [
      "FROM golang:1.22-alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build",
      "WORKDIR /src",
      "COPY . .",
      "RUN go build -o /out/app ./cmd/app",
      "FROM gcr.io/distroless/static:nonroot",
      "COPY --from=build /out/app /app",
      "USER 65532:65532",
      'HEALTHCHECK CMD ["/app", "health"]',
      'ENTRYPOINT ["/app"]',
      "",
    ].join("\n");
    expect(ids(text, { hasDockerignore: true })).toEqual([]);
    expect(ids(text, { hasDockerignore: false })).toEqual(["dockerfile/dockerignore-missing"]);
  });

  it("honours # hadolint ignore= (hadolint codes and Gantry ids) and global ignores", () => {
    expect(
      ids("FROM debian:12\n# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y curl\n"),
    ).not.toContain("dockerfile/apt-pin-versions");
    expect(
      ids(
        "FROM debian:12\n# hadolint ignore=apt-pin-versions\nRUN apt-get install -y --no-install-recommends curl\n",
      ),
    ).not.toContain("dockerfile/apt-pin-versions");
    expect(ids("# hadolint global ignore=DL3057\nFROM debian:12\nUSER app\n")).not.toContain(
      "dockerfile/healthcheck-missing",
    );
    expect(ids("FROM debian:12\nRUN apt-get install -y curl\n")).toContain("dockerfile/apt-pin-versions");
  });

  it("parses heredocs and ONBUILD triggers", () => {
    expect(ids("FROM debian:12\nRUN <<EOF\nset -e\nsudo make install\nEOF\n")).toContain(
      "dockerfile/no-sudo",
    );
    expect(ids("FROM debian:12\nONBUILD RUN cd /x && make\n")).toContain("dockerfile/cd-in-run");
    expect(ids("FROM debian:12\nONBUILD FROM alpine\n")).toContain("dockerfile/onbuild-forbidden");
  });

  it("suggests layer caching and keeping data out of the image", () => {
    expect(ids("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n")).toContain(
      "dockerfile/copy-all-before-install",
    );
    expect(ids("FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n")).not.toContain(
      "dockerfile/copy-all-before-install",
    );
    expect(ids("FROM postgres:16\nCOPY dump.sql /docker-entrypoint-initdb.d/\n")).toContain(
      "dockerfile/data-in-image",
    );
  });

  it("knows that the last USER of the final stage decides, across stages", () => {
    expect(ids("FROM debian:12 AS base\nUSER root\nFROM base\nRUN true\n")).toContain(
      "dockerfile/last-user-root",
    );
    expect(ids("FROM debian:12 AS base\nUSER root\nFROM debian:12\nUSER app\n")).not.toContain(
      "dockerfile/last-user-root",
    );
  });
});
