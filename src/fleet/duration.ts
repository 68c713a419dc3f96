// The one parser for plain durations on the command line ("90s", "30m", "12h", "7d", "2w").
// (Usage report ranges have calendar semantics of their own: src/fleet/usage/range.ts.)
import { UsageError } from '../errors.js';

const UNIT = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** "7d", "12h", "30m", "90s", "2w" -> seconds; null when s is not a duration. */
export function durationSeconds(s: string): number | null {
  const m = /^(\d+)\s*([smhdw])$/.exec(s.trim());
  return m ? Number(m[1]) * UNIT[m[2] as keyof typeof UNIT] : null;
}

export function parseDurationSeconds(v: string): number {
  const n = durationSeconds(v);
  if (n === null) throw new UsageError(`invalid duration "${v}"`, { hint: 'use a number and a unit: 30m, 12h, 7d, 2w' });
  return n;
}
