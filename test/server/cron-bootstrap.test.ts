import { describe, expect, it } from "vitest";
import { cronMatches } from "../../src/server/cron.js";
import { bootstrapAdmin } from "../../src/server/server.js";
import { authenticate } from "../../src/store/accounts.js";
import { freshDb } from "../store/helpers.js";

const at = (iso: string) => new Date(iso);

describe("cron triggers", () => {
  it("matches 5-field specs, steps, ranges, lists and aliases in UTC", () => {
    expect(cronMatches("*/15 * * * *", at("2026-01-05T10:30:00Z"), "p")).toBe(true);
    expect(cronMatches("*/15 * * * *", at("2026-01-05T10:31:00Z"), "p")).toBe(false);
    expect(cronMatches("0 9-17 * * 1-5", at("2026-01-05T09:00:00Z"), "p")).toBe(true); // a Monday
    expect(cronMatches("0 9-17 * * 1-5", at("2026-01-04T09:00:00Z"), "p")).toBe(false); // a Sunday
    expect(cronMatches("5,10 0 1 1 *", at("2026-01-01T00:10:00Z"), "p")).toBe(true);
    expect(cronMatches("# nightly\n0 2 * * *", at("2026-03-03T02:00:00Z"), "p")).toBe(true);
  });

  it("spreads Jenkins H by the seed, stably, within the range", () => {
    const hits = (seed: string) =>
      Array.from({ length: 60 }, (_, m) => m).filter((m) =>
        cronMatches("H * * * *", new Date(Date.UTC(2026, 0, 1, 3, m)), seed),
      );
    expect(hits("a")).toHaveLength(1);
    expect(hits("a")).toEqual(hits("a"));
    const every15 = Array.from({ length: 60 }, (_, m) => m).filter((m) =>
      cronMatches("H/15 * * * *", new Date(Date.UTC(2026, 0, 1, 3, m)), "b"),
    );
    expect(every15).toHaveLength(4);
    expect(every15.map((m) => m % 15)).toEqual([
      every15[0]! % 15,
      every15[0]! % 15,
      every15[0]! % 15,
      every15[0]! % 15,
    ]);
  });

  it("rejects malformed specs", () => {
    expect(() => cronMatches("* * *", new Date(), "x")).toThrow(/5 fields/);
    expect(() => cronMatches("61x * * * *", new Date(), "x")).toThrow(/not valid/);
  });
});

describe("first admin", () => {
  it("is created once with a printed token, or with GANTRY_BOOTSTRAP_TOKEN", async () => {
    const f = await freshDb("sqlite");
    const printed = await bootstrapAdmin(f.db, {});
    expect(printed).toMatch(/^gty_/);
    expect((await authenticate(f.db, printed!))?.user).toMatchObject({ name: "admin", is_admin: 1 });
    expect(await bootstrapAdmin(f.db, {})).toBeUndefined();
    expect(
      await bootstrapAdmin(f.db, { GANTRY_BOOTSTRAP_TOKEN: "gty_from_env_0123456789abcdef" }),
    ).toBeUndefined();
    expect((await authenticate(f.db, "gty_from_env_0123456789abcdef"))?.user.name).toBe("admin");
    await f.drop();
  });
});
