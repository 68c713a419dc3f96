// Servers: the registry (list with alive-instance counts, show, add, update, soft delete,
// restore) and resolving the servers a remote command targets. Writes are one transaction with
// their audit rows; rows are never physically deleted.
import { isIP } from 'node:net';
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqExact, naturalCompare } from '../../db/sql-helpers.js';
import { closestHint, closestNames, shownName } from '../suggest.js';
import { checkChoice, type Vocabulary } from '../choices.js';
import { InterruptedError, NotFoundError, UsageError } from '../../errors.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { inTransaction } from '../../db/transaction.js';
import { plural } from '../../output/format.js';

export interface ServerRow {
  id: string;
  name: string | null;
  ip: string | null;
  region: string | null;
  provider: string | null;
  cpu_cores: number | null;
  memory_gb: number | null;
  disk_gb: number | null;
  status: string;
  ssh_user: string | null;
  ssh_port: number;
  docker_port: number;
  notes: string | null;
  created_at: Date;
  deleted_at: Date | null;
  ssh_key_path: string;
}

export interface ServerListRow extends ServerRow {
  alive_instances: number;
}

export interface ServerFilter {
  region?: string;
  provider?: string;
  status?: string;
  /** 'alive' (default), 'deleted', 'all' */
  state?: 'alive' | 'deleted' | 'all';
}

const COLS = ['s.id', 's.name', 's.ip', 's.region', 's.provider', 's.cpu_cores', 's.memory_gb', 's.disk_gb', 's.status', 's.ssh_user',
  's.ssh_port', 's.docker_port', 's.notes', 's.created_at', 's.deleted_at', 's.ssh_key_path'] as const;

const byName = (a: ServerRow, b: ServerRow) => naturalCompare(a.name ?? a.id, b.name ?? b.id);

export async function listServers(db: Kysely<MysqlDB>, f: ServerFilter = {}): Promise<ServerListRow[]> {
  let q = db.selectFrom('admin.servers as s')
    .select([...COLS,
      (eb) => eb.selectFrom('admin.oc_instances as i').select(sql<number>`COUNT(*)`.as('n'))
        .whereRef('i.server_id', '=', 's.id').where('i.deleted_at', 'is', null).as('alive_instances')]);
  if (f.region !== undefined) q = q.where(eqExact('s.region', f.region));
  if (f.provider !== undefined) q = q.where(eqExact('s.provider', f.provider));
  if (f.status !== undefined) {
    await checkChoice(db, SERVER_STATUS, f.status);
    q = q.where(eqExact('s.status', f.status));
  }
  const state = f.state ?? 'alive';
  if (state === 'alive') q = q.where('s.deleted_at', 'is', null);
  if (state === 'deleted') q = q.where('s.deleted_at', 'is not', null);
  const rows = (await q.execute()) as unknown as ServerListRow[];
  for (const r of rows) r.alive_instances = Number(r.alive_instances);
  return rows.sort(byName);
}

/** One server by id, name or IP (alive preferred; a deleted one only when includeDeleted). */
export async function findServer(db: Kysely<MysqlDB>, ref: string, includeDeleted = true): Promise<ServerRow> {
  const rows = (await db.selectFrom('admin.servers as s').select([...COLS])
    .where((eb) => eb.or([eqExact('s.id', ref), eqExact('s.name', ref), eqExact('s.ip', ref)])).execute()) as ServerRow[];
  const alive = rows.filter((r) => r.deleted_at === null);
  const pick = alive.length ? alive : includeDeleted ? rows : [];
  if (!pick.length) {
    const close = await closestNames(db, { table: 'admin.servers', columns: ['name', 'ip', 'id'], scanAll: true,
      where: includeDeleted ? undefined : sql`deleted_at IS NULL` }, ref);
    throw new NotFoundError(`no such server: ${shownName(ref)}`, { hint: closestHint(close, 'sayclaw servers ls') });
  }
  if (pick.length > 1) {
    throw new UsageError(`"${ref}" matches ${pick.length} servers (${pick.map((r) => r.id).join(', ')})`, { hint: 'name the server by its id' });
  }
  return pick[0]!;
}

export interface ServerDetail { server: ServerRow; instances: Array<{ id: string; container_id: string | null; gateway_port: number | null; health_status: string }> }

export async function showServer(db: Kysely<MysqlDB>, ref: string): Promise<ServerDetail> {
  const server = await findServer(db, ref);
  const instances = await db.selectFrom('admin.oc_instances').select(['id', 'container_id', 'gateway_port', 'health_status'])
    .where('server_id', '=', server.id).where('deleted_at', 'is', null).execute();
  instances.sort((a, b) => naturalCompare(a.id, b.id));
  return { server, instances };
}

/** What add/update may set (the database column names). */
export interface ServerInput {
  name?: string;
  ip?: string;
  region?: string | null;
  provider?: string | null;
  cpu_cores?: number | null;
  memory_gb?: number | null;
  disk_gb?: number | null;
  status?: string;
  ssh_user?: string | null;
  ssh_port?: number;
  docker_port?: number;
  ssh_key_path?: string;
  notes?: string | null;
}

export const SERVER_STATUSES = ['active', 'maintenance', 'draining', 'retired'] as const;
const SERVER_STATUS: Vocabulary = { flag: '--status', known: SERVER_STATUSES, table: 'admin.servers', column: 'status' };

export function validateServerInput(v: ServerInput, creating: boolean): void {
  if (creating && !v.name) throw new UsageError('--name is required');
  if (creating && !v.ip) throw new UsageError('--ip is required');
  if (v.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(v.name)) {
    throw new UsageError(`invalid server name "${v.name}"`, { hint: 'letters, digits, dot, dash and underscore; at most 100' });
  }
  if (v.ip !== undefined && isIP(v.ip) === 0) throw new UsageError(`invalid IP address "${v.ip}"`, { hint: 'an IPv4 or IPv6 address, e.g. 10.0.0.5' });
  for (const k of ['ssh_port', 'docker_port'] as const) {
    const p = v[k];
    if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 65535)) throw new UsageError(`${k} must be a port between 1 and 65535, got ${p}`);
  }
  for (const k of ['cpu_cores', 'memory_gb', 'disk_gb'] as const) {
    const n = v[k];
    if (n !== undefined && n !== null && (!Number.isInteger(n) || n < 0)) throw new UsageError(`${k} must be a whole number >= 0, got ${n}`);
  }
  if (v.ssh_user !== undefined && v.ssh_user !== null && !/^[a-z_][a-z0-9_.-]{0,49}$/i.test(v.ssh_user)) {
    throw new UsageError(`invalid ssh user "${v.ssh_user}"`);
  }
  if (v.ssh_key_path !== undefined && (v.ssh_key_path === '' || v.ssh_key_path.length > 200)) throw new UsageError('--ssh-key-path must be 1 to 200 characters');
  if (v.region !== undefined && v.region !== null && v.region.length > 50) throw new UsageError('--region is at most 50 characters');
  if (v.provider !== undefined && v.provider !== null && v.provider.length > 50) throw new UsageError('--provider is at most 50 characters');
  if (v.status !== undefined && !(SERVER_STATUSES as readonly string[]).includes(v.status)) {
    throw new UsageError(`--status: unknown value "${v.status}"`, { hint: `use one of ${SERVER_STATUSES.join(', ')}` });
  }
}

async function assertUnique(db: Kysely<MysqlDB>, v: ServerInput, exceptId?: string): Promise<void> {
  for (const k of ['name', 'ip'] as const) {
    const val = v[k];
    if (val === undefined) continue;
    let q = db.selectFrom('admin.servers').select(['id', 'name']).where(k, '=', val).where('deleted_at', 'is', null);
    if (exceptId) q = q.where('id', '!=', exceptId);
    const clash = await q.executeTakeFirst();
    if (clash) throw new UsageError(`a server with ${k} ${val} already exists (${clash.name ?? clash.id})`, { hint: 'use servers update to change it' });
  }
}

/** What `servers add --dry-run` checks: valid, and name and IP unique among alive servers. */
export async function checkNewServer(db: Kysely<MysqlDB>, v: ServerInput): Promise<void> {
  validateServerInput(v, true);
  await assertUnique(db, v);
}

/** What `servers update --dry-run` shows: the columns that would change, before and after. */
export async function serverChanges(db: Kysely<MysqlDB>, ref: string, v: ServerInput): Promise<{ server: ServerRow; changes: Array<{ column: string; before: unknown; after: unknown }> }> {
  validateServerInput(v, false);
  const server = await findServer(db, ref);
  const cur = server as unknown as Record<string, unknown>;
  const changes = Object.entries(v).filter(([k, val]) => val !== undefined && cur[k] !== val).map(([column, after]) => ({ column, before: cur[column], after }));
  await assertUnique(db, Object.fromEntries(changes.map((c) => [c.column, c.after])) as ServerInput, server.id);
  return { server, changes };
}

export async function addServer(db: Kysely<MysqlDB>, actor: Actor, v: ServerInput, reason: string | null = null): Promise<ServerRow> {
  validateServerInput(v, true);
  return inTransaction(db, async (trx) => {
    await assertUnique(trx, v);
    const id = crypto.randomUUID();
    const values: Record<string, unknown> = { id };
    for (const [k, val] of Object.entries(v)) if (val !== undefined) values[k] = val;
    await trx.insertInto('admin.servers').values(values as never).execute();
    const row = (await trx.selectFrom('admin.servers as s').select([...COLS]).where('s.id', '=', id).executeTakeFirstOrThrow()) as ServerRow;
    await writeAudit(trx, actor, { action: 'servers.add', target_type: 'server', target_id: id, after: row, reason });
    return row;
  });
}

export async function updateServer(db: Kysely<MysqlDB>, actor: Actor, ref: string, v: ServerInput, reason: string | null = null):
  Promise<{ server: ServerRow; changed: string[] }> {
  validateServerInput(v, false);
  const cur = await findServer(db, ref);
  return inTransaction(db, async (trx) => {
    const before = (await trx.selectFrom('admin.servers as s').select([...COLS]).where('s.id', '=', cur.id).forUpdate().executeTakeFirstOrThrow()) as ServerRow;
    const set: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (val !== undefined && (before as unknown as Record<string, unknown>)[k] !== val) set[k] = val;
    }
    const changed = Object.keys(set);
    if (!changed.length) return { server: before, changed };
    await assertUnique(trx, { name: set.name as string | undefined, ip: set.ip as string | undefined }, cur.id);
    await trx.updateTable('admin.servers').set(set as never).where('id', '=', cur.id).execute();
    const after = (await trx.selectFrom('admin.servers as s').select([...COLS]).where('s.id', '=', cur.id).executeTakeFirstOrThrow()) as ServerRow;
    const pick = (r: ServerRow) => Object.fromEntries(changed.map((k) => [k, (r as unknown as Record<string, unknown>)[k]]));
    await writeAudit(trx, actor, { action: 'servers.update', target_type: 'server', target_id: cur.id, before: pick(before), after: pick(after), reason });
    return { server: after, changed };
  });
}

export interface ServerWriteOutcome { id: string; name: string | null; result: string; alive_instances?: number }

/** Soft delete (or restore) servers in ONE transaction with one audit row each. */
export async function setServersDeleted(db: Kysely<MysqlDB>, actor: Actor, ids: string[], del: boolean, reason: string | null,
  opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<ServerWriteOutcome[]> {
  return inTransaction(db, async (trx) => {
    const out: ServerWriteOutcome[] = [];
    for (const id of ids) {
      if (opts.signal?.aborted) throw new InterruptedError();
      const before = await trx.selectFrom('admin.servers').select(['id', 'name', 'ip', 'status', 'deleted_at']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!before) { out.push({ id, name: null, result: 'not-found' }); continue; }
      if (del) {
        const n = Number((await trx.selectFrom('admin.oc_instances').select(sql<number>`COUNT(*)`.as('n'))
          .where('server_id', '=', id).where('deleted_at', 'is', null).executeTakeFirstOrThrow()).n);
        if (n > 0 && !opts.force) throw new UsageError(`server ${before.name ?? id} still has ${plural(n, 'alive instance')}; nothing changed`, {
          hint: `move or remove them first (sayclaw instances ls --server ${before.name ?? id}), or add --force` });
      }
      const res = await trx.updateTable('admin.servers')
        .set({ deleted_at: del ? sql<Date>`NOW(3)` as never : null })
        .where('id', '=', id).where('deleted_at', del ? 'is' : 'is not', null).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) {
        const after = await trx.selectFrom('admin.servers').select(['deleted_at']).where('id', '=', id).executeTakeFirstOrThrow();
        await writeAudit(trx, actor, { action: del ? 'servers.rm' : 'servers.restore', target_type: 'server', target_id: id,
          reason, before, after: { ...before, deleted_at: after.deleted_at } });
        out.push({ id, name: before.name, result: del ? 'deleted' : 'restored' });
      } else {
        out.push({ id, name: before.name, result: del ? 'already-deleted' : 'not-deleted' });
      }
    }
    return out;
  });
}

export interface ServerSelection {
  names?: string[];
  all?: boolean;
  region?: string;
}

/** The alive servers a remote command targets: names/ids/IPs, --all, or --region. */
export async function resolveServerTargets(db: Kysely<MysqlDB>, sel: ServerSelection): Promise<ServerRow[]> {
  const modes = [sel.names?.length ? 1 : 0, sel.all ? 1 : 0, sel.region ? 1 : 0].reduce((a, b) => a + b, 0);
  if (modes !== 1) throw new UsageError('name servers, or --all, or --region R (exactly one)');
  if (sel.names?.length) {
    const out: ServerRow[] = [];
    const seen = new Set<string>();
    for (const n of sel.names) {
      const s = await findServer(db, n, false);
      if (!seen.has(s.id)) { seen.add(s.id); out.push(s); }
    }
    return out;
  }
  const rows = await listServers(db, { region: sel.region, state: 'alive' });
  if (sel.region && !rows.length) {
    const close = await closestNames(db, { table: 'admin.servers', columns: ['region'], scanAll: true, where: sql`deleted_at IS NULL` }, sel.region);
    throw new NotFoundError(`no alive servers in region ${shownName(sel.region)}`, { hint: closestHint(close, 'sayclaw servers ls') });
  }
  // retired servers are not reached by --all/--region
  return rows.filter((r) => r.status !== 'retired');
}
