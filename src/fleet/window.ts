// An optional time window for list and history verbs (audit, jobs, timelines): --since/--until
// read by the usage verbs' one parser (src/fleet/usage/range.ts), but unbounded on a side that
// was not given, so `audit ls` with no flags means "the newest rows", not "today".
import { assertZone, parseRange } from './usage/range.js';

export interface TimeWindow {
  /** inclusive */
  from?: Date;
  /** exclusive */
  to?: Date;
}

export function timeWindow(opts: { since?: string; until?: string }, zone: string, now: Date): TimeWindow {
  assertZone(zone);
  if (opts.since === undefined && opts.until === undefined) return {};
  const r = parseRange({ since: opts.since ?? '@0', until: opts.until }, zone, now);
  const w: TimeWindow = {};
  if (opts.since !== undefined) w.from = new Date(r.from * 1000);
  // a range that runs to "now" (whole seconds) stays open: rows written this very second count
  if (opts.until !== undefined || r.to < Math.floor(now.getTime() / 1000)) w.to = new Date(r.to * 1000);
  return w;
}
