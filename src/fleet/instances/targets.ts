// Resolving instances named on the command line (ids, or --prefix) together with the server
// each lives on: the shared lookup for container operations, health probes and writes.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { inExact, likePrefix, naturalCompare } from '../../db/sql-helpers.js';
import { closestHint, closestNames, shownName, type NameSource } from '../suggest.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { closest } from '../closest.js';

export interface InstanceTarget {
  id: string;
  container_id: string | null;
  gateway_port: number | null;
  gateway_url: string | null;
  health_status: string;
  health_fail_count: number;
  deleted_at: Date | null;
  server_id: string | null;
  server_name: string | null;
  server_ip: string | null;
  ssh_user: string | null;
  ssh_port: number | null;
  ssh_key_path: string | null;
  docker_port: number | null;
  server_deleted_at: Date | null;
}

export interface TargetQuery {
  ids?: string[];
  prefix?: string;
  /** every alive instance */
  all?: boolean;
  /** include soft-deleted instances (default: alive only; explicit ids that are deleted are an error) */
  includeDeleted?: boolean;
}

/** Where the closest ids to a missing one are looked for. */
const INSTANCE_IDS: NameSource = { table: 'admin.oc_instances', columns: ['id'] };

/** "no such instance: X (closest: ...)" (exit 4), for any verb that names instances by id. */
export async function instanceNotFound(db: Kysely<MysqlDB>, missing: string[], suffix = ''): Promise<NotFoundError> {
  const close = await closestNames(db, INSTANCE_IDS, missing[0]!);
  return new NotFoundError(`no such instance: ${missing.map(shownName).join(', ')}${suffix}`, { hint: closestHint(close, 'sayclaw instances ls --all') });
}

export async function resolveInstanceTargets(db: Kysely<MysqlDB>, q: TargetQuery): Promise<InstanceTarget[]> {
  const modes = [q.ids?.length ? 1 : 0, q.prefix !== undefined ? 1 : 0, q.all ? 1 : 0].reduce((a, b) => a + b, 0);
  if (modes !== 1) throw new UsageError('name instances by id, or --prefix P, or --all (exactly one)');
  let query = db.selectFrom('admin.oc_instances as i')
    .leftJoin('admin.servers as s', 's.id', 'i.server_id')
    .select([
      'i.id', 'i.container_id', 'i.gateway_port', 'i.gateway_url', 'i.health_status', 'i.health_fail_count', 'i.deleted_at', 'i.server_id',
      's.name as server_name', 's.ip as server_ip', 's.ssh_user', 's.ssh_port', 's.ssh_key_path', 's.docker_port',
      's.deleted_at as server_deleted_at',
    ]);
  if (q.ids?.length) query = query.where(inExact('i.id', q.ids));
  if (q.prefix !== undefined) {
    if (q.prefix === '') throw new UsageError('--prefix must not be empty', { hint: 'use --all to mean every instance' });
    query = query.where(likePrefix('i.id', q.prefix));
  }
  if (!q.includeDeleted && !q.ids?.length) query = query.where('i.deleted_at', 'is', null);
  const rows = (await query.execute()) as InstanceTarget[];
  if (q.ids?.length) {
    const found = new Set(rows.map((r) => r.id));
    const missing = q.ids.filter((id) => !found.has(id));
    if (missing.length) throw await instanceNotFound(db, missing);
    if (!q.includeDeleted) {
      const dead = rows.filter((r) => r.deleted_at !== null).map((r) => r.id);
      if (dead.length) throw new UsageError(`instance is soft-deleted: ${dead.join(', ')}`, { hint: 'restore it first: sayclaw instances restore ID' });
    }
  }
  return rows.sort((a, b) => naturalCompare(a.id, b.id));
}

export { sql };
