// Who has an instance. Three records say so: oc_instances.assigned_user_id (a portal users.id),
// sayclaw_admin.instance_users (instance_id, user_email) and sayclaw_portal.user_instances
// (user_id, instance_id, Telegram binding, setup_status).
//
// The rule (docs/assignment.md): oc_instances.assigned_user_id is the truth. The binding tables
// have no deleted_at and rows are never deleted, so a binding row is CURRENT when its user is the
// assigned user, and HISTORY otherwise. Assign/reassign write (or refresh) the current user's rows
// in both binding tables; unassign clears assigned_user_id and keeps the rows as history, recorded
// by an admin_logs entry. A binding row for a user other than the assigned one that no unassign or
// reassign audit entry explains is drift (someone wrote it outside sayclaw).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { UsageError } from '../../errors.js';
import { emailOrIdIs, eqExact, inExact, naturalCompare, sameText } from '../../db/sql-helpers.js';
import { inTransaction } from '../../db/transaction.js';
import { instanceNotFound } from './targets.js';
import { userNotFound } from '../users/lookup.js';

type Db = Kysely<MysqlDB> | Transaction<MysqlDB>;

export interface AdminBinding { user_email: string; assigned_at: Date; current: boolean; history: boolean }
export interface PortalBinding {
  user_id: string; email: string | null; tg_username: string | null; tg_user_id: string | null; tg_bound_at: Date | null;
  tg_bot_username: string | null; tg_bot_token: string | null; setup_status: string | null; current: boolean; history: boolean;
}
export interface AssignmentView {
  instance_id: string;
  deleted_at: Date | null;
  assigned_user_id: string | null;
  assigned_email: string | null;
  assigned_user_status: string | null;
  admin_bindings: AdminBinding[];
  portal_bindings: PortalBinding[];
  /** empty when the three records agree */
  problems: string[];
}

export const ASSIGN_ACTIONS = { assign: 'instances.assign', unassign: 'instances.unassign', reassign: 'instances.reassign' } as const;

/** Read the three records for the given instances (all instances when ids is null). */
export async function readAssignments(db: Db, ids: string[] | null): Promise<Map<string, AssignmentView>> {
  let iq = db.selectFrom('admin.oc_instances as i').leftJoin('portal.users as u', (j) => j.on(sameText('u.id', 'i.assigned_user_id')))
    .select(['i.id', 'i.deleted_at', 'i.assigned_user_id', 'u.email', 'u.status']);
  if (ids) {
    if (!ids.length) return new Map();
    iq = iq.where(inExact('i.id', ids));
  }
  const inst = await iq.execute();
  const out = new Map<string, AssignmentView>();
  for (const r of inst) {
    out.set(r.id, { instance_id: r.id, deleted_at: r.deleted_at, assigned_user_id: r.assigned_user_id, assigned_email: r.email,
      assigned_user_status: r.status, admin_bindings: [], portal_bindings: [], problems: [] });
  }
  let aq = db.selectFrom('admin.instance_users').select(['instance_id', 'user_email', 'assigned_at']);
  let pq = db.selectFrom('portal.user_instances as ui').leftJoin('portal.users as u', 'u.id', 'ui.user_id')
    .select(['ui.instance_id', 'ui.user_id', 'u.email', 'ui.tg_username', 'ui.tg_user_id', 'ui.tg_bound_at', 'ui.tg_bot_username', 'ui.tg_bot_token', 'ui.setup_status']);
  let hq = db.selectFrom('admin.admin_logs').select(['target_id', 'before_json'])
    .where('target_type', '=', 'instance').where('action', 'in', [ASSIGN_ACTIONS.unassign, ASSIGN_ACTIONS.reassign]);
  if (ids) {
    aq = aq.where('instance_id', 'in', ids);
    pq = pq.where('ui.instance_id', 'in', ids);
    hq = hq.where('target_id', 'in', ids);
  }
  const [admin, portal, hist] = await Promise.all([aq.execute(), pq.execute(), hq.execute()]);
  // former users per instance, as recorded by sayclaw's own unassign/reassign audit rows
  const former = new Map<string, Set<string>>();
  for (const h of hist) {
    try {
      const b = JSON.parse(h.before_json ?? '{}') as { assigned_user_id?: string; assigned_email?: string };
      const s = former.get(h.target_id) ?? new Set<string>();
      if (b.assigned_user_id) s.add(b.assigned_user_id);
      if (b.assigned_email) s.add(b.assigned_email.toLowerCase());
      former.set(h.target_id, s);
    } catch { /* not ours */ }
  }
  for (const a of admin) {
    const v = out.get(a.instance_id);
    if (!v) continue;
    const current = !!v.assigned_email && a.user_email.toLowerCase() === v.assigned_email.toLowerCase();
    v.admin_bindings.push({ user_email: a.user_email, assigned_at: a.assigned_at, current,
      history: !current && !!former.get(a.instance_id)?.has(a.user_email.toLowerCase()) });
  }
  for (const p of portal) {
    const v = out.get(p.instance_id);
    if (!v) continue;
    const current = !!v.assigned_user_id && p.user_id === v.assigned_user_id;
    v.portal_bindings.push({ user_id: p.user_id, email: p.email, tg_username: p.tg_username, tg_user_id: p.tg_user_id,
      tg_bound_at: p.tg_bound_at, tg_bot_username: p.tg_bot_username, tg_bot_token: p.tg_bot_token, setup_status: p.setup_status,
      current, history: !current && !!former.get(p.instance_id)?.has(p.user_id) });
  }
  for (const v of out.values()) v.problems = assignmentProblems(v);
  return out;
}

/** The three records of one instance named by the user (exact id); exit 4 with the closest ids otherwise. */
export async function assignmentOf(db: Db, id: string): Promise<AssignmentView> {
  const v = (await readAssignments(db, [id])).get(id);
  if (!v) throw await instanceNotFound(db, [id]);
  return v;
}

export function assignmentProblems(v: AssignmentView): string[] {
  const p: string[] = [];
  if (v.assigned_user_id) {
    if (!v.assigned_email) p.push(`assigned_user_id ${v.assigned_user_id} is not a portal user`);
    else {
      if (!v.admin_bindings.some((b) => b.current)) p.push(`sayclaw_admin.instance_users has no row for ${v.assigned_email}`);
      if (!v.portal_bindings.some((b) => b.current)) p.push(`sayclaw_portal.user_instances has no row for ${v.assigned_email}`);
      if (v.assigned_user_status === 'revoked') p.push(`assigned to revoked user ${v.assigned_email}`);
    }
    if (v.deleted_at) p.push('soft-deleted instance is still assigned');
  }
  for (const b of v.admin_bindings) {
    if (!b.current && !b.history) p.push(`sayclaw_admin.instance_users names ${b.user_email} but oc_instances says ${v.assigned_email ?? 'unassigned'}`);
  }
  for (const b of v.portal_bindings) {
    if (!b.current && !b.history) p.push(`sayclaw_portal.user_instances names ${b.email ?? b.user_id} but oc_instances says ${v.assigned_email ?? 'unassigned'}`);
  }
  return p;
}

/** Instances whose three records disagree, naturally sorted. */
export async function checkBindings(db: Kysely<MysqlDB>, opts: { includeDeleted?: boolean } = {}): Promise<AssignmentView[]> {
  const all = await readAssignments(db, null);
  return [...all.values()]
    .filter((v) => v.problems.length && (opts.includeDeleted || !v.deleted_at || v.assigned_user_id))
    .sort((a, b) => naturalCompare(a.instance_id, b.instance_id));
}

export interface PortalUserRef { id: string; email: string; status: string; name: string | null }

/** findPortalUser, or exit 4 with the closest emails. */
export async function portalUser(db: Db, emailOrId: string): Promise<PortalUserRef> {
  const u = await findPortalUser(db, emailOrId);
  if (!u) throw await userNotFound(db, emailOrId);
  return u;
}

export async function findPortalUser(db: Db, emailOrId: string, lock = false): Promise<PortalUserRef | undefined> {
  const q = db.selectFrom('portal.users').select(['id', 'email', 'status', 'name']).where(emailOrIdIs('email', 'id', emailOrId));
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

interface LockedInstance { id: string; assigned_user_id: string | null; deleted_at: Date | null }

async function lockInstance(trx: Transaction<MysqlDB>, id: string): Promise<LockedInstance> {
  const row = await trx.selectFrom('admin.oc_instances').select(['id', 'assigned_user_id', 'deleted_at'])
    .where(eqExact('id', id)).forUpdate().executeTakeFirst();
  if (!row) throw await instanceNotFound(trx, [id]);
  return row;
}

async function emailOf(trx: Db, userId: string | null): Promise<string | null> {
  if (!userId) return null;
  const u = await trx.selectFrom('portal.users').select('email').where('id', '=', userId).executeTakeFirst();
  return u?.email ?? null;
}

/** Write the current user's rows in both binding tables (insert, or refresh assigned_at). */
async function writeBindings(trx: Transaction<MysqlDB>, instanceId: string, user: PortalUserRef): Promise<void> {
  await trx.insertInto('admin.instance_users').values({ instance_id: instanceId, user_email: user.email, assigned_at: sql<Date>`NOW(3)` as never })
    .onDuplicateKeyUpdate({ assigned_at: sql<Date>`NOW(3)` as never }).execute();
  await trx.insertInto('portal.user_instances').values({ user_id: user.id, instance_id: instanceId, setup_status: 'pending' })
    .onDuplicateKeyUpdate({ instance_id: instanceId }).execute();
}

export interface AssignResult { instance_id: string; action: string; from: string | null; to: string | null; changed: boolean }

/**
 * assign / reassign inside the caller's transaction. assign refuses an instance that already
 * has another user (use reassign); both refuse deleted instances and revoked users (exit 2).
 */
export async function assignInTrx(trx: Transaction<MysqlDB>, actor: Actor, instanceId: string, emailOrId: string,
  opts: { reassign: boolean; reason?: string | null }): Promise<AssignResult> {
  const inst = await lockInstance(trx, instanceId);
  if (inst.deleted_at) throw new UsageError(`instance ${instanceId} is soft-deleted; nothing changed`, { hint: `restore it first: sayclaw instances restore ${instanceId}` });
  // locked: a concurrent `users revoke` cannot slip between the status check and the write
  const user = await findPortalUser(trx, emailOrId, true);
  if (!user) throw await userNotFound(trx, emailOrId);
  if (user.status === 'revoked') throw new UsageError(`user ${user.email} is revoked; nothing changed`, { hint: `restore the user first: sayclaw users restore ${user.email}` });
  const fromEmail = await emailOf(trx, inst.assigned_user_id);
  const action = opts.reassign ? ASSIGN_ACTIONS.reassign : ASSIGN_ACTIONS.assign;
  if (inst.assigned_user_id && inst.assigned_user_id !== user.id && !opts.reassign) {
    throw new UsageError(`instance ${instanceId} is assigned to ${fromEmail ?? inst.assigned_user_id}; nothing changed`, {
      hint: `use: sayclaw instances reassign ${instanceId} ${user.email}` });
  }
  if (inst.assigned_user_id === user.id) {
    // already the user: repair missing binding rows, if any, without touching history
    const v = (await readAssignments(trx, [instanceId])).get(instanceId)!;
    if (v.problems.length === 0) return { instance_id: instanceId, action, from: fromEmail, to: user.email, changed: false };
  }
  await trx.updateTable('admin.oc_instances').set({ assigned_user_id: user.id })
    .where('id', '=', instanceId).where('deleted_at', 'is', null).execute();
  await writeBindings(trx, instanceId, user);
  await writeAudit(trx, actor, { action, target_type: 'instance', target_id: instanceId, reason: opts.reason,
    before: { assigned_user_id: inst.assigned_user_id, assigned_email: fromEmail },
    after: { assigned_user_id: user.id, assigned_email: user.email } });
  return { instance_id: instanceId, action, from: fromEmail, to: user.email, changed: true };
}

/** assign / reassign (email given) or unassign (email null) in one transaction of its own. */
export function changeAssignment(db: Kysely<MysqlDB>, actor: Actor, instanceId: string, emailOrId: string | null,
  opts: { reassign: boolean; reason?: string | null }): Promise<AssignResult> {
  return inTransaction(db, (trx) => (emailOrId === null
    ? unassignInTrx(trx, actor, instanceId, { reason: opts.reason })
    : assignInTrx(trx, actor, instanceId, emailOrId, opts)));
}

/** unassign inside the caller's transaction; binding rows stay as history (see the top of this file). */
export async function unassignInTrx(trx: Transaction<MysqlDB>, actor: Actor, instanceId: string,
  opts: { reason?: string | null } = {}): Promise<AssignResult> {
  const inst = await lockInstance(trx, instanceId);
  if (!inst.assigned_user_id) return { instance_id: instanceId, action: ASSIGN_ACTIONS.unassign, from: null, to: null, changed: false };
  const fromEmail = await emailOf(trx, inst.assigned_user_id);
  const res = await trx.updateTable('admin.oc_instances').set({ assigned_user_id: null })
    .where('id', '=', instanceId).where('assigned_user_id', '=', inst.assigned_user_id).executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return { instance_id: instanceId, action: ASSIGN_ACTIONS.unassign, from: fromEmail, to: null, changed: false };
  await writeAudit(trx, actor, { action: ASSIGN_ACTIONS.unassign, target_type: 'instance', target_id: instanceId, reason: opts.reason,
    before: { assigned_user_id: inst.assigned_user_id, assigned_email: fromEmail }, after: { assigned_user_id: null } });
  return { instance_id: instanceId, action: ASSIGN_ACTIONS.unassign, from: fromEmail, to: null, changed: true };
}
