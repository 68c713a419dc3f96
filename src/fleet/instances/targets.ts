// Resolving instances named on the command line (ids, or --prefix) together with the server
// each lives on: the shared lookup for container operations, health probes and writes.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { likePrefix, naturalCompare } from '../../db/sql-helpers.js';
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

/** Closest known ids to a missing one (for "did you mean"). */
export async function suggestIds(db: Kysely<MysqlDB>, missing: string, limit = 3): Promise<string[]> {
  const stem = missing.replace(/[-_]?\d+$/, '');
  const rows = await db.selectFrom('admin.oc_instances').select('id')
    .where(likePrefix('id', stem.slice(0, Math.max(3, stem.length)))).limit(200).execute();
  return closest(missing, rows.map((r) => r.id), limit);
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
  if (q.ids?.length) query = query.where('i.id', 'in', q.ids);
  if (q.prefix !== undefined) {
    if (q.prefix === '') throw new UsageError('--prefix must not be empty', { hint: 'use --all to mean every instance' });
    query = query.where(likePrefix('i.id', q.prefix));
  }
  if (!q.includeDeleted && !q.ids?.length) query = query.where('i.deleted_at', 'is', null);
  const rows = (await query.execute()) as InstanceTarget[];
  if (q.ids?.length) {
    const found = new Set(rows.map((r) => r.id));
    const missing = q.ids.filter((id) => !found.has(id));
    if (missing.length) {
      const sugg = await suggestIds(db, missing[0]!);
      throw new NotFoundError(`no such instance: ${missing.join(', ')}`, { hint: sugg.length ? `did you mean ${sugg.join(', ')}?` : 'list them with: sayclaw instances ls' });
    }
    if (!q.includeDeleted) {
      const dead = rows.filter((r) => r.deleted_at !== null).map((r) => r.id);
      if (dead.length) throw new UsageError(`instance is soft-deleted: ${dead.join(', ')}`, { hint: 'restore it first: sayclaw instances restore ID' });
    }
  }
  return rows.sort((a, b) => naturalCompare(a.id, b.id));
}

export { sql };
