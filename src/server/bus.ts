import { EventEmitter } from "node:events";

/**
 * In-process notifications: new work for long-polling runners (`queue`) and changes of a
 * job for live log streams (`job:<id>`). Listeners also poll the database, so a second
 * server replica (which does not share this bus) is only slower, never wrong.
 */
export class Bus extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
  workAvailable(): void {
    this.emit("queue");
  }
  jobChanged(jobId: number): void {
    this.emit(`job:${jobId}`);
  }
}
