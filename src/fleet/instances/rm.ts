// sayclaw instances rm | restore: picking the rows of a bulk soft delete / restore and writing
// them in one transaction with their audit rows, race-safe (WHERE deleted_at IS NULL).
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { instanceNotFound } from './targets.js';
import { listInstances, type InstanceFilter, type InstanceListRow } from './ls.js';
import { inTransaction } from '../../db/transaction.js';

export interface WriteOutcome { id: string; result: string }

/**
 * The rows a bulk write will change: explicit ids (all must exist) or a filter. The guards
 * (--max, the fleet-wide guard) are the Plan's (src/plan.ts).
 */
export async function selectForWrite(db: Kysely<MysqlDB>, sel: { ids?: string[]; filter?: InstanceFilter }, want: 'alive' | 'deleted'):
  Promise<{ targets: InstanceListRow[]; skipped: WriteOutcome[] }> {
  if (sel.ids?.length) {
    const ids = [...new Set(sel.ids)];
    const rows = await listInstances(db, { ids, state: 'all' });
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((i) => !found.has(i));
    if (missing.length) throw await instanceNotFound(db, missing, '; nothing changed');
    const targets = rows.filter((r) => (want === 'alive' ? r.deleted_at === null : r.deleted_at !== null));
    const skipped = rows.filter((r) => !targets.includes(r)).map((r) => ({ id: r.id, result: want === 'alive' ? 'already-deleted' : 'not-deleted' }));
    return { targets, skipped };
  }
  if (!sel.filter) throw new UsageError('name instances by id or with --prefix P [filters]');
  return { targets: await listInstances(db, { ...sel.filter, state: want }), skipped: [] };
}

/**
 * Soft delete (deleted_at = NOW(3)) or restore (deleted_at = NULL) in ONE transaction with one
 * audit row per changed row. A row someone else changed meanwhile is reported, not audited.
 */
export async function setDeleted(db: Kysely<MysqlDB>, actor: Actor, ids: string[], del: boolean, reason: string | null,
  signal?: AbortSignal): Promise<WriteOutcome[]> {
  return inTransaction(db, async (trx) => {
    const out: WriteOutcome[] = [];
    for (const id of ids) {
      if (signal?.aborted) throw new InterruptedError();
      const before = await trx.selectFrom('admin.oc_instances').select(['id', 'deleted_at', 'assigned_user_id', 'server_id'])
        .where('id', '=', id).forUpdate().executeTakeFirst();
      const res = await trx.updateTable('admin.oc_instances')
        .set({ deleted_at: del ? sql<Date>`NOW(3)` as never : null })
        .where('id', '=', id)
        .where('deleted_at', del ? 'is' : 'is not', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) {
        const after = await trx.selectFrom('admin.oc_instances').select(['deleted_at']).where('id', '=', id).executeTakeFirstOrThrow();
        await writeAudit(trx, actor, { action: del ? 'instances.rm' : 'instances.restore', target_type: 'instance', target_id: id,
          reason, before, after: { ...before, deleted_at: after.deleted_at } });
        out.push({ id, result: del ? 'deleted' : 'restored' });
      } else {
        out.push({ id, result: del ? 'already-deleted' : 'not-deleted' });
      }
    }
    return out;
  });
}

