import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// Fake credentials are assembled at run time so that no token-shaped literal sits in the repository.
const ALNUM = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zC7";

/** A GitHub personal access token shape (ghp_ + 36 alphanumerics). */
export const GITHUB_PAT = `ghp${"_"}${ALNUM.slice(0, 36)}`;
/** A Slack bot token shape. */
export const SLACK_BOT = `xox${"b"}-123456789012-1234567890123-${ALNUM.slice(0, 24)}`;
/** A SonarQube user token shape (squ_ + 40 hex). */
export const SONAR_TOKEN = `sq${"u"}_${"4f2a9c1e7b3d5a8f0c6e".repeat(2)}`;
/** An AWS access key id shape. */
export const AWS_KEY_ID = `AKI${"A"}${"QZ7XW3RT5YU2PL6M"}`;

/** A temporary folder with the given files. */
export function tree(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-scan-"));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** Runs real git in `dir`. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync(
    "git",
    [
      "-c",
      "user.name=Gantry Test",
      "-c",
      "user.email=test@gantry.invalid",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    { cwd: dir, encoding: "utf8" },
  );
}
