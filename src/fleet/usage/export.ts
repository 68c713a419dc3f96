// usage export: aggregates (computed in SQL by report.ts) or raw log rows, streamed to stdout
// or a file as CSV, JSON, NDJSON or a Prometheus textfile. Raw rows are read with server-side
// streaming (mysql2 row stream, pg-cursor) and written with backpressure: memory stays flat.
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { ConnectionError, firstLine, InterruptedError, SayclawError, UsageError } from '../../errors.js';
import { isConnectionLoss } from '../../db/transaction.js';
import { oneApiSchema, pgOneApiSchema, quotaPerUnit } from '../oneapi/detect.js';
import type { OneApiSchema } from '../../db/oneapi-schema.js';
import { attributeRow, attributionMaps, attributionQueries, byTokenId, keyJoins, UNMAPPED_ATTRIBUTION, type Attribution } from './mapping.js';
import { costBytesWriter, costUsd, type QuotaRate } from './money.js';
import { isUtc } from './range.js';
import { aggregateUsage, pgAttribution, pgUsesTokenIds, type UsageQuery } from './report.js';
import { checkOut, encoder, openSink, type Cell, type DataFormat, type RowParts, type Sink } from '../../output/sink.js';
import { ascii, ByteRows, copy } from '../../output/byte-rows.js';
import { rawIntegerColumn, rawTextColumn, readCells, takeRawRows, type RawColumn } from '../../db/mysql-raw.js';
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

/**
 * The export's cron lock: one per destination, so an export overlapping itself exits 75 while
 * a 5-minute Prometheus export does not block the nightly CSV. Stdout exports share one.
 */
export function exportLockName(cwd: string, out: string | undefined): string {
  if (!out || out === '-') return 'usage-export';
  const abs = resolve(cwd, out);
  return `usage-export-${basename(abs).slice(0, 40)}-${createHash('sha256').update(abs).digest('hex').slice(0, 8)}`;
}

/** Bad requests fail (exit 2) before any lock, job row or query. */
export function checkExportRequest(ctx: Context, req: ExportRequest): void {
  checkOut(ctx.io.cwd, req.out);
  if (req.format === 'prometheus' && (req.raw || req.by || req.groups.length)) {
    throw new UsageError('--format prometheus is always per department and model over the whole range', { hint: 'drop --raw, --by and --group' });
  }
}

export async function exportUsage(ctx: Context, req: ExportRequest): Promise<ExportResult> {
  checkExportRequest(ctx, req);
  // the output first: one that cannot be written ends the run before any query (exit 1); a
  // failure later removes the temporary file, so the final name never holds a partial export
  const sink = await openSink(ctx.sinkTarget(), req.out);
  try {
    if (req.format === 'prometheus') {
      const res = await aggregateUsage(ctx, { ...req, by: undefined, groups: ['department', 'model'] });
      await sink.write(prometheusText(res.rows, { range: req.range, now: ctx.clock(), types: req.types }));
      await sink.commit();
      return { rows: res.rows.length, path: sink.path, sources: sourcesOf(res.split) };
    }
    if (!req.raw) {
      const res = await aggregateUsage(ctx, req);
      const enc = encoder(req.format, res.columns);
      await sink.write(enc.head());
      for (const r of res.rows) await sink.write(enc.row(res.columns.map((c) => r[c] ?? null)));
      await sink.write(enc.tail());
      await sink.commit();
      return { rows: res.rows.length, path: sink.path, sources: sourcesOf(res.split) };
    }
    return await exportRaw(ctx, req, sink);
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

function sourcesOf(split: { pg: unknown; mysql: unknown }): string[] {
  return [...(split.pg ? ['postgresql'] : []), ...(split.mysql ? ['mysql'] : [])];
}

/** A lost connection while rows stream: exit 5, and say what happened to the output. */
function lostDuringExport(e: unknown, what = 'MySQL'): unknown {
  if (e instanceof SayclawError || !isConnectionLoss(e)) return e;
  return new ConnectionError(`${what} connection lost during the raw export${(e as { code?: string }).code ? ` (${(e as { code?: string }).code})` : ''}: ${firstLine((e as Error).message)}`, {
    hint: 'nothing was written under the output name; re-run when the database is reachable', cause: e,
  });
}

/** 0..59 as two digits. */
const TWO = Array.from({ length: 60 }, (_, i) => `${i < 10 ? '0' : ''}${i}`);

export interface IsoFormatter {
  /** created_at (unix seconds, as text) as ISO 8601 with the zone's offset */
  (unixStr: string | null): string | null;
  /** the same text, as ASCII bytes written into out at `at` (at most 64); returns the end */
  write(unix: number, out: Uint8Array, at: number): number;
}

/**
 * created_at as ISO 8601 with the zone's offset, by integer arithmetic per row. The offset is
 * looked up (Intl) at the start of each hour and of the next; when they differ (a transition
 * inside the hour, at any minute) it is looked up for the minute itself. "YYYY-MM-DDT" is built
 * once per day.
 */
export function isoFormatter(zone: string): IsoFormatter {
  // UTC needs no lookup (and no Intl)
  const utc = isUtc(zone);
  let fmt: Intl.DateTimeFormat | undefined;
  const offsetOf = (unix: number) => {
    fmt ??= utc ? undefined : new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    const name = fmt?.formatToParts(new Date(unix * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT(?:([+-])(\d{2}):(\d{2}))?/.exec(name);
    const sign = m?.[1] === '-' ? -1 : 1;
    const sec = m?.[1] ? sign * (Number(m[2]) * 60 + Number(m[3])) * 60 : 0;
    const text = m?.[1] ? `${m[1]}${m[2]}:${m[3]}` : 'Z';
    return { sec, text, bytes: Buffer.from(text, 'latin1') };
  };
  type Offset = ReturnType<typeof offsetOf>;
  // the offset at the start of hour h; each is looked up once, for hour h and for hour h - 1
  const starts = new Map<number, Offset>();
  const startOf = (h: number): Offset => {
    let o = starts.get(h);
    if (o === undefined) {
      o = offsetOf(h * 3600);
      if (starts.size > 100000) starts.clear();
      starts.set(h, o);
    }
    return o;
  };
  const hours = new Map<number, Offset | null>(); // null: the offset changes within that hour
  // rows come roughly in time order: the last hour and day looked up answer most rows
  let lastHour = NaN;
  let lastOffset: Offset | null = null;
  const zero = utc ? offsetOf(0) : null;
  const offsetAt = zero ? (): Offset => zero : (unix: number): Offset => {
    const h = Math.floor(unix / 3600);
    let o: Offset | null | undefined = h === lastHour ? lastOffset : hours.get(h);
    if (o === undefined) {
      const a = startOf(h);
      o = a.sec === startOf(h + 1).sec ? a : null;
      if (hours.size > 100000) hours.clear();
      hours.set(h, o);
    }
    lastHour = h;
    lastOffset = o;
    return o ?? offsetOf(unix - (unix % 60));
  };
  const days = new Map<number, { text: string; bytes: Uint8Array }>();
  let lastDay = NaN;
  let lastDate: { text: string; bytes: Uint8Array } = { text: '', bytes: new Uint8Array(0) };
  const dayOf = (day: number) => {
    if (day === lastDay) return lastDate;
    let date = days.get(day);
    if (date === undefined) {
      const text = new Date(day * 86400000).toISOString().slice(0, 11);
      date = { text, bytes: Buffer.from(text, 'latin1') };
      if (days.size > 100000) days.clear();
      days.set(day, date);
    }
    lastDay = day;
    lastDate = date;
    return date;
  };
  const iso = (unixStr: string | null): string | null => {
    if (unixStr === null) return null;
    const unix = Number(unixStr);
    const o = offsetAt(unix);
    const local = unix + o.sec;
    const day = Math.floor(local / 86400);
    const t = local - day * 86400;
    const min = Math.floor(t / 60);
    return dayOf(day).text + TWO[Math.floor(min / 60)] + ':' + TWO[min % 60] + ':' + TWO[t % 60] + o.text;
  };
  const two = (v: number, out: Uint8Array, at: number) => { out[at] = 48 + Math.floor(v / 10); out[at + 1] = 48 + (v % 10); };
  iso.write = (unix: number, out: Uint8Array, at: number): number => {
    const o = offsetAt(unix);
    const local = unix + o.sec;
    const day = Math.floor(local / 86400);
    const t = local - day * 86400;
    const min = Math.floor(t / 60);
    at = copy(dayOf(day).bytes, out, at);
    two(Math.floor(min / 60), out, at);
    out[at + 2] = 0x3a;
    two(min % 60, out, at + 3);
    out[at + 5] = 0x3a;
    two(t % 60, out, at + 6);
    return copy(o.bytes, out, at + 8);
  };
  return iso;
}

/** Log types as an SQL list (integers only). */
const typeList = (types: number[]) => sql.raw(types.map((t) => String(Math.trunc(t))).join(', '));

/**
 * The raw export's MySQL SELECT (the MYSQL_RAW_CELLS columns). The join to the keys stays in SQL
 * (token names compared exactly, under the one cross-database collation: sameText in
 * keyJoins); instance -> user -> department comes from a small map read in the same consistent
 * snapshot, keyed by the very k.instance_id values this query returns. The database then skips
 * two joins per row (0.30 s instead of 0.54 s at 200,000 rows) and the rows carry no repeated
 * user/department strings.
 */
export function mysqlRawSelect(schema: OneApiSchema, range: { from: number; to: number }, types: number[]) {
  const kj = keyJoins(schema, sql`l.token_name`, byTokenId(schema) ? sql`COALESCE(l.token_id, 0)` : null);
  return sql`SELECT l.id, l.created_at, l.type, l.token_name, ${kj.instance} AS instance_id, l.model_name, l.channel_id,
      l.prompt_tokens, l.completion_tokens, l.quota
    FROM ${sql.table('oneapi_logs.logs')} l ${kj.joins}
    WHERE l.created_at >= ${range.from} AND l.created_at < ${range.to} AND l.type IN (${typeList(types)})`;
}

async function exportRaw(ctx: Context, req: ExportRequest, sink: Sink): Promise<ExportResult> {
  const split = await splitRange(ctx, req.range.from, req.range.to);
  const { db } = await ctx.mysql();
  const pgdb = split.pg ? (await ctx.pg()).db : null;
  const pgIds = split.pg ? pgUsesTokenIds(ctx, await pgOneApiSchema(ctx)) : false;
  const map = split.pg ? await pgAttribution(ctx) : null;
  const [schema, qpu] = await Promise.all([oneApiSchema(ctx), quotaPerUnit(ctx)]);
  const iso = isoFormatter(req.range.zone);
  const types = typeList(req.types);
  const format = req.format as DataFormat;
  // columns that can never need CSV quoting (digits, ISO times, fixed words)
  const plain = RAW_COLUMNS.map((c) => ['source', 'id', 'created_at', 'type', 'channel_id', 'prompt_tokens', 'completion_tokens', 'quota', 'cost_usd'].includes(c));
  const enc = encoder(format, [...RAW_COLUMNS], plain);
  // quotas repeat a lot: cache their cost strings (keyed by the driver's value: a number for INT)
  const costs = new Map<unknown, string>();
  const cost = (q: unknown): string | null => {
    if (q === null || q === undefined) return null;
    let c = costs.get(q);
    if (c === undefined) { c = costUsd(String(q), qpu); if (costs.size > 100000) costs.clear(); costs.set(q, c); }
    return c;
  };
  let n = 0;
  const str = (v: unknown): Cell => (v === null || v === undefined ? null : String(v));
  await sink.write(enc.head());
  if (split.pg && pgdb && map) {
    const q = sql`SELECT l.id, l.created_at, l.type, l.token_name, l.model_name, l.channel_id, l.prompt_tokens,
        l.completion_tokens, l.quota${pgIds ? sql`, l.token_id` : sql``}
      FROM logs l WHERE l.created_at >= ${split.pg.from} AND l.created_at < ${split.pg.to} AND l.type IN (${types})`.compile(pgdb);
    const rows = pgdb.getExecutor().stream<Record<string, unknown>>(q, CHUNK);
    try {
      for (;;) {
        let it: IteratorResult<{ rows: Record<string, unknown>[] }>;
        try { it = await rows.next(); } catch (e) { throw lostDuringExport(e, 'PostgreSQL'); }
        if (it.done) break;
        if (ctx.signal.aborted) throw new InterruptedError();
        for (const r of it.value.rows) {
          const token = str(r.token_name);
          const a = attributeRow(map, token, pgIds ? str(r.token_id) : null);
          sink.push(enc.row(['postgresql', str(r.id), iso(str(r.created_at)), str(r.type), token, a.instance_id, a.user_id,
            a.user_email, a.department, str(r.model_name), str(r.channel_id), str(r.prompt_tokens), str(r.completion_tokens), str(r.quota),
            cost(r.quota)]));
          n++;
        }
        await sink.drained();
      }
    } finally {
      // stopped early (Ctrl-C, an output error): close the cursor and give the connection back
      await rows.return?.(undefined).catch(() => undefined);
    }
  }
  if (split.mysql) {
    const q = mysqlRawSelect(schema, split.mysql, req.types).compile(db);
    const mq = attributionQueries(schema);
    const mapQueries = [mq.byName.compile(db), ...(mq.byId ? [mq.byId.compile(db)] : [])];
    let byInstance = new Map<string, Attribution>();
    const attribution = (instance: string | null) => (instance === null ? UNMAPPED_ATTRIBUTION : byInstance.get(instance) ?? UNMAPPED_ATTRIBUTION);
    // the usual path: cells parsed by mysql2; the byte path (rawMysqlRows) when the columns allow it
    const raw = rawMysqlRows(enc.parts, iso, qpu, attribution, sink);
    n += await streamMysqlArrays(ctx, q.sql, q.parameters as unknown[], (r) => {
      const a = attribution(r[4] as string | null);
      return sink.push(enc.row(['mysql', str(r[0]), iso(str(r[1])), str(r[2]), str(r[3]), a.instance_id, a.user_id, a.user_email,
        a.department, str(r[5]), str(r[6]), str(r[7]), str(r[8]), str(r[9]), cost(r[9])]));
    }, () => sink.drained(), async (query) => {
      const rows = [];
      for (const m of mapQueries) rows.push(await query(m.sql, m.parameters as unknown[]) as Parameters<typeof attributionMaps>[0]);
      byInstance = attributionMaps(rows[0]!, rows[1]).byInstance;
    }, raw);
  }
  if (ctx.signal.aborted) throw new InterruptedError();
  await sink.write(enc.tail());
  await sink.commit();
  return { rows: n, path: sink.path, sources: sourcesOf(split) };
}

/** The raw MySQL SELECT's columns (id, created_at, type, token_name, instance_id, model_name, channel_id, prompt_tokens, completion_tokens, quota). */
const MYSQL_RAW_CELLS = 10;
const MYSQL_RAW_TEXT = new Set([3, 4, 5]);

/** Digits (an optional "-") in buf[s, e) as a number; null when not a short plain integer. */
function shortInteger(buf: Uint8Array, s: number, e: number): number | null {
  if (e - s > 15 || e <= s) return null;
  let k = s;
  const neg = buf[k] === 0x2d;
  if (neg) k++;
  if (k === e) return null;
  let v = 0;
  for (; k < e; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/**
 * The MySQL raw rows written from their wire bytes (no string or number per cell): what the
 * mysql2 path writes, byte for byte, when the columns are integers and UTF-8 text (checked on
 * the column definitions; otherwise mysql2 parses as usual). Digits are copied, text is
 * quoted or escaped from its bytes, created_at is formatted into the output, cost_usd is
 * computed into it (costBytesWriter: exact), and the four attribution cells are written from
 * bytes encoded once per instance id.
 */
export function rawMysqlRows(parts: RowParts, iso: IsoFormatter, rate: QuotaRate,
  attribution: (instance: string | null) => Attribution, sink: Sink) {
  const w = new ByteRows(parts);
  const source = w.segment(0, ['mysql']);
  const cells = new Int32Array(MYSQL_RAW_CELLS * 2);
  const attrSegment = (a: Attribution) => w.segment(5, [a.instance_id, a.user_id, a.user_email, a.department]);
  const unmapped = attrSegment(attribution(null));
  // instance id bytes -> the encoded attribution cells, by a hash of the bytes (compared in full):
  // each is what attribution() gives for the decoded id, so the cache changes nothing
  const segments = new Map<number, Array<{ key: Uint8Array; seg: Uint8Array }>>();
  let cached = 0;
  const segmentOf = (buf: Buffer, s: number, e: number): Uint8Array => {
    if (s < 0) return unmapped;
    let h = 0x811c9dc5;
    for (let k = s; k < e; k++) h = Math.imul(h ^ buf[k]!, 0x01000193);
    const list = segments.get(h);
    if (list) {
      for (const x of list) {
        const key = x.key;
        if (key.length !== e - s) continue;
        let k = 0;
        while (k < key.length && key[k] === buf[s + k]) k++;
        if (k === key.length) return x.seg;
      }
    }
    const seg = attrSegment(attribution(buf.toString('utf8', s, e)));
    if (++cached > 100000) { segments.clear(); cached = 1; }
    const entry = { key: new Uint8Array(buf.subarray(s, e)), seg };
    if (segments.has(h)) segments.get(h)!.push(entry);
    else segments.set(h, [entry]);
    return seg;
  };
  const writeCost = costBytesWriter(rate);
  // created_at takes at most 64 bytes; cost_usd the quota's digits (counted in the row's bytes),
  // the rate's denominator's and "-", ".", 6 places
  const extra = 64 + rate.den.toString().length + 72;
  // the row being written: set by row(), read by fill()
  let src: Buffer = Buffer.alloc(0);
  let attr = unmapped;
  let quota = 0;
  /** quota text when it is no short integer (then written through costUsd) */
  let longQuota: string | null = null;
  let unix = 0;
  const fill = (out: Buffer, at: number): number => {
    const c = cells;
    at = w.open(out, at);
    at = copy(source, out, at);
    at = w.plain(1, src, c[0]!, c[1]!, out, at);
    if (c[2]! < 0) at = w.nullCell(2, out, at);
    else at = w.plainEnd(out, iso.write(unix, out, w.plainStart(2, out, at)));
    at = w.plain(3, src, c[4]!, c[5]!, out, at);
    at = w.text(4, src, c[6]!, c[7]!, out, at);
    at = copy(attr, out, at);
    at = w.text(9, src, c[10]!, c[11]!, out, at);
    at = w.plain(10, src, c[12]!, c[13]!, out, at);
    at = w.plain(11, src, c[14]!, c[15]!, out, at);
    at = w.plain(12, src, c[16]!, c[17]!, out, at);
    at = w.plain(13, src, c[18]!, c[19]!, out, at);
    if (c[18]! < 0) at = w.nullCell(14, out, at);
    else {
      at = w.plainStart(14, out, at);
      at = longQuota === null ? writeCost(quota, out, at) : ascii(costUsd(longQuota, rate), out, at);
      at = w.plainEnd(out, at);
    }
    return w.end(out, at);
  };
  return {
    /** the byte path only for exactly the columns it knows to write as mysql2's values would be */
    accept: (cols: RawColumn[]) => cols.length === MYSQL_RAW_CELLS
      && cols.every((col, i) => (MYSQL_RAW_TEXT.has(i) ? rawTextColumn(col) : rawIntegerColumn(col))),
    row: (buf: Buffer, start: number, end: number): boolean => {
      if (!readCells(buf, start, end, cells)) throw new Error('a MySQL row packet did not hold the expected cells');
      src = buf;
      const c = cells;
      if (c[2]! >= 0) {
        const u = shortInteger(buf, c[2]!, c[3]!);
        unix = u ?? Number(buf.toString('latin1', c[2]!, c[3]!));
      }
      attr = segmentOf(buf, c[8]!, c[9]!);
      if (c[18]! >= 0) {
        const q = shortInteger(buf, c[18]!, c[19]!);
        quota = q ?? 0;
        longQuota = q === null ? buf.toString('latin1', c[18]!, c[19]!) : null;
      }
      return sink.pushBytes(w.room(end - start, source.length + attr.length + extra), fill);
    },
  };
}

/**
 * Stream a MySQL result as arrays on a dedicated mysql2 connection (no per-row promise), or as
 * row bytes to raw.row when raw.accept takes the columns: rows go to onRow (raw.row)
 * synchronously; when it returns false the connection is paused until drained() resolves
 * (backpressure from the output). Ctrl-C destroys the connection and rejects.
 * Same connection settings as src/db/mysql.ts (utf8mb4, exact BIGINT/DECIMAL, session zone).
 * before(), when given, runs first, inside the same read-only consistent-snapshot transaction.
 */
async function streamMysqlArrays(ctx: Context, sqlText: string, params: unknown[], onRow: (r: unknown[]) => boolean,
  drained: () => Promise<void>, before?: (query: (sqlText: string, params: unknown[]) => Promise<unknown[]>) => Promise<void>,
  raw?: { accept(columns: RawColumn[]): boolean; row(buf: Buffer, start: number, end: number): boolean }): Promise<number> {
  const lc = ctx.loadedConfig();
  const cfg = lc.config.mysql;
  const [{ createConnection }, { mysqlConnectionOptions, sessionSetupSql }] = await Promise.all([import('mysql2'), import('../../db/mysql.js')]);
  const conn = createConnection({ ...mysqlConnectionOptions(cfg, lc.mysqlPassword.read()), dateStrings: true });
  // a connection-level error (lost while paused, between statements) must reach the stream,
  // not crash the process as an unhandled 'error' event
  let onConnError: ((e: unknown) => void) | null = null;
  conn.on('error', (e: unknown) => onConnError?.(e));
  let closed = false;
  // mysql2's destroy() only half-closes; destroy the socket too so the server stops at once
  const close = () => {
    if (closed) return;
    closed = true;
    (conn as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    conn.destroy();
  };
  ctx.onClose(close);
  let complete = false;
  try {
    const query = (text: string, values: unknown[] = []) =>
      new Promise<unknown[]>((res, rej) => conn.query({ sql: text, values }, (e, rows) => (e ? rej(e) : res(rows as unknown[]))));
    await query(sessionSetupSql(cfg));
    if (before) {
      // one read-only snapshot for what before() reads and the rows streamed after it
      await query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      await before(query);
    }
    return await new Promise<number>((resolve, reject) => {
      let n = 0;
      let failed = false;
      const fail = (e: unknown) => { if (!failed) { failed = true; close(); reject(lostDuringExport(e)); } };
      onConnError = fail;
      const onAbort = () => fail(new InterruptedError());
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const q = conn.query({ sql: sqlText, values: params, rowsAsArray: true });
      const took = (ok: boolean) => {
        if (!ok) {
          conn.pause();
          drained().then(() => { if (!failed) conn.resume(); }, fail);
        }
      };
      // rows as bytes when raw accepts the columns (else, or with another mysql2, as arrays below)
      if (raw) {
        takeRawRows(q as unknown as Parameters<typeof takeRawRows>[0], raw.accept, (buf, start, end) => {
          if (failed) return;
          n++;
          let ok: boolean;
          try { ok = raw.row(buf, start, end); } catch (e) { fail(e); return; }
          took(ok);
        });
      }
      q.on('result', (row: unknown) => {
        if (failed) return;
        n++;
        let ok: boolean;
        try { ok = onRow(row as unknown[]); } catch (e) { fail(e); return; }
        took(ok);
      });
      q.on('error', fail);
      q.on('end', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        complete = true;
        if (!failed) resolve(n);
      });
    });
  } finally {
    const thread = conn.threadId;
    close();
    if (!complete && thread) {
      // stopped early: make sure the server-side query ends too (it holds a metadata lock);
      // bounded, so an unreachable database does not hold up the exit
      const kill = (async () => {
        const { db } = await ctx.mysql();
        await sql`KILL QUERY ${sql.raw(String(Math.trunc(thread)))}`.execute(db);
      })().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([kill, new Promise<void>((r) => { timer = setTimeout(r, 2000); })]);
      clearTimeout(timer);
    }
  }
}
