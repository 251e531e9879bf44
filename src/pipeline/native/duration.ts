const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A gantry.yml duration in milliseconds: a number is minutes (as Jenkins' `timeout(time: 5)`),
 * a string carries its unit (`90s`, `10m`, `1h`). `defaultUnit` changes what a bare number means.
 */
export function parseDuration(v: number | string, defaultUnit: "m" | "s" = "m"): number {
  if (typeof v === "number") return Math.round(v * UNITS[defaultUnit]!);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?\s*$/i.exec(v);
  if (!m) return NaN;
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? defaultUnit).toLowerCase()]!);
}
