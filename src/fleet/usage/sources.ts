// Where log rows live. usage.logsSource "split" (the default): the legacy PostgreSQL holds rows up
// to the cut-over, MySQL (mysql.databases.logs, else oneapi) the later ones. The cut-over is
// usage.legacyUntil (inclusive, unix seconds or ISO) or, when unset, one second before the first
// created_at in MySQL; when the MySQL table is empty that is an assumption (every row still in
// PostgreSQL), and the run says so on stderr. "mysql": MySQL only. "postgres": One API's
// LOG_SQL_DSN points at the configured PostgreSQL, which then holds every row.
// A range is split so no row counts twice, and PostgreSQL is only contacted when the range
// reaches back to it.
import { DateTime } from './luxon.js';
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { ConfigError } from '../../errors.js';

export interface SourceSplit {
  /** last created_at served by PostgreSQL (inclusive) */
  cutover: number;
  /** [from, to) for PostgreSQL, null when not needed */
  pg: { from: number; to: number } | null;
  /** [from, to) for MySQL, null when not needed */
  mysql: { from: number; to: number } | null;
  detected: boolean;
}

/** No legacy rows: everything counts as MySQL. */
const NO_LEGACY = Number.MIN_SAFE_INTEGER;
/** Everything is PostgreSQL's. */
const ALL_LEGACY = Number.MAX_SAFE_INTEGER;

export function parseLegacyUntil(v: number | string): number {
  if (typeof v === 'number') return v;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const d = DateTime.fromISO(v.trim(), { zone: 'UTC', setZone: true });
  if (!d.isValid) throw new ConfigError(`usage.legacyUntil "${v}" is neither unix seconds nor an ISO time`);
  return Math.floor(d.toSeconds());
}

export interface Cutover {
  cutover: number;
  detected: boolean;
  /** true when it rests on an empty MySQL logs table */
  assumed: boolean;
  /** one line: where the rows are read and why */
  how: string;
}

const cache = new WeakMap<Context, Promise<Cutover>>();

/** The cut-over; when it rests on an empty MySQL table, says so on stderr (once per run). */
export async function cutover(ctx: Context): Promise<Cutover> {
  const c = await readCutover(ctx);
  if (c.assumed) {
    ctx.warn(`${c.how} (set usage.legacyUntil, or usage.logsSource / mysql.databases.logs if One API writes its logs elsewhere with LOG_SQL_DSN)`);
  }
  return c;
}

/** The cut-over, read once per run, without a word (doctor reports it in its own rows). */
export function readCutover(ctx: Context): Promise<Cutover> {
  let p = cache.get(ctx);
  if (!p) {
    p = (async () => {
      const cfg = ctx.config();
      const names = cfg.mysql.databases;
      const logs = `${names.logs ?? names.oneapi}.logs`;
      if (cfg.usage.logsSource === 'postgres') {
        return { cutover: ALL_LEGACY, detected: false, assumed: false, how: `usage.logsSource is postgres: every log row is read from PostgreSQL ${cfg.postgres.database}.logs` };
      }
      if (cfg.usage.logsSource === 'mysql') {
        return { cutover: NO_LEGACY, detected: false, assumed: false, how: `usage.logsSource is mysql: every log row is read from MySQL ${logs}` };
      }
      if (cfg.usage.legacyUntil !== null) {
        const c = parseLegacyUntil(cfg.usage.legacyUntil);
        return { cutover: c, detected: false, assumed: false, how: `usage.legacyUntil: PostgreSQL up to ${iso(c)}, MySQL ${logs} after` };
      }
      const { db } = await ctx.mysql();
      const r = await sql<{ m: string | null }>`SELECT MIN(created_at) AS m FROM ${sql.table('oneapi_logs.logs')}`.execute(db);
      const m = r.rows[0]?.m;
      if (m === null || m === undefined) {
        // an empty table proves nothing: One API may write its logs elsewhere (LOG_SQL_DSN)
        return { cutover: ALL_LEGACY, detected: true, assumed: true, how: `MySQL ${logs} is empty: assuming every log row is still in the legacy PostgreSQL` };
      }
      const c = Number(m) - 1;
      return { cutover: c, detected: true, assumed: false, how: `detected: PostgreSQL up to ${iso(c)}, MySQL ${logs} from its first row at ${iso(c + 1)}` };
    })();
    cache.set(ctx, p);
  }
  return p;
}

const iso = (unix: number) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

export async function splitRange(ctx: Context, from: number, to: number): Promise<SourceSplit> {
  const c = await cutover(ctx);
  return splitAt(c.cutover, from, to, c.detected);
}

export function splitAt(cut: number, from: number, to: number, detected = false): SourceSplit {
  const pgTo = cut >= ALL_LEGACY ? to : Math.min(to, cut + 1);
  const myFrom = Math.max(from, cut + 1);
  return {
    cutover: cut,
    pg: cut !== NO_LEGACY && from < pgTo ? { from, to: pgTo } : null,
    mysql: cut < ALL_LEGACY && myFrom < to ? { from: myFrom, to } : null,
    detected,
  };
}
