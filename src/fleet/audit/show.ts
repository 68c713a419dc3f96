// sayclaw audit show ID: one admin_logs row with its before/after as field changes. The id may
// be given whole or as a unique prefix (like git); an unknown id is exit 4 with the closest ids.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqExact, likePrefix } from '../../db/sql-helpers.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { closest } from '../closest.js';
import { AUDIT_SELECT, auditView, fieldChanges, nameTargets, type AuditEntryView, type FieldChange } from './read.js';

export { actorOf } from './read.js';

export interface AuditDetail extends AuditEntryView {
  /** how many rows the run that wrote it wrote (run_id: src/db/transaction.ts) */
  run_rows: number | null;
  changes: FieldChange[];
}

export async function showAudit(db: Kysely<MysqlDB>, ref: string): Promise<AuditDetail> {
  const want = ref.trim();
  if (!want) throw new UsageError('name an audit row by its id', { hint: 'find ids with: sayclaw audit ls -o wide' });
  const base = db.selectFrom('admin.admin_logs').select([...AUDIT_SELECT]).where('deleted_at', 'is', null);
  let row = await base.where(eqExact('id', want)).executeTakeFirst();
  if (!row && want.length >= 8) {
    const rows = await base.where(likePrefix('id', want)).orderBy('id').limit(6).execute();
    if (rows.length > 1) {
      throw new UsageError(`"${want}" is the start of ${rows.length > 5 ? 'more than 5' : rows.length} audit ids (${rows.slice(0, 5).map((r) => r.id).join(', ')})`, {
        hint: 'give more of the id' });
    }
    row = rows[0];
  }
  if (!row) {
    const sugg = await suggestAuditIds(db, want);
    throw new NotFoundError(`no such audit row: ${want}`, { hint: sugg.length ? `closest: ${sugg.join(', ')}` : 'list them with: sayclaw audit ls -o wide' });
  }
  const [v] = await nameTargets(db, [auditView(row)]);
  const runId = v!.run_id;
  const runRows = runId ? await db.selectFrom('admin.admin_logs').select(sql<string>`COUNT(*)`.as('n'))
    .where(likePrefix('id', `${runId}-`)).executeTakeFirstOrThrow() : null;
  return { ...v!, run_rows: runRows ? Number(runRows.n) : null, changes: fieldChanges(v!.before, v!.after) };
}

/** Ids sharing the longest start with the missing one (found by primary-key ranges), closest first. */
async function suggestAuditIds(db: Kysely<MysqlDB>, missing: string): Promise<string[]> {
  for (const n of [8, 4, 1]) {
    if (missing.length < n) continue;
    const rows = await db.selectFrom('admin.admin_logs').select('id').where(likePrefix('id', missing.slice(0, n))).limit(200).execute();
    if (rows.length) return closest(missing, rows.map((r) => r.id));
  }
  return [];
}
