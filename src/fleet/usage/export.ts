// usage export: aggregates (computed in SQL by report.ts) or raw log rows, streamed to stdout
// or a file as CSV, JSON, NDJSON or a Prometheus textfile. Raw rows are read with server-side
// streaming (mysql2 row stream, pg-cursor) and written with backpressure: memory stays flat.
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { InterruptedError } from '../../errors.js';
import { attributedFrom, tokenMap, UNMAPPED_ATTRIBUTION, NO_DEPARTMENT } from './mapping.js';
import { costUsd } from './money.js';
import { aggregateUsage, type UsageQuery } from './report.js';
import { encoder, openSink, type Cell, type DataFormat } from './sink.js';
import { splitRange } from './sources.js';
import { prometheusText } from './prometheus.js';

export type ExportFormat = DataFormat | 'prometheus';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'ndjson', 'prometheus'];

export interface ExportRequest extends UsageQuery {
  raw: boolean;
  format: ExportFormat;
  out?: string;
}

export interface ExportResult { rows: number; path: string | null; sources: string[] }

export const RAW_COLUMNS = ['source', 'id', 'created_at', 'type', 'token_name', 'instance_id', 'user_id', 'user_email', 'department',
  'model_name', 'channel_id', 'prompt_tokens', 'completion_tokens', 'quota', 'cost_usd'] as const;

const CHUNK = 2000;

export async function exportUsage(ctx: Context, req: ExportRequest): Promise<ExportResult> {
  if (req.format === 'prometheus') {
    const res = await aggregateUsage(ctx, { ...req, by: undefined, groups: ['department', 'model'] });
    const text = prometheusText(res.rows, { range: req.range, now: ctx.clock(), types: req.types });
    const sink = openSink(ctx, req.out);
    try { await sink.write(text); await sink.commit(); } catch (e) { await sink.abort(); throw e; }
    return { rows: res.rows.length, path: sink.path, sources: sourcesOf(res.split) };
  }
  if (!req.raw) {
    // aggregate first (both databases), then open the output: a failed query leaves no file
    const res = await aggregateUsage(ctx, req);
    const enc = encoder(req.format, res.columns);
    const sink = openSink(ctx, req.out);
    try {
      await sink.write(enc.head());
      for (const r of res.rows) await sink.write(enc.row(res.columns.map((c) => r[c] ?? null)));
      await sink.write(enc.tail());
      await sink.commit();
    } catch (e) { await sink.abort(); throw e; }
    return { rows: res.rows.length, path: sink.path, sources: sourcesOf(res.split) };
  }
  return exportRaw(ctx, req);
}

function sourcesOf(split: { pg: unknown; mysql: unknown }): string[] {
  return [...(split.pg ? ['postgresql'] : []), ...(split.mysql ? ['mysql'] : [])];
}

/** created_at as ISO 8601 with the zone's offset; the offset is looked up once per hour. */
function isoFormatter(zone: string) {
  const offsets = new Map<number, { ms: number; text: string }>();
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offsetAt = (unix: number) => {
    const h = Math.floor(unix / 3600);
    let o = offsets.get(h);
    if (!o) {
      const name = fmt.formatToParts(new Date(h * 3600 * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
      const m = /GMT(?:([+-])(\d{2}):(\d{2}))?/.exec(name);
      const sign = m?.[1] === '-' ? -1 : 1;
      const ms = m?.[1] ? sign * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
      o = { ms, text: m?.[1] ? `${m[1]}${m[2]}:${m[3]}` : 'Z' };
      if (offsets.size > 100000) offsets.clear();
      offsets.set(h, o);
    }
    return o;
  };
  return (unixStr: string | null): string | null => {
    if (unixStr === null) return null;
    const unix = Number(unixStr);
    const o = offsetAt(unix);
    return `${new Date(unix * 1000 + o.ms).toISOString().slice(0, 19)}${o.text === 'Z' ? 'Z' : o.text}`;
  };
}

async function exportRaw(ctx: Context, req: ExportRequest): Promise<ExportResult> {
  const split = await splitRange(ctx, req.range.from, req.range.to);
  const { db } = await ctx.mysql();
  // connect to PostgreSQL before the output exists: unreachable means exit 5 and no file
  const pgdb = split.pg ? (await ctx.pg()).db : null;
  const map = split.pg ? await tokenMap(db) : null;
  const qpu = ctx.config().usage.quotaPerUsd;
  const iso = isoFormatter(req.range.zone);
  const types = sql.raw(req.types.map((t) => String(Math.trunc(t))).join(', '));
  const format = req.format as DataFormat;
  const enc = encoder(format, [...RAW_COLUMNS]);
  const sink = openSink(ctx, req.out);
  let n = 0;
  const str = (v: unknown): Cell => (v === null || v === undefined ? null : String(v));
  try {
    await sink.write(enc.head());
    if (split.pg && pgdb && map) {
      const q = sql`SELECT l.id, l.created_at, l.type, l.token_name, l.model_name, l.channel_id, l.prompt_tokens,
          l.completion_tokens, l.quota
        FROM logs l WHERE l.created_at >= ${split.pg.from} AND l.created_at < ${split.pg.to} AND l.type IN (${types})`.compile(pgdb);
      for await (const chunk of pgdb.getExecutor().stream<Record<string, unknown>>(q, CHUNK)) {
        if (ctx.signal.aborted) throw new InterruptedError();
        for (const r of chunk.rows) {
          const token = str(r.token_name);
          const a = map.get(token ?? '') ?? UNMAPPED_ATTRIBUTION;
          const quota = str(r.quota);
          await sink.write(enc.row(['postgresql', str(r.id), iso(str(r.created_at)), str(r.type), token, a.instance_id, a.user_id,
            a.user_email, a.department, str(r.model_name), str(r.channel_id), str(r.prompt_tokens), str(r.completion_tokens), quota,
            quota === null ? null : costUsd(quota, qpu)]));
          n++;
        }
      }
    }
    if (split.mysql) {
      const q = sql`SELECT l.id, l.created_at, l.type, l.token_name, COALESCE(k.instance_id, ${UNMAPPED_ATTRIBUTION.instance_id}) AS instance_id,
          COALESCE(u.id, ${UNMAPPED_ATTRIBUTION.user_id}) AS user_id, u.email AS user_email,
          CASE WHEN u.id IS NULL THEN ${UNMAPPED_ATTRIBUTION.department} ELSE COALESCE(u.department, ${NO_DEPARTMENT}) END AS department,
          l.model_name, l.channel_id, l.prompt_tokens, l.completion_tokens, l.quota
        FROM ${attributedFrom()}
        WHERE l.created_at >= ${split.mysql.from} AND l.created_at < ${split.mysql.to} AND l.type IN (${types})`.compile(db);
      let k = 0;
      for await (const chunk of db.getExecutor().stream<Record<string, unknown>>(q, CHUNK)) {
        if ((++k & 1023) === 0 && ctx.signal.aborted) throw new InterruptedError();
        for (const r of chunk.rows) {
          const quota = str(r.quota);
          await sink.write(enc.row(['mysql', str(r.id), iso(str(r.created_at)), str(r.type), str(r.token_name), str(r.instance_id),
            str(r.user_id), str(r.user_email), str(r.department), str(r.model_name), str(r.channel_id), str(r.prompt_tokens),
            str(r.completion_tokens), quota, quota === null ? null : costUsd(quota, qpu)]));
          n++;
        }
      }
    }
    if (ctx.signal.aborted) throw new InterruptedError();
    await sink.write(enc.tail());
    await sink.commit();
  } catch (e) {
    await sink.abort();
    throw e;
  }
  return { rows: n, path: sink.path, sources: sourcesOf(split) };
}
