// sayclaw instances ls: the filters every instance verb shares, sorting and the listing.
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqEmail, eqExact, inExact, likePrefix, naturalCompare, sameText } from '../../db/sql-helpers.js';
import { UsageError } from '../../errors.js';
import { findServer } from '../servers/registry.js';
import { userNotFound } from '../users/lookup.js';
import { checkChoice, HEALTH } from '../choices.js';

export interface InstanceFilter {
  prefix?: string;
  ids?: string[];
  server?: string;
  region?: string;
  user?: string;
  model?: string;
  health?: string;
  unassigned?: boolean;
  /** 'alive' (default), 'deleted' (only soft-deleted), 'all' */
  state?: 'alive' | 'deleted' | 'all';
  sort?: string;
  limit?: number;
}

export interface InstanceListRow {
  id: string;
  server_name: string | null;
  region: string | null;
  assigned_email: string | null;
  model: string | null;
  health_status: string;
  gateway_port: number | null;
  total_requests: string;
  total_tokens: string;
  last_health_at: Date | null;
  container_id: string | null;
  gateway_url: string | null;
  gateway_token: string | null;
  server_id: string | null;
  assigned_user_id: string | null;
  created_at: Date;
  deleted_at: Date | null;
}

type RowCompare = (a: InstanceListRow, b: InstanceListRow) => number;
type ListField = keyof InstanceListRow;
/** --sort FIELD (leading '-' for descending) -> comparator over list rows, and the row fields it
 * reads (the streamed listing selects only those, and the id, before it fetches whole rows).
 * A Map: the name is user input, and a plain object would answer "constructor" or "__proto__". */
const SORTS = new Map<string, { cmp: RowCompare; reads: ListField[] }>([
  ['id', { cmp: (a, b) => naturalCompare(a.id, b.id), reads: [] }],
  ['server', { cmp: (a, b) => cmpNullable(a.server_name, b.server_name), reads: ['server_name'] }],
  ['region', { cmp: (a, b) => cmpNullable(a.region, b.region), reads: ['region'] }],
  ['user', { cmp: (a, b) => cmpNullable(a.assigned_email, b.assigned_email), reads: ['assigned_email'] }],
  ['model', { cmp: (a, b) => cmpNullable(a.model, b.model), reads: ['model'] }],
  ['health', { cmp: (a, b) => a.health_status.localeCompare(b.health_status), reads: ['health_status'] }],
  ['port', { cmp: (a, b) => (a.gateway_port ?? -1) - (b.gateway_port ?? -1), reads: ['gateway_port'] }],
  ['requests', { cmp: (a, b) => cmpBig(a.total_requests, b.total_requests), reads: ['total_requests'] }],
  ['tokens', { cmp: (a, b) => cmpBig(a.total_tokens, b.total_tokens), reads: ['total_tokens'] }],
  ['last_health', { cmp: (a, b) => (a.last_health_at?.getTime() ?? 0) - (b.last_health_at?.getTime() ?? 0), reads: ['last_health_at'] }],
  ['created', { cmp: (a, b) => a.created_at.getTime() - b.created_at.getTime(), reads: ['created_at'] }],
]);
export const SORT_FIELDS = [...SORTS.keys()];

function cmpNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return naturalCompare(a, b);
}
function cmpBig(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function parseSort(s: string | undefined): RowCompare {
  return sortSpec(s).cmp;
}

function sortSpec(s: string | undefined): { cmp: RowCompare; reads: ListField[] } {
  if (!s) return SORTS.get('id')!;
  const desc = s.startsWith('-');
  const key = desc ? s.slice(1) : s;
  const spec = SORTS.get(key);
  if (!spec) throw new UsageError(`unknown sort field "${key}"`, { hint: `use one of ${SORT_FIELDS.join(', ')} (prefix - for descending)` });
  const f = spec.cmp;
  return { cmp: (a, b) => (desc ? -f(a, b) : f(a, b)) || naturalCompare(a.id, b.id), reads: spec.reads };
}


function joined(db: Kysely<MysqlDB>) {
  return db.selectFrom('admin.oc_instances as i')
    .leftJoin('admin.servers as s', 's.id', 'i.server_id')
    .leftJoin('portal.users as u', (j) => j.on(sameText('u.id', 'i.assigned_user_id')));
}
type ListQuery = ReturnType<typeof joined>;

/** What each field of a list row is selected as. */
const FIELD_SQL = {
  id: 'i.id', server_name: 's.name as server_name', region: 's.region', assigned_email: 'u.email as assigned_email', model: 'i.model',
  health_status: 'i.health_status', gateway_port: 'i.gateway_port', total_requests: 'i.total_requests', total_tokens: 'i.total_tokens',
  last_health_at: 'i.last_health_at', container_id: 'i.container_id', gateway_url: 'i.gateway_url', gateway_token: 'i.gateway_token',
  server_id: 'i.server_id', assigned_user_id: 'i.assigned_user_id', created_at: 'i.created_at', deleted_at: 'i.deleted_at',
} as const satisfies Record<ListField, string>;
const ALL_FIELDS = Object.values(FIELD_SQL);

export async function applyFilter(db: Kysely<MysqlDB>, q: ListQuery, f: InstanceFilter): Promise<ListQuery> {
  if (f.prefix !== undefined) {
    if (f.prefix === '') throw new UsageError('--prefix must not be empty', { hint: 'omit it to list every instance' });
    q = q.where(likePrefix('i.id', f.prefix));
  }
  if (f.ids?.length) q = q.where(inExact('i.id', f.ids));
  if (f.server !== undefined) q = q.where(eqExact('i.server_id', (await findServer(db, f.server)).id));
  if (f.region !== undefined) q = q.where(eqExact('s.region', f.region));
  if (f.user !== undefined) {
    const u = await db.selectFrom('portal.users').select('id').where(eqEmail('email', f.user)).executeTakeFirst();
    if (!u) throw await userNotFound(db, f.user);
    q = q.where(eqExact('i.assigned_user_id', u.id));
  }
  if (f.model !== undefined) q = q.where(eqExact('i.model', f.model));
  if (f.health !== undefined) {
    await checkChoice(db, HEALTH, f.health);
    q = q.where(eqExact('i.health_status', f.health));
  }
  if (f.unassigned) q = q.where('i.assigned_user_id', 'is', null);
  const state = f.state ?? 'alive';
  if (state === 'alive') q = q.where('i.deleted_at', 'is', null);
  else if (state === 'deleted') q = q.where('i.deleted_at', 'is not', null);
  return q;
}

export async function listInstances(db: Kysely<MysqlDB>, f: InstanceFilter): Promise<InstanceListRow[]> {
  const cmp = parseSort(f.sort);
  // ORDER BY the primary key costs nothing on the PK range scan and leaves the natural sort
  // below mostly-sorted input (cheap for the JS sort)
  const q = await applyFilter(db, joined(db), f);
  const rows = (await q.select(ALL_FIELDS).orderBy('i.id').execute()) as InstanceListRow[];
  rows.sort(cmp);
  return f.limit !== undefined ? rows.slice(0, f.limit) : rows;
}

/** Alive instances in the whole fleet (the fleet-wide guard of bulk writes compares with it). */
export async function countAliveInstances(db: Kysely<MysqlDB>): Promise<number> {
  const r = await db.selectFrom('admin.oc_instances').select((e) => e.fn.countAll<string>().as('n')).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Rows fetched per query by the streamed listing. */
export const LIST_BATCH = 1000;

/**
 * The listing for `instances ls`, in batches, holding only the sorted keys: memory stays flat
 * however large the fleet. The natural order (oc-ai-jp-2-9 before oc-ai-jp-2-10) is computed in
 * JavaScript, and SQL cannot stream it; so the first query reads only the id (and the --sort
 * field) of every matching row, those are sorted and cut to --limit, and the rows are then
 * fetched by primary key, LIST_BATCH at a time, in that order. Both read the same snapshot (one
 * REPEATABLE READ, read-only transaction): the listing is what one query would have returned.
 * (A read, so not through src/db/transaction.ts, the write transactions' retry and outcome rules.)
 */
export async function withInstanceBatches<T>(db: Kysely<MysqlDB>, f: InstanceFilter,
  use: (batches: AsyncIterable<InstanceListRow[]>) => Promise<T>, batchSize = LIST_BATCH): Promise<T> {
  const { cmp, reads } = sortSpec(f.sort);
  // A listing of at most one batch (most runs: a prefix, a server, a user) is one query: the
  // full rows, at most batchSize + 1 of them. One statement reads one snapshot, so it needs no
  // transaction: four round trips fewer (isolation level, BEGIN, the second query, COMMIT).
  // More rows than that: the query is dropped (its first batchSize + 1 rows) and the listing
  // streams as below.
  const first = (await (await applyFilter(db, joined(db), f)).select(ALL_FIELDS).orderBy('i.id').limit(batchSize + 1).execute()) as InstanceListRow[];
  if (first.length <= batchSize) {
    first.sort(cmp);
    const rows = f.limit !== undefined ? first.slice(0, f.limit) : first;
    return use((async function* one() { if (rows.length) yield rows; })());
  }
  first.length = 0;
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
    const keyFields = [FIELD_SQL.id, ...reads.map((r) => FIELD_SQL[r])];
    const keys = (await (await applyFilter(trx, joined(trx), f)).select(keyFields).orderBy('i.id').execute()) as InstanceListRow[];
    keys.sort(cmp);
    const ids = keys.slice(0, f.limit ?? keys.length).map((k) => k.id);
    keys.length = 0;
    async function* batches(): AsyncGenerator<InstanceListRow[]> {
      for (let i = 0; i < ids.length; i += batchSize) {
        const chunk = ids.slice(i, i + batchSize);
        const rows = (await joined(trx).select(ALL_FIELDS).where('i.id', 'in', chunk).execute()) as InstanceListRow[];
        const byId = new Map(rows.map((r) => [r.id, r]));
        yield chunk.map((id) => byId.get(id)!);
      }
    }
    return use(batches());
  });
}

export type { SelectQueryBuilder };
