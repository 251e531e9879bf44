import { randomBytes } from "node:crypto";
import fsSync, { promises as fs } from "node:fs";
import path from "node:path";
import dockerignore from "@balena/dockerignore";
import tarFs from "tar-fs";
import { ExecutorError } from "../executor.js";

/** A build context ready to send: the tar stream and the Dockerfile's name inside it. */
export interface BuildContext {
  tar: NodeJS.ReadableStream;
  dockerfile: string;
}

/**
 * Packs `contextDir` as the engine expects a build context, leaving out what `.dockerignore`
 * excludes (Docker's own matching rules, not gitignore's). The Dockerfile and `.dockerignore`
 * are always sent, as the docker CLI does; a Dockerfile outside the context is added under a
 * private name.
 */
export async function packBuildContext(contextDir: string, dockerfilePath: string): Promise<BuildContext> {
  const stat = await fs.stat(contextDir).catch(() => undefined);
  if (!stat?.isDirectory())
    throw new ExecutorError(`docker build context "${contextDir}" is not a directory`);
  const dockerfileText = await fs.readFile(dockerfilePath, "utf8").catch(() => undefined);
  if (dockerfileText === undefined) {
    throw new ExecutorError(
      `Dockerfile "${dockerfilePath}" not found`,
      "check the `dockerfile` path; it is relative to the workspace",
    );
  }
  const ignoreText = await fs.readFile(path.join(contextDir, ".dockerignore"), "utf8").catch(() => "");
  const rules = dockerignore.default({ ignorecase: false }).add(ignoreText);
  // With `!exceptions`, an ignored directory may still hold files to send, so it is walked.
  const hasExceptions = ignoreText.split(/\r?\n/).some((l) => l.trim().startsWith("!"));
  const relDockerfile = path.relative(contextDir, dockerfilePath);
  const inside = !relDockerfile.startsWith("..") && !path.isAbsolute(relDockerfile);
  const dockerfile = inside
    ? relDockerfile.split(path.sep).join("/")
    : `.gantry-dockerfile-${randomBytes(4).toString("hex")}`;
  const always = new Set([dockerfile, ".dockerignore"]);

  const tar = tarFs.pack(contextDir, {
    ignore: (name: string) => {
      const rel = path.relative(contextDir, name).split(path.sep).join("/");
      if (rel === "" || always.has(rel) || !rules.ignores(rel)) return false;
      if (!hasExceptions) return true;
      return !isDirectorySync(name);
    },
    finalize: inside,
    finish: inside
      ? undefined
      : (pack) => {
          pack.entry({ name: dockerfile, mode: 0o644 }, dockerfileText);
          pack.finalize();
        },
  });
  return { tar, dockerfile };
}

function isDirectorySync(p: string): boolean {
  try {
    return fsSync.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
