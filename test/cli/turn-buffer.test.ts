import { describe, expect, it } from "vitest";
import { TurnBuffer } from "../../src/cli/render.js";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TurnBuffer (plain and --json output)", () => {
  it("writes what one turn produced as one write, in order, when the turn ends", async () => {
    const writes: string[] = [];
    const out = new TurnBuffer({ write: (s: string) => writes.push(s) });
    out.write("a\n");
    out.write("b\n");
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(["a\nb\n"]);
    out.write("c\n");
    await turn();
    expect(writes).toEqual(["a\nb\n", "c\n"]);
  });

  it("writes what is pending at once when flushed, and nothing twice", async () => {
    const writes: string[] = [];
    const out = new TurnBuffer({ write: (s: string) => writes.push(s) });
    out.write("summary\n");
    out.flush();
    expect(writes).toEqual(["summary\n"]);
    await turn();
    out.flush();
    expect(writes).toEqual(["summary\n"]);
  });
});
