import { useCallback, useEffect, useRef, useState } from "react";
import { get } from "./client.ts";

/** State of one GET request. */
export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Fetches again now. */
  reload: () => void;
}

/**
 * GETs `path` (skipped when `null`) and, with `pollMs`, again on that interval while
 * `poll` is true. Polling pauses while the tab is hidden so idle tabs cost nothing.
 */
export function useApi<T>(path: string | null, opts: { pollMs?: number; poll?: boolean } = {}): ApiState<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const lastPath = useRef(path);

  useEffect(() => {
    if (lastPath.current !== path) {
      lastPath.current = path;
      setData(undefined);
    }
    if (path === null) return;
    const ctl = new AbortController();
    setLoading(true);
    get<T>(path, ctl.signal)
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e : new Error(String(e)));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [path, tick]);

  const { pollMs, poll = true } = opts;
  useEffect(() => {
    if (!pollMs || !poll || path === null) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, pollMs);
    return () => window.clearInterval(id);
  }, [pollMs, poll, path, reload]);

  return { data, error, loading, reload };
}
