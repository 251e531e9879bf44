import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatDuration, liveDuration } from "../../web/src/components/format.js";

describe("formatting", () => {
  it("formats durations for people", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(120)).toBe("120ms");
    expect(formatDuration(5230)).toBe("5.2s");
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(185_000)).toBe("3m 5s");
    expect(formatDuration(3_720_000)).toBe("1h 2m");
  });

  it("counts a running job's time from its start, and keeps a finished one's", () => {
    const now = Date.parse("2026-01-01T00:01:00Z");
    expect(liveDuration(null, "2026-01-01T00:00:30Z", true, now)).toBe(30_000);
    expect(liveDuration(null, "2026-01-01T00:00:30Z", false, now)).toBeNull();
    expect(liveDuration(1234, "2026-01-01T00:00:30Z", true, now)).toBe(1234);
    expect(liveDuration(null, null, true, now)).toBeNull();
  });

  it("formats ages and sizes", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(formatAgo("2026-01-01T11:59:50Z", now)).toBe("just now");
    expect(formatAgo("2026-01-01T11:50:00Z", now)).toBe("10 min ago");
    expect(formatAgo("2026-01-01T09:00:00Z", now)).toBe("3 h ago");
    expect(formatAgo(null, now)).toBe("—");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });
});
