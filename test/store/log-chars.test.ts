import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { wholeChars } from "../../src/store/logs.js";

describe("wholeChars", () => {
  it("never cuts a character, stays within the asked range, and only grows a range inside one character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), fc.nat(300), fc.nat(300), (text, a, b) => {
        const buf = Buffer.from(text);
        const [start, end] = [Math.min(a, b) % (buf.length + 1), Math.max(a, b) % (buf.length + 1)];
        const r = wholeChars(buf, Math.min(start, end), Math.max(start, end));
        const piece = buf.subarray(r.start, r.end);
        // Decoding and encoding again is lossless only for whole characters.
        expect(Buffer.from(piece.toString("utf8")).equals(piece)).toBe(true);
        expect(r.start).toBeGreaterThanOrEqual(Math.min(start, end));
        expect(r.start - Math.min(start, end)).toBeLessThanOrEqual(3);
        if (r.end > Math.max(start, end)) expect(r.end - r.start).toBeLessThanOrEqual(4);
      }),
      { numRuns: 2000 },
    );
  });

  it("moves edges inside an emoji to the emoji's edges", () => {
    const buf = Buffer.from("a😀b");
    expect(wholeChars(buf, 2, 4)).toEqual({ start: 5, end: 6 }); // inside the emoji → "b"
    expect(wholeChars(buf, 0, 3)).toEqual({ start: 0, end: 1 }); // "a", not half an emoji
    expect(wholeChars(buf, 1, 2)).toEqual({ start: 1, end: 5 }); // one byte of it → the emoji
  });
});
