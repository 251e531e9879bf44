import tar from "tar-stream";

/** A tar stream holding one file, for `putArchive` (scripts too large for argv). */
export function tarOneFile(name: string, content: string, mode = 0o755): NodeJS.ReadableStream {
  const pack = tar.pack();
  pack.entry({ name, mode }, content);
  pack.finalize();
  return pack;
}
