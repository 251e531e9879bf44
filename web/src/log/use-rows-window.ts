import { useCallback, useLayoutEffect, useState, type RefObject } from "react";

/** The rows to render: `[start, end)` and the full height they would take. */
export interface RowsWindow {
  start: number;
  end: number;
  total: number;
  /** Scrolls so row `i` is at the top, centred or at the bottom. */
  scrollTo: (i: number, align?: "start" | "center" | "end") => void;
}

/**
 * Windowing for rows of one fixed height: which rows are on screen follows from `scrollTop`
 * by division, so a change of row count costs nothing however long the log is (general
 * virtualisers keep per-row measurements and walk them when the count changes, once a frame
 * while a log streams). Re-renders only when the visible range changes.
 */
export function useRowsWindow(
  ref: RefObject<HTMLElement | null>,
  count: number,
  rowHeight: number,
  overscan: number,
): RowsWindow {
  const [view, setView] = useState({ top: 0, height: 0 });

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    let frame = 0;
    const read = () => {
      frame = 0;
      setView((v) => {
        const top = el.scrollTop;
        const height = el.clientHeight;
        // Only a change of the first visible row or of the height matters.
        if (Math.floor(v.top / rowHeight) === Math.floor(top / rowHeight) && v.height === height) return v;
        return { top, height };
      });
    };
    const onScroll = () => {
      frame ||= requestAnimationFrame(read);
    };
    read();
    el.addEventListener("scroll", onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    return () => {
      el.removeEventListener("scroll", onScroll);
      ro.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [ref, rowHeight]);

  const first = Math.floor(view.top / rowHeight);
  const visible = Math.ceil(view.height / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.min(count, first + visible + overscan);

  const scrollTo = useCallback(
    (i: number, align: "start" | "center" | "end" = "start") => {
      const el = ref.current;
      if (!el) return;
      const y = i * rowHeight;
      el.scrollTop =
        align === "start"
          ? y
          : align === "end"
            ? y - el.clientHeight + rowHeight
            : y - (el.clientHeight - rowHeight) / 2;
    },
    [ref, rowHeight],
  );
  return { start, end, total: count * rowHeight, scrollTo };
}
