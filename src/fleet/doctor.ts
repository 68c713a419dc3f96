// doctor: reach both databases, report versions, charset and time zone, schema drift, the One API
// flavour found (and the legacy copy's vintage), where the logs are read and the cut-over.
import { sql } from 'kysely';
import type { Context } from '../context.js';
import { diffMysqlSchema, diffPgSchema, type Drift } from '../db/schema-ops.js';
import { SayclawError, firstLine } from '../errors.js';
import { plural } from '../output/format.js';

export interface DoctorCheck { check: string; status: 'ok' | 'fail' | 'warn'; detail: string }
export interface DoctorReport { checks: DoctorCheck[]; drift: Drift[]; unreachable: boolean; drifted: boolean }

/** The flavour row of a One API check as a doctor line; the rest of its notes stay in the drift list. */
function flavourCheck(d: Drift[], database: string): DoctorCheck | null {
  const f = d.find((x) => x.kind === 'flavour' && x.database === database);
  return f ? { check: `one api ${database}`, status: 'ok', detail: f.actual ?? '' } : null;
}

export async function runDoctor(ctx: Context): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const drift: Drift[] = [];
  let unreachable = false;
  const lc = ctx.loadedConfig();
  const cfg = lc.config;
  checks.push({ check: 'config', status: 'ok', detail: lc.file ? `${lc.file}${lc.profile ? ` (profile ${lc.profile})` : ''}` : 'no file; defaults and environment' });
  let mysqlOk = false;

  try {
    const { db, names } = await ctx.mysql();
    const r = await sql<{ v: string; cs: string; coll: string; tz: string; sys: string }>`
      SELECT VERSION() AS v, @@character_set_connection AS cs, @@collation_connection AS coll,
             @@session.time_zone AS tz, @@system_time_zone AS sys`.execute(db);
    const row = r.rows[0]!;
    checks.push({ check: 'mysql', status: 'ok', detail: `${cfg.mysql.user}@${cfg.mysql.host}:${cfg.mysql.port} ${row.v}` });
    checks.push({ check: 'mysql charset', status: row.cs === 'utf8mb4' ? 'ok' : 'fail', detail: `${row.cs} (${row.coll})` });
    checks.push({ check: 'mysql time zone', status: 'ok', detail: `session ${row.tz}, system ${row.sys}` });
    const d = await diffMysqlSchema(db, names);
    drift.push(...d);
    const logsDb = names.logs ?? names.oneapi;
    for (const key of ['admin', 'portal', 'oneapi'] as const) {
      const dbs = key === 'oneapi' ? [names.oneapi, logsDb] : [names[key]];
      const mine = d.filter((x) => dbs.includes(x.database) && x.failing);
      checks.push({ check: `schema ${names[key]}${key === 'oneapi' && logsDb !== names.oneapi ? ` (+ ${logsDb}.logs)` : ''}`, status: mine.length ? 'fail' : 'ok',
        detail: mine.length ? plural(mine.length, 'problem') : key === 'oneapi' ? 'the columns sayclaw reads are there' : 'matches' });
    }
    const f = flavourCheck(d, names.oneapi);
    if (f) checks.push(f);
    mysqlOk = true;
  } catch (err) {
    if (!(err instanceof SayclawError) || err.exitCode !== 5) throw err;
    unreachable = true;
    checks.push({ check: 'mysql', status: 'fail', detail: err.message });
  }

  if (cfg.usage.logsSource === 'mysql') {
    checks.push({ check: 'postgres', status: 'ok', detail: 'not used: usage.logsSource is mysql' });
  } else {
    try {
      const pg = await ctx.pg();
      const v = await sql<{ server_version: string }>`SHOW server_version`.execute(pg.db);
      const tz = await sql<{ TimeZone: string }>`SHOW TimeZone`.execute(pg.db);
      const enc = await sql<{ client_encoding: string }>`SHOW client_encoding`.execute(pg.db);
      checks.push({ check: 'postgres', status: 'ok', detail: `${cfg.postgres.user}@${cfg.postgres.host}:${cfg.postgres.port}/${cfg.postgres.database} ${v.rows[0]!.server_version}` });
      checks.push({ check: 'postgres encoding/tz', status: enc.rows[0]!.client_encoding === 'UTF8' ? 'ok' : 'fail', detail: `${enc.rows[0]!.client_encoding}, ${tz.rows[0]!.TimeZone}` });
      const d = await diffPgSchema(pg.db, cfg.postgres.database);
      drift.push(...d);
      const bad = d.filter((x) => x.failing).length;
      checks.push({ check: `schema postgres ${cfg.postgres.database}`, status: bad ? 'fail' : 'ok', detail: bad ? plural(bad, 'problem') : 'the columns sayclaw reads are there' });
      const f = flavourCheck(d, cfg.postgres.database);
      if (f) checks.push({ ...f, check: `one api postgres ${cfg.postgres.database}` });
    } catch (err) {
      if (!(err instanceof SayclawError) || err.exitCode !== 5) throw err;
      unreachable = true;
      checks.push({ check: 'postgres', status: 'fail', detail: firstLine(err.message) });
    }
  }
  if (mysqlOk) checks.push(...await logChecks(ctx));
  for (const x of drift.filter((d) => d.kind === 'unexpected_column')) {
    checks.push({ check: `${x.table}.${x.column}`, status: 'fail', detail: x.expected ?? '' });
  }
  return { checks, drift, unreachable, drifted: drift.some((d) => d.failing) };
}

/**
 * Where usage reads the logs and the cut-over; a warning when it rests on an empty MySQL table,
 * and when that table is empty although One API's tokens are in use (LOG_SQL_DSN elsewhere?).
 */
async function logChecks(ctx: Context): Promise<DoctorCheck[]> {
  const { readCutover } = await import('./usage/sources.js');
  const out: DoctorCheck[] = [];
  let c;
  try { c = await readCutover(ctx); } catch (err) {
    // a logs table that is not there is already in the drift list
    return [{ check: 'logs', status: 'fail', detail: firstLine((err as Error).message) }];
  }
  out.push({ check: 'logs', status: c.assumed ? 'warn' : 'ok', detail: c.how });
  if (ctx.config().usage.logsSource !== 'postgres') {
    const { db, names } = await ctx.mysql();
    const r = await sql<{ has_logs: number; used: number }>`SELECT
        EXISTS (SELECT 1 FROM ${sql.table('oneapi_logs.logs')}) AS has_logs,
        EXISTS (SELECT 1 FROM ${sql.table('oneapi.tokens')} WHERE used_quota > 0 OR accessed_time > 0) AS used`.execute(db).catch(() => null);
    const row = r?.rows[0];
    if (row && !Number(row.has_logs) && Number(row.used)) {
      out.push({ check: 'logs location', status: 'warn',
        detail: `${names.logs ?? names.oneapi}.logs is empty but One API tokens have been used: One API probably writes its logs elsewhere (LOG_SQL_DSN); set mysql.databases.logs or usage.logsSource` });
    }
  }
  return out;
}
