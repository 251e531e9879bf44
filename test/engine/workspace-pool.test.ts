import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { job, plan, run } from "./helpers.js";

/** A small project (read into memory, so its workspaces are kept for the next run). */
function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-pool-"));
  mkdirSync(path.join(dir, "src"));
  writeFileSync(path.join(dir, "src/a.txt"), "a\n");
  writeFileSync(path.join(dir, "tool.sh"), "#!/bin/sh\necho tool\n", { mode: 0o750 });
  writeFileSync(path.join(dir, "ro.txt"), "read only\n", { mode: 0o444 });
  return dir;
}

/** Runs `p` as run `id` of `projectDir`, with workspaces kept between runs as `gantry run` does. */
function runWithPool(projectDir: string, id: string, p: ReturnType<typeof plan>) {
  const state = path.join(projectDir, ".gantry");
  return run(p, {
    projectDir,
    runId: id,
    workspaceRoot: path.join(state, "builds", id),
    workspacePool: path.join(state, "builds", "idle"),
  });
}

const LIST = "find . | sort; cat src/a.txt; stat -c '%a %n' tool.sh ro.txt; stat -c 'inode %i' .";

describe("workspaces kept between runs", () => {
  it("gives a job its last run's folder back holding exactly the project's files", async () => {
    const dir = project();
    const first = await runWithPool(
      dir,
      "1",
      plan([
        job("build", {
          steps: [
            `${LIST}; echo out > out.txt; mkdir -p dist/x && echo y > dist/x/y; echo changed > src/a.txt`,
            "chmod 600 tool.sh; rm -f ro.txt; ln -s /etc/hostname ro.txt; mkdir src/more",
          ],
        }),
      ]),
    );
    expect(first.status).toBe("success");
    const inode = first.log("build").find((l) => l.startsWith("inode "));
    // What the job made is not kept.
    expect(readdirSync(path.join(dir, ".gantry/builds/idle/build")).sort()).toEqual(["src", "tool.sh"]);

    const second = await runWithPool(dir, "2", plan([job("build", { steps: [LIST] })]));
    expect(second.status).toBe("success");
    const log = second.log("build");
    expect(log).toEqual(
      expect.arrayContaining([
        ".",
        "./ro.txt",
        "./src",
        "./src/a.txt",
        "./tool.sh",
        "a",
        "750 tool.sh",
        "444 ro.txt",
      ]),
    );
    expect(log.filter((l) => l.startsWith("./"))).toHaveLength(4);
    expect(log).toContain(inode); // the same folder, not a new one
    // The project itself was never touched.
    expect(readFileSync(path.join(dir, "src/a.txt"), "utf8")).toBe("a\n");
  });

  it("picks up the project's edits and never writes through a hard link a job made", async () => {
    const dir = project();
    const outside = path.join(mkdtempSync(path.join(os.tmpdir(), "gantry-pool-out-")), "linked.txt");
    await runWithPool(dir, "1", plan([job("build", { steps: [`ln src/a.txt ${outside}`] })]));
    expect(readFileSync(outside, "utf8")).toBe("a\n");
    writeFileSync(path.join(dir, "src/a.txt"), "edited\n");
    writeFileSync(path.join(dir, "tool.sh"), "#!/bin/sh\necho new tool\n");
    const second = await runWithPool(dir, "2", plan([job("build", { steps: ["cat src/a.txt; ./tool.sh"] })]));
    expect(second.log("build")).toEqual(expect.arrayContaining(["edited", "new tool"]));
    expect(readFileSync(outside, "utf8")).toBe("a\n");
  });

  it("gives runs at once separate folders", async () => {
    const dir = project();
    const jobs = ["one", "two", "three"].map((id) =>
      job(id, { steps: [`ls; touch mine-$GANTRY_RUN_ID; sleep 0.2`] }),
    );
    await runWithPool(dir, "1", plan(jobs)); // fills the pool
    const [a, b] = await Promise.all([runWithPool(dir, "2", plan(jobs)), runWithPool(dir, "3", plan(jobs))]);
    for (const r of [a, b]) {
      expect(r.status).toBe("success");
      for (const id of ["one", "two", "three"]) expect(r.log(id).join(" ")).not.toMatch(/mine-/);
    }
    expect(existsSync(path.join(dir, ".gantry/builds/idle/one"))).toBe(true);
  });

  it("follows no symbolic link planted in the pool (a repository could bring one)", async () => {
    const victim = mkdtempSync(path.join(os.tmpdir(), "gantry-pool-victim-"));
    writeFileSync(path.join(victim, "precious.txt"), "keep me\n");
    // A link in place of a job's folder...
    const dir = project();
    mkdirSync(path.join(dir, ".gantry/builds/idle"), { recursive: true });
    symlinkSync(victim, path.join(dir, ".gantry/builds/idle/build"));
    const r = await runWithPool(dir, "1", plan([job("build", { steps: ["ls; touch made.txt"] })]));
    expect(r.status).toBe("success");
    expect(r.log("build")).not.toContain("precious.txt");
    // ...and in place of the pool itself.
    const other = project();
    mkdirSync(path.join(other, ".gantry/builds"), { recursive: true });
    mkdirSync(path.join(victim, "build"));
    writeFileSync(path.join(victim, "build/precious.txt"), "keep me too\n");
    symlinkSync(victim, path.join(other, ".gantry/builds/idle"));
    const r2 = await runWithPool(other, "1", plan([job("build", { steps: ["ls"] })]));
    expect(r2.status).toBe("success");
    expect(r2.log("build")).not.toContain("precious.txt");
    expect(readdirSync(victim).sort()).toEqual(["build", "precious.txt"]);
    expect(readdirSync(path.join(victim, "build"))).toEqual(["precious.txt"]);
  });

  it("keeps no folder for jobs the pipeline no longer has", async () => {
    const dir = project();
    await runWithPool(dir, "1", plan([job("old"), job("kept")]));
    expect(readdirSync(path.join(dir, ".gantry/builds/idle")).sort()).toEqual(["kept", "old"]);
    await runWithPool(dir, "2", plan([job("kept"), job("new")]));
    expect(readdirSync(path.join(dir, ".gantry/builds/idle")).sort()).toEqual(["kept", "new"]);
  });
});
