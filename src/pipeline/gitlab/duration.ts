const UNITS: [RegExp, number][] = [
  [/^(s|sec|secs|second|seconds)$/, 1_000],
  [/^(m|min|mins|minute|minutes)$/, 60_000],
  [/^(h|hr|hrs|hour|hours)$/, 3_600_000],
  [/^(d|day|days)$/, 86_400_000],
  [/^(w|wk|wks|week|weeks)$/, 604_800_000],
  [/^(mo|mos|month|months)$/, 2_592_000_000],
  [/^(y|yr|yrs|year|years)$/, 31_536_000_000],
];

/**
 * Parses GitLab's human durations (`1h 30m`, `3 hours`, `90 minutes`, `1d`, `45`) into
 * milliseconds. A bare number is seconds. Returns undefined when the text is not a duration.
 */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const text = input
    .trim()
    .toLowerCase()
    .replace(/\band\b/g, " ")
    .replace(/,/g, " ");
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let pos = 0;
  let matched = false;
  for (;;) {
    while (pos < text.length && text[pos] === " ") pos++;
    if (pos >= text.length) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    const unit = UNITS.find(([u]) => u.test(m[2]!));
    if (!unit) return undefined;
    total += Number(m[1]) * unit[1];
    pos = re.lastIndex;
    matched = true;
  }
  return matched ? Math.round(total) : undefined;
}
