import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { gantry, project } from "./helpers.js";

const PIPELINE = `deploy:
  rules:
    - if: $TARGET == "prod"
  script: [echo deploying to $TARGET]
build:
  script: [echo build on $CI_COMMIT_BRANCH]
`;

function git(dir: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir });
}

function entries(dir: string): string[] {
  const plans = path.join(dir, ".gantry/cache/plans");
  return existsSync(plans) ? readdirSync(plans).map((f) => path.join(plans, f)) : [];
}

describe("compiled GitLab pipelines kept between runs", () => {
  it("uses a kept compile only for the same text and git state, without --variable", async () => {
    const dir = project({ ".gitlab-ci.yml": PIPELINE });
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "first");

    const plain = await gantry(["run"], dir);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain("deploying");
    expect(plain.stdout).toContain("build > build on main");
    expect(entries(dir)).toHaveLength(1);
    const kept = readFileSync(entries(dir)[0]!, "utf8");
    // A --variable changes what rules decide: compiled afresh, and (a credential, maybe) not kept.
    const prod = await gantry(["run", "--variable", "TARGET=prod"], dir);
    expect(prod.stdout).toContain("deploy > deploying to prod");
    expect(readFileSync(entries(dir)[0]!, "utf8")).toBe(kept);
    expect(kept).not.toContain("prod");
    // Another branch: its own predefined variables.
    git(dir, "checkout", "-qb", "feature");
    expect((await gantry(["run"], dir)).stdout).toContain("build > build on feature");

    // The same inputs use the kept compile: an edited entry shows through...
    const [entry] = entries(dir);
    writeFileSync(entry!, readFileSync(entry!, "utf8").replaceAll("echo build on", "echo kept build on"));
    expect((await gantry(["run"], dir)).stdout).toContain("build > kept build on feature");
    // ...but not for another user (another cache salt), as for entries a repository brings along.
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), "gantry-salt-"));
    const other = await gantry(["run"], dir, { XDG_CACHE_HOME: elsewhere });
    expect(other.stdout).toContain("build > build on feature");
    expect(readFileSync(path.join(elsewhere, "gantry/cache-salt"), "utf8")).toMatch(/^[0-9a-f]{32}\n$/);
    // ...and an edited file is compiled again.
    writeFileSync(path.join(dir, ".gitlab-ci.yml"), PIPELINE.replace("build on", "built on"));
    expect((await gantry(["run"], dir)).stdout).toContain("build > built on feature");
  });

  it("keeps no compile that read other files or reported anything", async () => {
    const included = project({
      ".gitlab-ci.yml": "include: {local: more.yml}\njob:\n  script: [echo one]\n",
      "more.yml": "other:\n  script: [echo two]\n",
    });
    expect((await gantry(["run"], included)).stdout).toContain("other > two");
    expect(entries(included)).toEqual([]);
    writeFileSync(path.join(included, "more.yml"), "other:\n  script: [echo three]\n");
    expect((await gantry(["run"], included)).stdout).toContain("other > three");

    const warned = project({
      ".gitlab-ci.yml": "job:\n  script: [echo one]\n  release: {tag_name: v1, description: first}\n",
    });
    const first = await gantry(["run"], warned);
    expect(first.code).toBe(0);
    expect(first.stderr + first.stdout).toMatch(/release is not supported/);
    expect(entries(warned)).toEqual([]);
    // The warning is reported on every run.
    const again = await gantry(["run"], warned);
    expect(again.stderr + again.stdout).toMatch(/release is not supported/);
  });
});
