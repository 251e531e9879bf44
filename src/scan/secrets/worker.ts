import { parentPort, workerData } from "node:worker_threads";
import { readReused, scanBuffer } from "./scan-buffer.js";
import type { SecretFinding } from "./locate.js";

/** What the pool sends: files to scan. */
export interface WorkerInput {
  files: { abs: string; rel: string }[];
}

/** What a worker answers. */
export interface WorkerOutput {
  findings: SecretFinding[];
  bytes: number;
  binary: number;
  unreadable: number;
}

const input = workerData as WorkerInput;
const out: WorkerOutput = { findings: [], bytes: 0, binary: 0, unreadable: 0 };
for (const f of input.files) {
  let buf: Buffer;
  try {
    buf = readReused(f.abs);
  } catch {
    out.unreadable++;
    continue;
  }
  const r = scanBuffer(f.rel, buf);
  if (r.binary) out.binary++;
  else out.bytes += buf.length;
  out.findings.push(...r.findings);
}
parentPort?.postMessage(out);
