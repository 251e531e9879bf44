import type { Logger } from "pino";
import type { Db } from "../store/schema.js";
import type { Bus } from "./bus.js";
import type { Metrics } from "./metrics.js";
import type { PipelineStarter } from "./pipeline-starter.js";
import type { AuthCache } from "./auth.js";

/** Settings of a server instance. */
export interface ServerConfig {
  /** Folder for the SQLite database, repository mirrors, artifacts, caches and the secret key. */
  dataDir: string;
  /** How long a runner's lease lasts without a heartbeat. */
  leaseMs: number;
  /** Longest long-poll for `lease`. */
  maxLeaseWaitMs: number;
  /** When set, `/metrics` requires `Authorization: Bearer <this>`. */
  metricsToken?: string;
  /** Base URL printed in `CI_SERVER_URL`. */
  publicUrl: string;
  version: string;
  /** Largest JSON body (413 above). */
  bodyLimit: number;
  /** Largest artifact file upload. */
  artifactLimit: number;
  /** How long artifacts are kept when the pipeline says nothing (`expire_in`); absent: forever. */
  defaultArtifactExpiryMs?: number;
}

/** Everything route handlers share. */
export interface Services {
  db: Db;
  cfg: ServerConfig;
  bus: Bus;
  metrics: Metrics;
  log: Logger;
  secretKey: Buffer;
  starter: PipelineStarter;
  /** Cached identities; every write to users, tokens, members or projects calls `auth.invalidate()`. */
  auth: AuthCache;
  /** Secret values handed to each running job, masked again when its log arrives. */
  jobSecrets: Map<number, Set<string>>;
}
