// doctor: reach both databases, report versions, charset and time zone, and schema drift.
import { sql } from 'kysely';
import type { Context } from '../context.js';
import { diffMysqlSchema, diffPgSchema, type Drift } from '../db/schema-ops.js';
import { SayclawError, firstLine } from '../errors.js';
import { plural } from '../output/format.js';

export interface DoctorCheck { check: string; status: 'ok' | 'fail' | 'warn'; detail: string }
export interface DoctorReport { checks: DoctorCheck[]; drift: Drift[]; unreachable: boolean; drifted: boolean }

export async function runDoctor(ctx: Context): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const drift: Drift[] = [];
  let unreachable = false;
  const lc = ctx.loadedConfig();
  checks.push({ check: 'config', status: 'ok', detail: lc.file ? `${lc.file}${lc.profile ? ` (profile ${lc.profile})` : ''}` : 'no file; defaults and environment' });

  try {
    const { db, names } = await ctx.mysql();
    const r = await sql<{ v: string; cs: string; coll: string; tz: string; sys: string }>`
      SELECT VERSION() AS v, @@character_set_connection AS cs, @@collation_connection AS coll,
             @@session.time_zone AS tz, @@system_time_zone AS sys`.execute(db);
    const row = r.rows[0]!;
    checks.push({ check: 'mysql', status: 'ok', detail: `${lc.config.mysql.user}@${lc.config.mysql.host}:${lc.config.mysql.port} ${row.v}` });
    checks.push({ check: 'mysql charset', status: row.cs === 'utf8mb4' ? 'ok' : 'fail', detail: `${row.cs} (${row.coll})` });
    checks.push({ check: 'mysql time zone', status: 'ok', detail: `session ${row.tz}, system ${row.sys}` });
    const d = await diffMysqlSchema(db, names);
    drift.push(...d);
    for (const key of ['admin', 'portal', 'oneapi'] as const) {
      const mine = d.filter((x) => x.database === names[key] && x.failing);
      checks.push({ check: `schema ${names[key]}`, status: mine.length ? 'fail' : 'ok', detail: mine.length ? plural(mine.length, 'problem') : 'matches' });
    }
  } catch (err) {
    if (!(err instanceof SayclawError) || err.exitCode !== 5) throw err;
    unreachable = true;
    checks.push({ check: 'mysql', status: 'fail', detail: err.message });
  }

  try {
    const pg = await ctx.pg();
    const v = await sql<{ server_version: string }>`SHOW server_version`.execute(pg.db);
    const tz = await sql<{ TimeZone: string }>`SHOW TimeZone`.execute(pg.db);
    const enc = await sql<{ client_encoding: string }>`SHOW client_encoding`.execute(pg.db);
    checks.push({ check: 'postgres', status: 'ok', detail: `${lc.config.postgres.user}@${lc.config.postgres.host}:${lc.config.postgres.port}/${lc.config.postgres.database} ${v.rows[0]!.server_version}` });
    checks.push({ check: 'postgres encoding/tz', status: enc.rows[0]!.client_encoding === 'UTF8' ? 'ok' : 'fail', detail: `${enc.rows[0]!.client_encoding}, ${tz.rows[0]!.TimeZone}` });
    const d = await diffPgSchema(pg.db, lc.config.postgres.database);
    drift.push(...d);
    checks.push({ check: `schema postgres ${lc.config.postgres.database}`, status: d.some((x) => x.failing) ? 'fail' : 'ok', detail: d.length ? plural(d.length, 'problem') : 'matches' });
  } catch (err) {
    if (!(err instanceof SayclawError) || err.exitCode !== 5) throw err;
    unreachable = true;
    checks.push({ check: 'postgres', status: 'fail', detail: firstLine(err.message) });
  }
  for (const x of drift.filter((d) => d.kind === 'unexpected_column')) {
    checks.push({ check: `${x.table}.${x.column}`, status: 'fail', detail: x.expected ?? '' });
  }
  return { checks, drift, unreachable, drifted: drift.some((d) => d.failing) };
}
