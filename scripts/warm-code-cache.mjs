// Makes dist/gantry.cjs.cache: loads the single-file CLI without a cache, runs what users run
// most (validate each format, run a GitLab and a gantry.yml pipeline) in a scratch folder, then
// saves V8's code for every function compiled along the way. Run by scripts/bundle-cli.mjs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadBundle } from "../dist/cli/bundle-loader.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-warm-"));
const GITLAB = `stages: [build, test]
variables: { GREETING: hello }
build:
  stage: build
  script: [mkdir -p out, echo "$GREETING" > out/a.txt]
  artifacts: { paths: [out/] }
test:
  stage: test
  needs: [build]
  rules: [{ if: '$CI_COMMIT_BRANCH != "nope"' }]
  script: [cat out/a.txt]
`;
const JENKINSFILE = `pipeline {
  agent any
  environment { GREETING = 'hello' }
  stages {
    stage('Build') { steps { sh 'echo "$GREETING"' } }
    stage('Test') {
      when { branch 'main' }
      steps { echo 'testing' }
    }
  }
  post { always { echo 'done' } }
}
`;
writeFileSync(path.join(dir, ".gitlab-ci.yml"), GITLAB);
writeFileSync(path.join(dir, "Jenkinsfile"), JENKINSFILE);
writeFileSync(path.join(dir, "gantry.yml"), readFileSync(path.join(root, "examples/hello/gantry.yml")));
try {
  execFileSync("git", ["init", "-q"], { cwd: dir, stdio: "ignore" });
} catch {
  // Without git the runs still work (no CI_COMMIT_* values).
}

const bundle = loadBundle(path.join(root, "dist/gantry.cjs"), { useCache: false });
process.chdir(dir);
process.env.CI = "true";
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true; // the runs' own output is not wanted here
const failures = [];
for (const args of [
  ["validate", "--file", "gantry.yml"],
  ["validate", "--file", "Jenkinsfile"],
  ["validate", "--file", ".gitlab-ci.yml"],
  ["run", "--file", ".gitlab-ci.yml"],
  ["run", "--file", "gantry.yml"],
]) {
  const code = await bundle.cli.main(["node", "gantry", ...args]);
  if (code !== 0) failures.push(`gantry ${args.join(" ")} exited with ${code}`);
}
process.stdout.write = write;
process.exitCode = undefined;
process.chdir(root);
rmSync(dir, { recursive: true, force: true });
if (failures.length > 0) {
  // The build is still usable (without a cache, bin/gantry makes one on first use).
  process.stderr.write(`warm-code-cache: ${failures.join("; ")}; no code cache written\n`);
} else if (!bundle.writeCache()) {
  process.stderr.write("warm-code-cache: could not write dist/gantry.cjs.cache\n");
}
