import { memo, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from "react";
import type { LogStreamStatus } from "../../../src/server/api-types.ts";
import { download } from "../api/client.ts";
import { ansiSpans } from "./ansi.ts";
import type { LogLine, LogModel } from "./log-model.ts";
import { useLogStream } from "./use-log-stream.ts";
import { useRowsWindow } from "./use-rows-window.ts";

const ROW = 20;

/** Props of {@link LogViewer}. */
export interface LogViewerProps {
  jobId: number;
  /** The job may still write: start following the end. */
  live: boolean;
  onStatus?: (s: LogStreamStatus) => void;
}

/**
 * The job log: streamed over SSE, virtualised (only the rows on screen are in the DOM),
 * ANSI colours, collapsible sections, line links (`#L42`), search, follow and raw download.
 */
export default function LogViewer({ jobId, live, onStatus }: LogViewerProps) {
  const { model, version, ended, error } = useLogStream(jobId, onStatus);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(live);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const [target, setTarget] = useState<number | null>(() => lineFromHash());
  const searchRef = useRef<HTMLInputElement>(null);
  const userScroll = useRef(0);
  // The `#L` target already scrolled to: streaming must not pull the view back to it.
  const shownTarget = useRef<number | null>(null);
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  // `version` (from the stream) and local toggles both bump the model's own counter.
  const mv = Math.max(version, model.version);

  const rows = useMemo(() => model.visibleRows(), [model, mv]);
  const pending = model.pending;
  const count = (rows ? rows.length : model.lines.length) + (pending ? 1 : 0);
  const lineAt = (row: number): number => (rows ? (rows[row] ?? -1) : row);

  const win = useRowsWindow(scrollRef, count, ROW, 20);
  const { scrollTo } = win;

  const hits = useMemo(() => model.search(query), [model, query, mv]);

  // Follow the end as lines arrive.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, count]);

  // First rows on screen: mark it for the browser tests' time-to-first-paint measure.
  const marked = useRef(false);
  useEffect(() => {
    if (marked.current || model.lines.length === 0) return;
    marked.current = true;
    requestAnimationFrame(() => performance.mark("gantry:log-first-paint"));
  }, [model, mv]);

  useEffect(() => {
    if (ended) requestAnimationFrame(() => performance.mark("gantry:log-complete"));
  }, [ended]);

  // A `#L42` link: show that line once it has arrived.
  useEffect(() => {
    const onHash = () => {
      shownTarget.current = null;
      setTarget(lineFromHash());
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    if (target === null || target > model.lines.length || shownTarget.current === target) return;
    shownTarget.current = target;
    setFollow(false);
    model.reveal(target - 1);
    const rowsNow = model.visibleRows();
    const row = rowsNow ? lowerBound(rowsNow, target - 1) : target - 1;
    requestAnimationFrame(() => scrollTo(row, "center"));
  }, [target, model, mv, scrollTo]);

  const goToHit = (i: number) => {
    if (!hits.length) return;
    const n = ((i % hits.length) + hits.length) % hits.length;
    setCurrent(n);
    setFollow(false);
    const line = hits[n] ?? 0;
    model.reveal(line);
    const rowsNow = model.visibleRows();
    win.scrollTo(rowsNow ? lowerBound(rowsNow, line) : line, "center");
  };

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 2;
    const byUser = performance.now() - userScroll.current < 500;
    if (follow && !atEnd && byUser) setFollow(false);
    else if (!follow && atEnd && byUser && !ended) setFollow(true);
  };
  const markUser = () => {
    userScroll.current = performance.now();
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
      if (e.key === "/" && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        searchRef.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const currentLine = hits.length && current >= 0 ? hits[Math.min(current, hits.length - 1)] : undefined;
  const hitSet = useMemo(() => new Set(hits), [hits]);

  return (
    <section className="log" aria-label="Job log">
      <div className="log-toolbar" role="toolbar" aria-label="Log tools">
        <input
          ref={searchRef}
          type="search"
          className="log-search"
          placeholder="Search log ( / )"
          aria-label="Search log"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setCurrent(-1);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") goToHit(e.shiftKey ? (current < 0 ? -1 : current - 1) : current + 1);
            if (e.key === "Escape") setQuery("");
          }}
        />
        {query && (
          <span className="log-hits" aria-live="polite" data-testid="log-hits">
            {hits.length
              ? `${current >= 0 ? Math.min(current, hits.length - 1) + 1 : 0} / ${hits.length}`
              : "no match"}
          </span>
        )}
        <button
          type="button"
          onClick={() => goToHit(current < 0 ? -1 : current - 1)}
          disabled={!hits.length}
          aria-label="Previous match"
        >
          ↑
        </button>
        <button
          type="button"
          onClick={() => goToHit(current + 1)}
          disabled={!hits.length}
          aria-label="Next match"
        >
          ↓
        </button>
        <span className="spacer" />
        <span className="muted" data-testid="log-count">
          {model.lines.length.toLocaleString("en-US")} lines{ended ? "" : " · streaming"}
        </span>
        <button
          type="button"
          aria-pressed={follow}
          onClick={() => setFollow(!follow)}
          title="Keep the newest line in view"
        >
          {follow ? "Following" : "Follow"}
        </button>
        <button
          type="button"
          onClick={() => {
            setFollow(false);
            win.scrollTo(0);
          }}
        >
          Top
        </button>
        <button type="button" onClick={() => void download(`/api/v1/jobs/${jobId}/log`, `job-${jobId}.log`)}>
          Download raw
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div
        ref={scrollRef}
        className="log-scroll"
        data-testid="log"
        style={{
          ["--ln-width" as string]: `${String(model.lines.length).length + 2}ch`,
          // A short log gets a short box; a long one fills most of the screen.
          height: `min(70vh, ${Math.max(count, 5) * ROW + 24}px)`,
        }}
        tabIndex={0}
        onScroll={onScroll}
        onWheel={markUser}
        onTouchMove={markUser}
        onKeyDown={markUser}
        onPointerDown={markUser}
      >
        <div style={{ height: win.total, position: "relative" }}>
          {rowRange(win.start, win.end).map((r) => {
            const idx = lineAt(r);
            const line = model.lines[idx];
            return (
              <div
                key={line ? idx : "pending"}
                className="log-row-wrap"
                style={{ transform: `translateY(${r * ROW}px)` }}
              >
                {line ? (
                  <Row
                    line={line}
                    n={idx + 1}
                    model={model}
                    query={hitSet.has(idx) ? query : ""}
                    current={idx === currentLine}
                    target={idx + 1 === target}
                    collapsed={line.header >= 0 ? (model.sections[line.header]?.collapsed ?? false) : false}
                    onToggle={() => {
                      model.toggle(line.header);
                      setFollow(false);
                      setTarget(null);
                      rerender();
                    }}
                  />
                ) : (
                  <div className="log-row">
                    <span className="ln" />
                    <span className="lt">
                      <Spans raw={pending} query="" />
                    </span>
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}

interface RowProps {
  line: LogLine;
  n: number;
  model: LogModel;
  query: string;
  current: boolean;
  target: boolean;
  collapsed: boolean;
  onToggle: () => void;
}

const Row = memo(function Row({ line, n, model, query, current, target, collapsed, onToggle }: RowProps) {
  const section = line.header >= 0 ? model.sections[line.header] : undefined;
  const cls = [
    "log-row",
    section ? "log-header" : "",
    current ? "current" : "",
    target ? "target" : "",
    line.section >= 0 ? "in-section" : "",
  ];
  return (
    <div className={cls.filter(Boolean).join(" ")} data-line={n}>
      <a className="ln" href={`#L${n}`} id={`L${n}`} tabIndex={-1}>
        {n}
      </a>
      {section ? (
        <button
          type="button"
          className="toggle"
          aria-expanded={!collapsed}
          onClick={onToggle}
          aria-label={`${collapsed ? "Expand" : "Collapse"} section ${section.name}`}
        >
          {collapsed ? "▸" : "▾"}
        </button>
      ) : null}
      <span className="lt">
        <Spans raw={line.raw} query={query} />
      </span>
      {section && section.durationS !== null ? (
        <span className="section-time">{formatSeconds(section.durationS)}</span>
      ) : null}
    </div>
  );
});

function Spans({ raw, query }: { raw: string; query: string }) {
  const spans = ansiSpans(raw);
  const ranges = query ? matchRanges(spans.map((x) => x.text).join(""), query) : [];
  let at = 0;
  return (
    <>
      {spans.map((s, i) => {
        const start = at;
        at += s.text.length;
        return (
          <span
            key={i}
            className={s.className || undefined}
            style={s.color || s.background ? { color: s.color, background: s.background } : undefined}
          >
            {ranges.length ? marked(s.text, start, ranges) : s.text}
          </span>
        );
      })}
    </>
  );
}

/** Where `query` occurs in `text` (case-insensitive), as [start, end) pairs. */
function matchRanges(text: string, query: string): [number, number][] {
  const out: [number, number][] = [];
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  for (let i = lower.indexOf(q); i >= 0 && out.length < 100; i = lower.indexOf(q, i + q.length))
    out.push([i, i + q.length]);
  return out;
}

/** One span's text with the parts inside any match wrapped in `<mark>` (matches may cross spans). */
function marked(text: string, offset: number, ranges: [number, number][]): React.ReactNode[] {
  const parts: React.ReactNode[] = [];
  let pos = 0;
  for (const [a, b] of ranges) {
    const from = Math.max(a - offset, pos);
    const to = Math.min(b - offset, text.length);
    if (to <= from) continue;
    if (from > pos) parts.push(text.slice(pos, from));
    parts.push(<mark key={from}>{text.slice(from, to)}</mark>);
    pos = to;
  }
  parts.push(text.slice(pos));
  return parts;
}

function formatSeconds(s: number): string {
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

function lineFromHash(): number | null {
  const m = /^#L(\d+)$/.exec(window.location.hash);
  return m ? Number(m[1]) : null;
}

function lowerBound(arr: number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((arr[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, Math.max(0, arr.length - 1));
}

function rowRange(start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}
