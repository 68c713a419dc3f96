// Usage aggregates: requests, prompt/completion tokens, quota and exact cost per period and
// group, over MySQL and (when the range reaches back) the legacy PostgreSQL. Each database
// aggregates in SQL (GROUP BY); the two partial aggregates are combined exactly (BigInt).
// What counts: `requests` counts consume rows (type 2) only, and not new-api's async-task
// settlement rows (type 2 with other.task_id/actual_quota: the quota difference of a task
// already counted when it was submitted); quota sums every selected row, refunds (6) negative.
import { sql, type RawBuilder } from 'kysely';
import type { Context } from '../../context.js';
import type { OneApiSchema } from '../../db/oneapi-schema.js';
import { UsageError } from '../../errors.js';
import { oneApiSchema, pgOneApiSchema, quotaPerUnit } from '../oneapi/detect.js';
import { attributeRow, byTokenId, instanceUserJoins, keyJoins, NO_DEPARTMENT, tokenMaps, UNMAPPED_ATTRIBUTION, type AttributionMaps } from './mapping.js';
import { costUsd, type QuotaRate } from './money.js';
import { buckets, type Bucket, type Period, type TimeRange } from './range.js';
import { splitRange, type SourceSplit } from './sources.js';

export const GROUPS = ['user', 'instance', 'department', 'model', 'token', 'channel', 'type'] as const;
export type Group = (typeof GROUPS)[number];

/** consume (2) by default; refunds (6) count negative in quota and cost when included */
export const CONSUME_TYPE = 2;
export const DEFAULT_TYPES = [CONSUME_TYPE];
export const REFUND_TYPE = 6;

export interface UsageQuery {
  range: TimeRange;
  by?: Period;
  groups: Group[];
  types: number[];
}

export type UsageRow = Record<string, string | null> & {
  requests: string; prompt_tokens: string; completion_tokens: string; quota: string; cost_usd: string;
};

export interface UsageResult {
  columns: string[];
  rows: UsageRow[];
  split: SourceSplit;
  buckets: Bucket[];
  /** the quota per USD the costs were computed with */
  rate: QuotaRate;
}

/** Output key columns of each group, in order. */
export const GROUP_COLUMNS: Record<Group, string[]> = {
  user: ['user_id', 'user_email', 'user_name'],
  instance: ['instance_id'],
  department: ['department'],
  model: ['model_name'],
  token: ['token_name'],
  channel: ['channel_id'],
  type: ['type'],
};
export const MEASURES = ['requests', 'prompt_tokens', 'completion_tokens', 'quota', 'cost_usd'] as const;

export function parseGroups(v: string | string[] | undefined): Group[] {
  const parts = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const out: Group[] = [];
  for (const p of parts) {
    if (!(GROUPS as readonly string[]).includes(p)) {
      throw new UsageError(`unknown group "${p}"`, { hint: `use one or more of ${GROUPS.join(', ')} (comma-separated)` });
    }
    if (!out.includes(p as Group)) out.push(p as Group);
  }
  return out;
}

export function parseTypes(v: string | undefined): number[] {
  if (v === undefined) return [...DEFAULT_TYPES];
  const out = v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!/^\d{1,2}$/.test(s)) throw new UsageError(`--types expects log type numbers like 2,6, got "${s}"`, { hint: '2 consume, 6 refund, 5 error, 1 top-up' });
    return Number(s);
  });
  if (!out.length) throw new UsageError('--types is empty');
  return [...new Set(out)];
}

/** SQL for the bucket number (1..n) of created_at. */
function bucketSql(bs: Bucket[], dialect: 'mysql' | 'pg'): RawBuilder<number> {
  if (bs.length === 1) return sql<number>`1`;
  const starts = bs.map((b) => String(Math.trunc(b.start)));
  // INTERVAL() and width_bucket() binary-search integer thresholds
  return dialect === 'mysql'
    ? sql<number>`INTERVAL(l.created_at, ${sql.raw(starts.join(', '))})`
    : sql<number>`width_bucket(l.created_at, ${sql.raw(`'{${starts.join(',')}}'`)}::bigint[])`;
}

export const typeList = (types: number[]) => sql.raw(types.map((t) => String(Math.trunc(t))).join(', '));
const quotaSum = sql`COALESCE(SUM(CASE WHEN l.type = ${sql.raw(String(REFUND_TYPE))} THEN -l.quota ELSE l.quota END), 0)`;

/**
 * new-api's async-task settlement row (RecordReConsumeLog / task billing logs): no tokens, and
 * `other` names the task and its actual quota. The token test comes first: it is cheap and
 * spares the text search on nearly every row.
 */
export function settlementSql(s: OneApiSchema): RawBuilder<boolean> | null {
  if (!s.has('logs', 'other')) return null;
  return sql<boolean>`(COALESCE(l.prompt_tokens, 0) = 0 AND COALESCE(l.completion_tokens, 0) = 0
    AND COALESCE(l.other, '') LIKE '%"task_id"%' AND COALESCE(l.other, '') LIKE '%"actual_quota"%')`;
}

/** Requests: consume rows that are not settlements. */
function requestsSql(s: OneApiSchema): RawBuilder<unknown> {
  const settle = settlementSql(s);
  return sql`COALESCE(SUM(CASE WHEN l.type = ${sql.raw(String(CONSUME_TYPE))}${settle ? sql` AND NOT ${settle}` : sql``} THEN 1 ELSE 0 END), 0)`;
}

interface Partial { b: number; keys: Record<string, string | null>; requests: string; prompt_tokens: string; completion_tokens: string; quota: string }

/**
 * MySQL: aggregate the log rows first, by bucket, token name and the log columns the groups
 * need (one pass over the range, no joins), then attribute those few partial rows through the
 * key/instance/user tables and aggregate again. Attribution depends on the token (name, id) only, so
 * the result is the same as joining every log row, and the database does far less work (the
 * 200,000-row report: 0.40-0.46 s instead of 0.61 s in the mysql client).
 */
async function mysqlPartials(ctx: Context, q: UsageQuery, bs: Bucket[], from: number, to: number, tokenIds: boolean): Promise<Partial[]> {
  const [{ db }, s] = await Promise.all([ctx.mysql(), oneApiSchema(ctx)]);
  const attributed = q.groups.some((g) => g === 'user' || g === 'instance' || g === 'department');
  const ids = (attributed || tokenIds) && byTokenId(s);
  const kj = keyJoins(s, sql`p.p_token`, ids ? sql`p.p_token_id` : null);
  // inner: log columns per group (and the token name, with new-api also its id, when attributing)
  const inner: Array<[string, RawBuilder<unknown>]> = [];
  if (attributed) inner.push(['p_token', sql`l.token_name`]);
  if (ids) inner.push(['p_token_id', sql`COALESCE(l.token_id, 0)`]);
  // outer: [output column, expression over the inner row p and the joined k/i/u, grouped?]
  const outer: Array<[string, RawBuilder<unknown>, boolean]> = [];
  for (const g of q.groups) {
    if (g === 'user') {
      outer.push(['user_id', sql`COALESCE(u.id, ${UNMAPPED_ATTRIBUTION.user_id})`, true]);
      outer.push(['user_email', sql`MAX(u.email)`, false], ['user_name', sql`MAX(u.name)`, false]);
    } else if (g === 'instance') outer.push(['instance_id', sql`COALESCE(${kj.instance}, ${UNMAPPED_ATTRIBUTION.instance_id})`, true]);
    else if (g === 'department') outer.push(['department', sql`CASE WHEN u.id IS NULL THEN ${UNMAPPED_ATTRIBUTION.department} ELSE COALESCE(u.department, ${NO_DEPARTMENT}) END`, true]);
    else {
      // new-api: names are not unique, so a token is its id beside its name
      if (g === 'token' && tokenIds) outer.push(['token_id', sql.ref('p.p_token_id'), true]);
      const [col, expr] = g === 'model' ? ['model_name', sql`COALESCE(l.model_name, '')`] : g === 'token' ? ['token_name', sql`COALESCE(l.token_name, '')`]
        : g === 'channel' ? ['channel_id', sql`l.channel_id`] : ['type', sql`l.type`];
      inner.push([`p_${col}`, expr]);
      outer.push([col, sql.ref(`p.p_${col}`), true]);
    }
  }
  const innerSql = sql`SELECT ${bucketSql(bs, 'mysql')} AS p_b${inner.length ? sql`, ${sql.join(inner.map(([a, e]) => sql`${e} AS ${sql.ref(a)}`))}` : sql``},
      ${requestsSql(s)} AS n, COALESCE(SUM(l.prompt_tokens), 0) AS pt, COALESCE(SUM(l.completion_tokens), 0) AS ct, ${quotaSum} AS q
    FROM ${sql.table('oneapi_logs.logs')} l
    WHERE l.created_at >= ${from} AND l.created_at < ${to} AND l.type IN (${typeList(q.types)})
    GROUP BY ${sql.join(['p_b', ...inner.map(([a]) => a)].map((a) => sql.ref(a)))}`;
  const joins = attributed ? sql`
    ${kj.joins} ${instanceUserJoins(kj.instance)}` : sql``;
  const r = await sql<Record<string, string | number | null>>`
    SELECT p.p_b AS g_b${outer.length ? sql`, ${sql.join(outer.map(([c, e]) => sql`${e} AS ${sql.ref(`g_${c}`)}`))}` : sql``},
      SUM(p.n) AS requests, SUM(p.pt) AS prompt_tokens, SUM(p.ct) AS completion_tokens, SUM(p.q) AS quota
    FROM (${innerSql}) p${joins}
    GROUP BY ${sql.join(['g_b', ...outer.filter(([, , grouped]) => grouped).map(([c]) => `g_${c}`)].map((a) => sql.ref(a)))}`.execute(db);
  return r.rows.map((row) => {
    const keys: Record<string, string | null> = {};
    for (const [col] of outer) keys[col] = row[`g_${col}`] === null ? null : String(row[`g_${col}`]);
    return { b: Number(row.g_b), keys, requests: String(row.requests), prompt_tokens: String(row.prompt_tokens), completion_tokens: String(row.completion_tokens), quota: String(row.quota) };
  });
}

/**
 * Token ids in PostgreSQL rows refer to MySQL's tokens only when One API writes its logs there
 * (LOG_SQL_DSN, usage.logsSource postgres); a legacy copy's ids are its own, so it goes by name.
 */
export function pgUsesTokenIds(ctx: Context, pg: OneApiSchema): boolean {
  return ctx.config().usage.logsSource === 'postgres' && byTokenId(pg);
}

/** Attribution maps for PostgreSQL rows (from MySQL's keys and tokens). */
export async function pgAttribution(ctx: Context): Promise<AttributionMaps> {
  const [{ db }, s] = await Promise.all([ctx.mysql(), oneApiSchema(ctx)]);
  return tokenMaps(db, s);
}

async function pgPartials(ctx: Context, q: UsageQuery, bs: Bucket[], from: number, to: number): Promise<Partial[]> {
  const needsToken = q.groups.some((g) => g === 'user' || g === 'instance' || g === 'department' || g === 'token');
  const { db } = await ctx.pg();
  const s = await pgOneApiSchema(ctx);
  const ids = needsToken && pgUsesTokenIds(ctx, s);
  const cols: Array<[string, RawBuilder<unknown>]> = [];
  if (needsToken) cols.push(['token_name', sql`COALESCE(l.token_name, '')`]);
  if (ids) cols.push(['token_id', sql`COALESCE(l.token_id, 0)`]);
  if (q.groups.includes('model')) cols.push(['model_name', sql`COALESCE(l.model_name, '')`]);
  if (q.groups.includes('channel')) cols.push(['channel_id', sql`l.channel_id`]);
  if (q.groups.includes('type')) cols.push(['type', sql`l.type`]);
  const map = needsToken ? await pgAttribution(ctx) : null;
  const r = await sql<Record<string, string | number | null>>`
    SELECT ${bucketSql(bs, 'pg')} AS g_b${cols.length ? sql`, ${sql.join(cols.map(([c, e]) => sql`${e} AS ${sql.ref(`g_${c}`)}`))}` : sql``},
      ${requestsSql(s)} AS requests, COALESCE(SUM(l.prompt_tokens), 0) AS prompt_tokens,
      COALESCE(SUM(l.completion_tokens), 0) AS completion_tokens, ${quotaSum} AS quota
    FROM logs l
    WHERE l.created_at >= ${from} AND l.created_at < ${to} AND l.type IN (${typeList(q.types)})
    GROUP BY ${sql.join(['g_b', ...cols.map(([c]) => `g_${c}`)].map((a) => sql.ref(a)))}`.execute(db);
  return r.rows.map((row) => {
    const token = needsToken ? String(row.g_token_name ?? '') : '';
    const a = map ? attributeRow(map, token, ids ? String(row.g_token_id ?? 0) : null) : UNMAPPED_ATTRIBUTION;
    const keys: Record<string, string | null> = {};
    for (const g of q.groups) {
      if (g === 'user') { keys.user_id = a.user_id; keys.user_email = a.user_email; keys.user_name = a.user_name; }
      else if (g === 'instance') keys.instance_id = a.instance_id;
      else if (g === 'department') keys.department = a.department;
      else if (g === 'token') { keys.token_name = token; keys.token_id = ids ? String(row.g_token_id ?? 0) : null; }
      else if (g === 'model') keys.model_name = String(row.g_model_name ?? '');
      else if (g === 'channel') keys.channel_id = row.g_channel_id === null ? null : String(row.g_channel_id);
      else if (g === 'type') keys.type = row.g_type === null ? null : String(row.g_type);
    }
    return { b: Number(row.g_b), keys, requests: String(row.requests), prompt_tokens: String(row.prompt_tokens), completion_tokens: String(row.completion_tokens), quota: String(row.quota) };
  });
}

/** Output columns; with new-api's token ids (tokenIds) the token group is token_id + token_name. */
export function columnsOf(q: Pick<UsageQuery, 'by' | 'groups'>, tokenIds = false): string[] {
  return [...(q.by ? ['period'] : []), ...keyColumns(q.groups, tokenIds), ...MEASURES];
}

function keyColumns(groups: Group[], tokenIds: boolean): string[] {
  return groups.flatMap((g) => (g === 'token' && tokenIds ? ['token_id', ...GROUP_COLUMNS.token] : GROUP_COLUMNS[g]));
}

/** The report: partial aggregates from each database needed by the range, combined exactly. */
export async function aggregateUsage(ctx: Context, q: UsageQuery): Promise<UsageResult> {
  const bs = buckets(q.range, q.by);
  const split = await splitRange(ctx, q.range.from, q.range.to);
  // PostgreSQL first: when it is unreachable the verb fails before writing anything
  const parts: Partial[] = [];
  const tokenIds = q.groups.includes('token') && byTokenId(await oneApiSchema(ctx));
  if (split.pg) parts.push(...await pgPartials(ctx, q, bs, split.pg.from, split.pg.to));
  if (split.mysql) parts.push(...await mysqlPartials(ctx, q, bs, split.mysql.from, split.mysql.to, tokenIds));
  const qpu = await quotaPerUnit(ctx);
  const keyCols = keyColumns(q.groups, tokenIds);
  // identity of a group: its key columns except the descriptive user_email/user_name
  const idCols = keyCols.filter((c) => c !== 'user_email' && c !== 'user_name');
  const acc = new Map<string, { b: number; keys: Record<string, string | null>; n: bigint; p: bigint; c: bigint; qt: bigint }>();
  for (const p of parts) {
    const id = JSON.stringify([p.b, ...idCols.map((c) => p.keys[c] ?? null)]);
    let a = acc.get(id);
    if (!a) { a = { b: p.b, keys: { ...p.keys }, n: 0n, p: 0n, c: 0n, qt: 0n }; acc.set(id, a); }
    a.n += BigInt(p.requests); a.p += BigInt(p.prompt_tokens); a.c += BigInt(p.completion_tokens); a.qt += BigInt(p.quota);
    if (a.keys.user_email == null && p.keys.user_email != null) { a.keys.user_email = p.keys.user_email; a.keys.user_name = p.keys.user_name ?? null; }
  }
  const sorted = [...acc.values()].sort((x, y) => x.b - y.b || (y.qt > x.qt ? 1 : y.qt < x.qt ? -1 : 0)
    || JSON.stringify(idCols.map((c) => x.keys[c])).localeCompare(JSON.stringify(idCols.map((c) => y.keys[c]))));
  const rows: UsageRow[] = sorted.map((a) => {
    const row: Record<string, string | null> = {};
    if (q.by) row.period = bs[a.b - 1]?.label ?? null;
    for (const c of keyCols) row[c] = a.keys[c] ?? null;
    row.requests = a.n.toString();
    row.prompt_tokens = a.p.toString();
    row.completion_tokens = a.c.toString();
    row.quota = a.qt.toString();
    row.cost_usd = costUsd(a.qt, qpu);
    return row as UsageRow;
  });
  return { columns: columnsOf(q, tokenIds), rows, split, buckets: bs, rate: qpu };
}
