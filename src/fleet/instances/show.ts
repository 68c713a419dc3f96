// sayclaw instances show: one instance in full (row, server, the three assignment records,
// parsed config (JSON5), recent health history).
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqExact } from '../../db/sql-helpers.js';
import { readAssignments, type AssignmentView } from './assignment.js';
import { instanceNotFound } from './targets.js';
import { parseConfigJson } from './config-json.js';

export interface InstanceDetail {
  instance: Record<string, unknown>;
  server: Record<string, unknown> | null;
  assignment: AssignmentView;
  config: unknown;
  config_error: string | null;
  health_history: Array<Record<string, unknown>>;
}

export async function showInstance(db: Kysely<MysqlDB>, id: string, historyLimit = 10): Promise<InstanceDetail> {
  const inst = await db.selectFrom('admin.oc_instances').selectAll().where(eqExact('id', id)).executeTakeFirst();
  if (!inst) throw await instanceNotFound(db, [id]);
  const server = inst.server_id
    ? await db.selectFrom('admin.servers').select(['id', 'name', 'ip', 'region', 'provider', 'status', 'ssh_user', 'ssh_port', 'deleted_at'])
      .where('id', '=', inst.server_id).executeTakeFirst() ?? null
    : null;
  const assignment = (await readAssignments(db, [inst.id])).get(inst.id)!;
  const { config, error: configError } = await parseConfigJson(inst.config_json);
  const health = await db.selectFrom('admin.oc_health_logs')
    .select(['checked_at', 'status', 'live', 'ready', 'latency_ms', 'http_status', 'error', 'via'])
    .where(eqExact('instance_id', inst.id)).where('deleted_at', 'is', null).orderBy('checked_at', 'desc').limit(historyLimit).execute();
  const { config_json: _c, ...rest } = inst;
  return { instance: rest, server: server as Record<string, unknown> | null, assignment, config, config_error: configError, health_history: health };
}

