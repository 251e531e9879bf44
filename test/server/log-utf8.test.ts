import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../../src/runner/agent.js";
import {
  databases,
  finishedPipeline,
  makeRepo,
  startRunner,
  testServer,
  type TestServer,
} from "./helpers.js";

const SEP = 256 * 1024; // the log stream's largest event, and about the runner's batch size

/**
 * ~2 MB of multi-byte text: lines of 2-, 3- and 4-byte characters, and one line of 70,000
 * emoji without a newline that is longer than the engine keeps in memory (64 Ki UTF-16 units),
 * starting one unit off so that the forced line cut falls between an emoji's two halves.
 */
function multiByteText(): string {
  const rows: string[] = [];
  for (let i = 0; i < 9000; i++) rows.push(`${i}:` + "é€😀中".repeat(20 + (i % 17)));
  rows.push("x" + "😀".repeat(70000));
  for (let i = 0; i < 3000; i++) rows.push("ß😀".repeat(30));
  return rows.join("\n") + "\n";
}
const expected = multiByteText();
// One write of the whole file: the pipe delivers it in pieces that cut characters too.
const GEN = `process.stdout.write(require("fs").readFileSync("expected.txt"));\n`;

interface Event {
  event: string;
  data: { offset: number; text: string; status?: string };
}

for (const kind of databases()) {
  describe(`UTF-8 logs on ${kind}`, () => {
    let s: TestServer;
    let agent: Agent;
    let loop: Promise<void>;
    let port: number;
    let jobId: number;
    let log: Buffer;

    beforeAll(async () => {
      s = await testServer(kind, { bodyLimit: 4 * 1024 * 1024 });
      ({ agent, loop, port } = await startRunner(s));
      const repo = makeRepo({
        "gen.js": GEN,
        "expected.txt": expected,
        ".gitlab-ci.yml": `talk:\n  script:\n    - '"${process.execPath}" gen.js'\n`,
      });
      expect((await s.call("POST", "/api/v1/projects", { body: { name: "utf", repo } })).status).toBe(201);
      const id = (await s.call("POST", "/api/v1/projects/utf/pipelines", { body: {} })).json.id as number;
      const p = await finishedPipeline(s, id, 60_000);
      expect(p.status).toBe("success");
      jobId = p.jobs[0].id;
      const r = await s.app.inject({
        method: "GET",
        url: `/api/v1/jobs/${jobId}/log`,
        headers: { authorization: `Bearer ${s.admin}` },
      });
      log = r.rawPayload;
    }, 90_000);
    afterAll(async () => {
      agent.stop(true);
      await loop;
      await s.close();
    });

    it("stores every batch as whole characters: the log is the job's output, no U+FFFD", async () => {
      const text = log.toString("utf8");
      expect(text).not.toContain("\uFFFD");
      // The over-long line reaches the log cut in two lines, each a valid string.
      expect(text.replace(/\n/g, "")).toContain(expected.replace(/\n/g, ""));
      expect(log.length).toBeGreaterThan(4 * SEP);
      const batches = await s.services.db.k
        .selectFrom("job_logs")
        .select(["seq", "data"])
        .where("job_id", "=", jobId)
        .orderBy("seq")
        .execute();
      expect(batches.length).toBeGreaterThan(2); // it did arrive in several batches
      for (const b of batches) expect(b.data).not.toContain("\uFFFD");
    });

    it("streams SSE pieces that never cut a character, with contiguous byte offsets", async () => {
      // The premise: a cut every 256 KiB would land inside a character somewhere.
      const cuts = [];
      for (let at = SEP; at < log.length; at += SEP) cuts.push((log[at]! & 0xc0) === 0x80);
      expect(cuts).toContain(true);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${jobId}/log/stream`, {
        headers: { authorization: `Bearer ${s.admin}` },
      });
      const events: Event[] = (await res.text())
        .split("\n\n")
        .filter((b) => b.startsWith("event:"))
        .map((b) => ({
          event: /^event: (\w+)/.exec(b)![1]!,
          data: JSON.parse(/\ndata: (.*)$/s.exec(b)![1]!),
        }));
      const logs = events.filter((e) => e.event === "log");
      expect(logs.length).toBeGreaterThan(4);
      let offset = 0;
      for (const e of logs) {
        expect(e.data.offset).toBe(offset);
        expect(e.data.text).not.toContain("\uFFFD");
        offset += Buffer.byteLength(e.data.text);
      }
      expect(offset).toBe(log.length);
      expect(logs.map((e) => e.data.text).join("")).toBe(log.toString("utf8"));
      expect(events[events.length - 1]!.event).toBe("end");

      // Resuming from an offset inside a character starts at the next whole one.
      const inside = log.indexOf(Buffer.from("😀")) + 1;
      const resumed = await fetch(
        `http://127.0.0.1:${port}/api/v1/jobs/${jobId}/log/stream?offset=${inside}`,
        {
          headers: { authorization: `Bearer ${s.admin}` },
        },
      );
      const first = /event: log\ndata: (.*)\n/.exec(await resumed.text())![1]!;
      const chunk = JSON.parse(first) as { offset: number; text: string };
      expect(chunk.offset).toBe(inside + 3);
      expect(chunk.text.startsWith("\uFFFD")).toBe(false);
    });

    it("answers byte ranges in whole characters and says which bytes in Content-Range", async () => {
      const emoji = log.indexOf(Buffer.from("😀"));
      const range = async (spec: string) => {
        const r = await s.app.inject({
          method: "GET",
          url: `/api/v1/jobs/${jobId}/log`,
          headers: { authorization: `Bearer ${s.admin}`, range: `bytes=${spec}` },
        });
        expect(r.statusCode).toBe(206);
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(r.headers["content-range"]))!;
        return { body: r.rawPayload, start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) };
      };
      // Starts and ends inside emoji: the answer starts after the first, stops before the last.
      const a = await range(`${emoji + 1}-${emoji + 4 * 3 + 1}`);
      expect(a.start).toBe(emoji + 4);
      expect(a.body.toString("utf8")).not.toContain("\uFFFD");
      expect(a.body.equals(log.subarray(a.start, a.end + 1))).toBe(true);
      expect(a.total).toBe(log.length);
      // The last n bytes, wherever they start.
      for (const n of [1, 2, 3, 5, 4097, SEP + 1]) {
        const t = await range(`-${n}`);
        expect(t.body.toString("utf8")).not.toContain("\uFFFD");
        expect(t.end).toBe(log.length - 1);
        expect(t.body.equals(log.subarray(t.start))).toBe(true);
      }
      // Every split of a window into two ranges reads back the same text.
      const base = emoji;
      for (let cut = base; cut < base + 9; cut++) {
        const left = await range(`${base}-${cut}`);
        const right = await range(`${left.end + 1}-${base + 40}`);
        expect(left.body.toString("utf8") + right.body.toString("utf8")).toBe(
          log.subarray(base, right.end + 1).toString("utf8"),
        );
      }
    });
  });
}
