// The one audit writer: a row in sayclaw_admin.admin_logs, written inside the caller's
// transaction so the change and its audit row commit together.
import type { Kysely, Transaction } from 'kysely';
import { toData } from '../../output/format.js';
import { maskDeep } from '../../output/mask.js';
import type { MysqlDB } from '../../db/types.js';
import { markerId } from '../../db/transaction.js';

export interface Actor { os_user: string; operator: string | null }

export interface AuditEntry {
  action: string;
  target_type: string;
  target_id: string;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(toData(maskDeep(v)));
}

export async function writeAudit(trx: Transaction<MysqlDB> | Kysely<MysqlDB>, actor: Actor, e: AuditEntry): Promise<void> {
  await trx.insertInto('admin.admin_logs').values({
    // inside inTransaction: RUNID-TTTTTTRRRRRR, the marker that resolves a lost COMMIT
    id: markerId(trx, 'admin.admin_logs'),
    os_user: actor.os_user,
    operator: actor.operator,
    action: e.action,
    target_type: e.target_type,
    target_id: e.target_id,
    before_json: json(e.before),
    after_json: json(e.after),
    reason: e.reason ?? null,
    tool: 'sayclaw',
  }).execute();
}
