import { describe, expect, it } from "vitest";
import { LogModel, stripAnsi } from "../../web/src/log/log-model.js";
import { ansiSpans, paletteColor } from "../../web/src/log/ansi.js";

const ESC = "\x1b";

describe("LogModel", () => {
  it("splits chunks into lines, keeping a partial last line until its newline arrives", () => {
    const m = new LogModel();
    m.append("one\ntw");
    expect(m.lines.map((l) => l.raw)).toEqual(["one"]);
    expect(m.pending).toBe("tw");
    m.append("o\r\nthree");
    expect(m.lines.map((l) => l.raw)).toEqual(["one", "two"]);
    m.finish();
    expect(m.lines.map((l) => l.raw)).toEqual(["one", "two", "three"]);
  });

  it("shows only what follows the last carriage return of a progress line", () => {
    const m = new LogModel();
    m.append("10%\r50%\r100%\n");
    expect(m.lines[0]?.raw).toBe("100%");
  });

  it("parses GitLab sections: header, nesting, collapsed default, duration, hidden markers", () => {
    const m = new LogModel();
    m.append(
      [
        "before",
        `${ESC}[0Ksection_start:1700000000:build[collapsed=true]\r${ESC}[0K${ESC}[36mBuilding${ESC}[0m`,
        "compile a",
        `${ESC}[0Ksection_start:1700000001:inner\r${ESC}[0KInner step`,
        "inner line",
        `${ESC}[0Ksection_end:1700000003:inner\r${ESC}[0K`,
        "compile b",
        `${ESC}[0Ksection_end:1700000042:build\r${ESC}[0K`,
        "after",
        "",
      ].join("\n"),
    );
    expect(m.lines.map((l) => l.plain)).toEqual([
      "before",
      "Building",
      "compile a",
      "Inner step",
      "inner line",
      "compile b",
      "after",
    ]);
    const [build, inner] = m.sections;
    expect(build).toMatchObject({
      name: "build",
      start: 1,
      end: 6,
      collapsed: true,
      parent: -1,
      durationS: 42,
    });
    expect(inner).toMatchObject({
      name: "inner",
      start: 3,
      end: 5,
      collapsed: false,
      parent: 0,
      durationS: 2,
    });
    expect(m.lines[1]?.header).toBe(0);
    expect(m.lines[4]?.section).toBe(1);
    // Collapsed: the header stays, its body is hidden.
    expect(m.visibleRows()).toEqual([0, 1, 6]);
    m.toggle(0);
    expect(m.visibleRows()).toBeNull();
    m.toggle(1, true);
    expect(m.visibleRows()).toEqual([0, 1, 2, 3, 5, 6]);
  });

  it("reveals a line by expanding every section around it", () => {
    const m = new LogModel();
    m.append(
      `section_start:1:a[collapsed=true]\rA\nsection_start:2:b[collapsed=true]\rB\nhidden\nsection_end:3:b\r\nsection_end:4:a\r\n`,
    );
    expect(m.visibleRows()).toEqual([0]);
    m.reveal(2);
    expect(m.visibleRows()).toBeNull();
  });

  it("searches the text without escape codes, case-insensitively", () => {
    const m = new LogModel();
    m.append(`ok\n${ESC}[31mERROR${ESC}[0m: disk\nerror again\n`);
    expect(m.search("error")).toEqual([1, 2]);
    expect(m.search("31m")).toEqual([]);
    expect(m.search("")).toEqual([]);
  });

  it("takes 100,000 lines in one pass quickly", () => {
    const m = new LogModel();
    const text = Array.from({ length: 100_000 }, (_, i) => `${ESC}[32mline ${i}${ESC}[0m`).join("\n") + "\n";
    const t = performance.now();
    m.append(text);
    const ms = performance.now() - t;
    expect(m.lines.length).toBe(100_000);
    expect(m.lines[99_999]?.plain).toBe("line 99999");
    expect(ms).toBeLessThan(2000);
  });
});

describe("ANSI rendering", () => {
  it("maps the 16 colours to theme classes and 256/true colours to inline styles", () => {
    expect(stripAnsi(`${ESC}[1;31mred${ESC}[0m`)).toBe("red");
    const spans = ansiSpans(
      `plain ${ESC}[1;31mred${ESC}[0m ${ESC}[38;5;196mpal${ESC}[0m ${ESC}[38;2;1;2;3mtrue`,
    );
    const red = spans.find((s) => s.text === "red");
    expect(red?.className).toContain("ansi-red-fg");
    expect(red?.className).toContain("ansi-bold");
    expect(spans.find((s) => s.text === "pal")?.color).toBe(paletteColor(196));
    expect(spans.find((s) => s.text === "true")?.color).toBe("rgb(1, 2, 3)");
    expect(spans.map((s) => s.text).join("")).toBe("plain red pal true");
  });

  it("computes the xterm palette", () => {
    expect(paletteColor(16)).toBe("rgb(0,0,0)");
    expect(paletteColor(196)).toBe("rgb(255,0,0)");
    expect(paletteColor(232)).toBe("rgb(8,8,8)");
  });
});
