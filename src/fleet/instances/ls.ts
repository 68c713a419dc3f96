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

/** --sort FIELD (leading '-' for descending) -> comparator over list rows. */
const SORTS: Record<string, (a: InstanceListRow, b: InstanceListRow) => number> = {
  id: (a, b) => naturalCompare(a.id, b.id),
  server: (a, b) => cmpNullable(a.server_name, b.server_name),
  region: (a, b) => cmpNullable(a.region, b.region),
  user: (a, b) => cmpNullable(a.assigned_email, b.assigned_email),
  model: (a, b) => cmpNullable(a.model, b.model),
  health: (a, b) => a.health_status.localeCompare(b.health_status),
  port: (a, b) => (a.gateway_port ?? -1) - (b.gateway_port ?? -1),
  requests: (a, b) => cmpBig(a.total_requests, b.total_requests),
  tokens: (a, b) => cmpBig(a.total_tokens, b.total_tokens),
  last_health: (a, b) => (a.last_health_at?.getTime() ?? 0) - (b.last_health_at?.getTime() ?? 0),
  created: (a, b) => a.created_at.getTime() - b.created_at.getTime(),
};
export const SORT_FIELDS = Object.keys(SORTS);

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

export function parseSort(s: string | undefined): (a: InstanceListRow, b: InstanceListRow) => number {
  if (!s) return SORTS.id!;
  const desc = s.startsWith('-');
  const key = desc ? s.slice(1) : s;
  const f = SORTS[key];
  if (!f) throw new UsageError(`unknown sort field "${key}"`, { hint: `use one of ${SORT_FIELDS.join(', ')} (prefix - for descending)` });
  return (a, b) => (desc ? -f(a, b) : f(a, b)) || naturalCompare(a.id, b.id);
}


function baseQuery(db: Kysely<MysqlDB>) {
  return db.selectFrom('admin.oc_instances as i')
    .leftJoin('admin.servers as s', 's.id', 'i.server_id')
    .leftJoin('portal.users as u', (j) => j.on(sameText('u.id', 'i.assigned_user_id')))
    .select([
      'i.id', 's.name as server_name', 's.region', 'u.email as assigned_email', 'i.model', 'i.health_status', 'i.gateway_port',
      'i.total_requests', 'i.total_tokens', 'i.last_health_at', 'i.container_id', 'i.gateway_url', 'i.gateway_token',
      'i.server_id', 'i.assigned_user_id', 'i.created_at', 'i.deleted_at',
    ]);
}
type ListQuery = ReturnType<typeof baseQuery>;

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
  const q = await applyFilter(db, baseQuery(db), f);
  const rows = (await q.orderBy('i.id').execute()) as InstanceListRow[];
  rows.sort(cmp);
  return f.limit !== undefined ? rows.slice(0, f.limit) : rows;
}

export type { SelectQueryBuilder };
