// Where log rows live: the legacy PostgreSQL holds rows up to the cut-over, MySQL the later
// ones. The cut-over is usage.legacyUntil (inclusive, unix seconds or ISO) or, when unset,
// one second before the first created_at in MySQL. A range is split so no row counts twice,
// and PostgreSQL is only contacted when the range reaches back to it.
import { DateTime } from 'luxon';
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { ConfigError } from '../../errors.js';

export interface SourceSplit {
  /** last created_at served by PostgreSQL (inclusive); null when MySQL has no rows and no config */
  cutover: number;
  /** [from, to) for PostgreSQL, null when not needed */
  pg: { from: number; to: number } | null;
  /** [from, to) for MySQL, null when not needed */
  mysql: { from: number; to: number } | null;
  detected: boolean;
}

/** No rows anywhere yet: everything counts as MySQL. */
const NO_LEGACY = Number.MIN_SAFE_INTEGER;

export function parseLegacyUntil(v: number | string): number {
  if (typeof v === 'number') return v;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const d = DateTime.fromISO(v.trim(), { zone: 'UTC', setZone: true });
  if (!d.isValid) throw new ConfigError(`usage.legacyUntil "${v}" is neither unix seconds nor an ISO time`);
  return Math.floor(d.toSeconds());
}

const cache = new WeakMap<Context, Promise<{ cutover: number; detected: boolean }>>();

export function cutover(ctx: Context): Promise<{ cutover: number; detected: boolean }> {
  let p = cache.get(ctx);
  if (!p) {
    p = (async () => {
      const cfg = ctx.config().usage.legacyUntil;
      if (cfg !== null) return { cutover: parseLegacyUntil(cfg), detected: false };
      const { db } = await ctx.mysql();
      const r = await sql<{ m: string | null }>`SELECT MIN(created_at) AS m FROM ${sql.table('oneapi.logs')}`.execute(db);
      const m = r.rows[0]?.m;
      // MySQL empty: nothing has moved yet, so all history is still in PostgreSQL
      return { cutover: m === null || m === undefined ? Number.MAX_SAFE_INTEGER : Number(m) - 1, detected: true };
    })();
    cache.set(ctx, p);
  }
  return p;
}

export async function splitRange(ctx: Context, from: number, to: number): Promise<SourceSplit> {
  const c = await cutover(ctx);
  return splitAt(c.cutover, from, to, c.detected);
}

export function splitAt(cut: number, from: number, to: number, detected = false): SourceSplit {
  const pgTo = Math.min(to, cut + 1);
  const myFrom = Math.max(from, cut + 1);
  return {
    cutover: cut,
    pg: cut !== NO_LEGACY && from < pgTo ? { from, to: pgTo } : null,
    mysql: myFrom < to ? { from: myFrom, to } : null,
    detected,
  };
}
