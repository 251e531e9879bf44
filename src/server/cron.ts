import { createHash } from "node:crypto";

const FIELDS: [min: number, max: number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];
const ALIASES: Record<string, string> = {
  "@hourly": "H * * * *",
  "@daily": "H H * * *",
  "@midnight": "H H(0-2) * * *",
  "@weekly": "H H * * H",
  "@monthly": "H H H * *",
  "@yearly": "H H H H *",
  "@annually": "H H H H *",
};

/**
 * Whether a cron spec (5 fields; Jenkins `H` hashes spread by `seed`; `@daily` style
 * aliases; several lines allowed) fires at the minute of `at` (UTC). Throws on a bad spec.
 */
export function cronMatches(spec: string, at: Date, seed: string): boolean {
  const lines = spec
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
  const now = [at.getUTCMinutes(), at.getUTCHours(), at.getUTCDate(), at.getUTCMonth() + 1, at.getUTCDay()];
  return lines.some((line) => {
    const fields = (ALIASES[line] ?? line).split(/\s+/);
    if (fields.length !== 5)
      throw new Error(`cron spec "${line}" must have 5 fields: minute hour day month weekday`);
    return fields.every((f, i) => fieldMatches(f, now[i]!, FIELDS[i]!, `${seed}:${i}`));
  });
}

function hash(seed: string, span: number): number {
  return createHash("sha256").update(seed).digest().readUInt32BE(0) % span;
}

function fieldMatches(field: string, value: number, [min, max]: [number, number], seed: string): boolean {
  return field.split(",").some((part) => {
    const m = /^(\*|H(?:\((\d+)-(\d+)\))?|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron field "${part}" is not valid`);
    const step = m[6] ? Number(m[6]) : undefined;
    if (step === 0) throw new Error(`cron step in "${part}" must be positive`);
    let lo = min;
    let hi = max;
    if (m[1]!.startsWith("H")) {
      if (m[2] !== undefined) [lo, hi] = [Number(m[2]), Number(m[3])];
      const offset = hash(seed, step ?? hi - lo + 1);
      if (step === undefined) return value === lo + offset;
      return value >= lo && value <= hi && (value - lo) % step === offset;
    }
    if (m[4] !== undefined) {
      lo = Number(m[4]);
      hi = m[5] !== undefined ? Number(m[5]) : step ? max : lo;
    }
    if (value < lo || value > hi) return false;
    return (value - lo) % (step ?? 1) === 0;
  });
}
