// sayclaw audit ls: admin_logs rows, newest first, filtered by time, actor, action, target.
// The filters are written so that MySQL can use admin_logs' indexes (target_id, created_at) and
// (action, created_at) (see src/db/ddl.ts; the tests check it with EXPLAIN).
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqExact, inExact, likePrefix } from '../../db/sql-helpers.js';
import { checkChoice, type Vocabulary } from '../choices.js';
import { UsageError } from '../../errors.js';
import type { TimeWindow } from '../window.js';
import { AUDIT_SELECT, auditView, nameTargets, type AuditEntryView } from './read.js';

export { targetIdsFor } from './read.js';

export interface AuditFilter extends TimeWindow {
  /** the OS user or the configured operator, exact */
  actor?: string;
  /** exact action names or prefixes written with a trailing `*` (`instances.*`) */
  actions?: string[];
  /** exact target_ids (see targetIdsFor) */
  targets?: string[];
  targetType?: string;
  /** target_id starts with this (literally) */
  targetPrefix?: string;
  /** the run id: the first 23 characters of the admin_logs ids one sayclaw run wrote */
  run?: string;
  /** 0: no limit */
  limit?: number;
}

/** A run id (src/db/transaction.ts): 8-4-4-4 hex digits. */
const RUN_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/i;
const ACTION_RE = /^[A-Za-z0-9_.:-]+\*?$|^\*$/;

/** `instances.rm,users.*` (or repeated flags) -> checked patterns. */
export function parseActions(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  const out = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const a of out) {
    if (!ACTION_RE.test(a)) {
      throw new UsageError(`invalid --action "${a}"`, { hint: 'give an action name such as instances.rm, or a prefix ending in * such as instances.*' });
    }
  }
  return out.includes('*') ? undefined : out;
}

/** The query audit ls runs (exported for the EXPLAIN test and the benchmark). */
export function auditQuery(db: Kysely<MysqlDB>, f: AuditFilter) {
  let q = db.selectFrom('admin.admin_logs').select([...AUDIT_SELECT]).where('deleted_at', 'is', null);
  if (f.targets?.length) q = f.targets.length === 1 ? q.where(eqExact('target_id', f.targets[0]!)) : q.where(inExact('target_id', f.targets));
  if (f.targetPrefix !== undefined) {
    if (f.targetPrefix === '') throw new UsageError('--target-prefix must not be empty');
    q = q.where(likePrefix('target_id', f.targetPrefix));
  }
  if (f.targetType !== undefined) q = q.where(eqExact('target_type', f.targetType));
  if (f.run !== undefined) {
    if (!RUN_RE.test(f.run)) throw new UsageError(`--run expects a run id like 3f0c9a1e-5b2d-4c1a-9e7f (23 characters), got "${f.run}"`);
    q = q.where(likePrefix('id', `${f.run.toLowerCase()}-`));
  }
  if (f.from) q = q.where('created_at', '>=', f.from);
  if (f.to) q = q.where('created_at', '<', f.to);
  if (f.actor !== undefined) {
    const actor = f.actor;
    q = q.where((eb) => eb.or([eqExact('os_user', actor), eqExact('operator', actor)]));
  }
  const actions = f.actions ?? [];
  if (actions.length) {
    const exact = actions.filter((a) => !a.endsWith('*'));
    const prefixes = actions.filter((a) => a.endsWith('*')).map((a) => a.slice(0, -1));
    q = q.where((eb) => eb.or([
      ...(exact.length ? [inExact('action', exact)] : []),
      ...prefixes.map((p) => (p ? likePrefix('action', p) : sql<boolean>`TRUE`)),
    ]));
  }
  q = q.orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (f.limit) q = q.limit(f.limit);
  return q;
}

/** The target types sayclaw writes; others that admin_logs holds are accepted too. */
const TARGET_TYPE: Vocabulary = { flag: '--target-type', known: ['instance', 'server', 'user', 'admin_user', 'api_master_key', 'api_master_keys', 'usage_daily'],
  table: 'admin.admin_logs', column: 'target_type' };

export async function listAudit(db: Kysely<MysqlDB>, f: AuditFilter): Promise<AuditEntryView[]> {
  if (f.from && f.to && f.from >= f.to) throw new UsageError('the time range is empty: --since must be before --until');
  if (f.targetType !== undefined) await checkChoice(db, TARGET_TYPE, f.targetType);
  const rows = await auditQuery(db, f).execute();
  return nameTargets(db, rows.map(auditView));
}
