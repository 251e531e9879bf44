/**
 * The job log as the viewer sees it: lines parsed once as they arrive, with GitLab's
 * collapsible sections (`section_start:<unix>:<name>[collapsed=true]\r\e[0K<header>` …
 * `section_end:<unix>:<name>\r\e[0K`). ANSI colours stay in `raw` and are rendered only for
 * the rows on screen, so a 100,000-line log costs one pass over its text.
 *
 * This file has no imports so the Node tests can load it directly.
 */

/** One displayed line. */
export interface LogLine {
  /** The text with its ANSI codes (what is after the last `\r` of a progress line). */
  raw: string;
  /** The text without escape codes: what search looks at. */
  plain: string;
  /** Index into {@link LogModel.sections} of the innermost section holding it, or -1. */
  section: number;
  /** Index of the section this line is the header of, or -1. */
  header: number;
}

/** A collapsible section. */
export interface LogSection {
  name: string;
  /** Index of its header line. */
  start: number;
  /** Index of the first line after it; `null` while it is still open. */
  end: number | null;
  collapsed: boolean;
  /** Enclosing section's index, or -1. */
  parent: number;
  startedAt: number;
  /** Seconds between `section_start` and `section_end`, when both have a timestamp. */
  durationS: number | null;
}

// CSI sequences (colours, erase-line), OSC sequences (titles, links) and lone escapes.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g;
const START = /section_start:(\d+):([^\s[\r]+)(\[[^\]]*\])?\r?(.*)$/;
const END = /section_end:(\d+):([^\s\r]+)\r?(.*)$/;

/** Removes ANSI escape codes. */
export function stripAnsi(s: string): string {
  return s.includes("\x1b") ? s.replace(ESCAPES, "") : s;
}

/** The parsed log of one job attempt; feed it text with {@link LogModel.append}. */
export class LogModel {
  readonly lines: LogLine[] = [];
  readonly sections: LogSection[] = [];
  private partial = "";
  private open: number[] = [];
  private collapsedCount = 0;
  /** Bumped on every change, so views know when to re-render. */
  version = 0;

  /** Adds a chunk of log text; a trailing partial line waits for the next chunk. */
  append(text: string): void {
    if (!text) return;
    const all = this.partial + text;
    let start = 0;
    let nl: number;
    while ((nl = all.indexOf("\n", start)) >= 0) {
      this.addLine(all.slice(start, nl));
      start = nl + 1;
    }
    this.partial = all.slice(start);
    this.version++;
  }

  /** Ends the log: a last line without a newline becomes a line. */
  finish(): void {
    if (this.partial) {
      this.addLine(this.partial);
      this.partial = "";
      this.version++;
    }
  }

  /** The unfinished last line, shown as a line while streaming. */
  get pending(): string {
    return this.partial;
  }

  private addLine(line: string): void {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.includes("section_")) {
      const plain = stripAnsi(line);
      const s = START.exec(plain);
      if (s) {
        const opts = s[3] ?? "";
        const index = this.sections.length;
        const headerText = afterMarker(line);
        this.sections.push({
          name: s[2] ?? "",
          start: this.lines.length,
          end: null,
          collapsed: /collapsed=true/.test(opts),
          parent: this.open.at(-1) ?? -1,
          startedAt: Number(s[1]),
          durationS: null,
        });
        if (this.sections[index]?.collapsed) this.collapsedCount++;
        this.push(headerText || (s[2] ?? ""), index);
        this.open.push(index);
        return;
      }
      const e = END.exec(plain);
      if (e) {
        this.close(e[2] ?? "", Number(e[1]));
        const rest = afterMarker(line);
        if (stripAnsi(rest)) this.push(rest, -1);
        return;
      }
    }
    if (line.includes("\r")) line = line.slice(line.lastIndexOf("\r") + 1);
    this.push(line, -1);
  }

  private push(raw: string, header: number): void {
    const section = header >= 0 ? (this.sections[header]?.parent ?? -1) : (this.open.at(-1) ?? -1);
    this.lines.push({ raw, plain: stripAnsi(raw), section, header });
  }

  private close(name: string, at: number): void {
    // Close the named section and any left open inside it; an unknown name is ignored.
    const pos = this.open.map((i) => this.sections[i]?.name).lastIndexOf(name);
    if (pos < 0) return;
    for (const i of this.open.splice(pos)) {
      const s = this.sections[i];
      if (!s) continue;
      s.end = this.lines.length;
      if (Number.isFinite(at) && Number.isFinite(s.startedAt)) s.durationS = Math.max(0, at - s.startedAt);
    }
  }

  /** Collapses or expands a section. */
  toggle(index: number, collapsed?: boolean): void {
    const s = this.sections[index];
    if (!s) return;
    const next = collapsed ?? !s.collapsed;
    if (next === s.collapsed) return;
    s.collapsed = next;
    this.collapsedCount += next ? 1 : -1;
    this.version++;
  }

  /** Expands every section around a line, so it can be shown. */
  reveal(line: number): void {
    let s = this.lines[line]?.section ?? -1;
    while (s >= 0) {
      this.toggle(s, false);
      s = this.sections[s]?.parent ?? -1;
    }
  }

  /**
   * Indices of the lines to show, in order, or `null` when every line is shown (the common
   * case, which then costs nothing).
   */
  visibleRows(): number[] | null {
    if (this.collapsedCount === 0) return null;
    const rows: number[] = [];
    const n = this.lines.length;
    for (let i = 0; i < n; i++) {
      rows.push(i);
      const h = this.lines[i]?.header ?? -1;
      const s = h >= 0 ? this.sections[h] : undefined;
      if (s?.collapsed) i = (s.end ?? n) - 1;
    }
    return rows;
  }

  /** Lines whose text contains `query` (case-insensitive), in order. */
  search(query: string, limit = 10_000): number[] {
    if (!query) return [];
    const q = query.toLowerCase();
    const hits: number[] = [];
    for (let i = 0; i < this.lines.length && hits.length < limit; i++) {
      if (this.lines[i]?.plain.toLowerCase().includes(q)) hits.push(i);
    }
    return hits;
  }
}

function afterMarker(line: string): string {
  // The marker ends at the first carriage return; the header follows, minus the erase-line code.
  const cr = line.indexOf("\r");
  if (cr < 0) return "";
  return line.slice(cr + 1).replace(/^\x1b\[0?K/, "");
}
