import os from "node:os";
import { Worker } from "node:worker_threads";
import type { ScanFile } from "../files.js";
import type { SecretFinding } from "./locate.js";
import { readReused, scanBuffer } from "./scan-buffer.js";
import type { WorkerInput, WorkerOutput } from "./worker.js";

/** Totals and findings of a secrets scan over files. */
export interface SecretFilesResult {
  findings: SecretFinding[];
  scannedFiles: number;
  scannedBytes: number;
  binary: number;
  unreadable: number;
}

/** Below this many bytes a worker costs more than it saves. */
const PARALLEL_THRESHOLD = 4 * 1024 * 1024;

/**
 * Scans files for secrets. Large sets are split over threads (one per core, at most 4): this
 * thread scans one share while worker threads, each with its own compiled rules, scan the
 * others. Small sets run inline.
 */
export async function scanFilesForSecrets(
  files: readonly ScanFile[],
  opts: { workers?: number } = {},
): Promise<SecretFilesResult> {
  const total = files.reduce((a, f) => a + f.size, 0);
  const explicit =
    opts.workers ?? (process.env.GANTRY_SCAN_WORKERS ? Number(process.env.GANTRY_SCAN_WORKERS) : undefined);
  const wanted = explicit ?? autoWorkers();
  // Workers load compiled JS; when running from TypeScript sources (tests, tsx) scan inline.
  if (wanted <= 1 || total < PARALLEL_THRESHOLD || files.length < 2 || import.meta.url.endsWith(".ts"))
    return scanInline(files);
  // Greedy split by size so the workers finish together.
  const parts: { files: ScanFile[]; bytes: number }[] = Array.from({ length: wanted }, () => ({
    files: [],
    bytes: 0,
  }));
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const p = parts.reduce((m, x) => (x.bytes < m.bytes ? x : m));
    p.files.push(f);
    p.bytes += f.size;
  }
  const [own, ...others] = parts.filter((p) => p.files.length > 0);
  const pending = others.map((p) => runWorker({ files: p.files.map((f) => ({ abs: f.abs, rel: f.rel })) }));
  // The workers run in their own threads; meanwhile this thread scans its own share.
  const mine = scanInline(own?.files ?? []);
  const outputs = await Promise.all(pending);
  const result: SecretFilesResult = {
    findings: [...mine.findings],
    scannedFiles: 0,
    scannedBytes: mine.scannedBytes,
    binary: mine.binary,
    unreadable: mine.unreadable,
  };
  for (const o of outputs) {
    result.findings.push(...o.findings);
    result.scannedBytes += o.bytes;
    result.binary += o.binary;
    result.unreadable += o.unreadable;
  }
  result.scannedFiles = files.length - result.binary - result.unreadable;
  return result;
}

/**
 * One thread per idle core (at most 4). Each worker costs its own start-up and JIT warm-up, which
 * pays off only when cores are free: on a machine already busier than its core count (as
 * `make -l` reasons) a single thread finishes sooner and uses less CPU.
 */
function autoWorkers(): number {
  const cores = os.availableParallelism();
  const idle = Math.floor(cores - (os.loadavg()[0] ?? 0));
  return Math.max(1, Math.min(4, cores, idle));
}

function scanInline(files: readonly ScanFile[]): SecretFilesResult {
  const result: SecretFilesResult = {
    findings: [],
    scannedFiles: 0,
    scannedBytes: 0,
    binary: 0,
    unreadable: 0,
  };
  for (const f of files) {
    let buf: Buffer;
    try {
      buf = readReused(f.abs);
    } catch {
      result.unreadable++;
      continue;
    }
    const r = scanBuffer(f.rel, buf);
    result.findings.push(...r.findings);
    if (r.binary) result.binary++;
    else {
      result.scannedFiles++;
      result.scannedBytes += buf.length;
    }
  }
  return result;
}

function runWorker(input: WorkerInput): Promise<WorkerOutput> {
  const url = new URL("./worker.js", import.meta.url);
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData: input });
    w.once("message", (m: WorkerOutput) => resolve(m));
    w.once("error", reject);
    w.once("exit", (code) => {
      if (code !== 0) reject(new Error(`secret scan worker exited with code ${code}`));
    });
  });
}
