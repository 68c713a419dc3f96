// One timeline, oldest first, for `instances history`, `users history` and `servers history`:
// the audit rows about it, health status transitions from oc_health_logs (not every probe), the
// assignment binding rows (instance_users.assigned_at, user_instances.tg_bound_at) and the dates
// the row itself carries (created_at, deleted_at, revoked_at). Where an audit row records the same
// change as a binding row, a date or a health transition, the two are shown as one event (the
// audit row says who did it); a date no audit row explains is shown as changed outside sayclaw.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqEmail, eqExact, inExact } from '../../db/sql-helpers.js';
import type { TimeWindow } from '../window.js';
import { ASSIGN_ACTIONS } from '../instances/assignment.js';
import { instanceNotFound } from '../instances/targets.js';
import { findServer } from '../servers/registry.js';
import { getUser } from '../users/registry.js';
import { AUDIT_SELECT, actorOf, auditView, type AuditEntryView } from './read.js';

export type TimelineSource = 'audit' | 'health' | 'binding' | 'record';

export interface TimelineEvent {
  at: Date;
  /** the audit action (instances.rm), or health, binding, telegram, created, deleted, revoked */
  event: string;
  target_type: string;
  target_id: string;
  /** target_id, or the subject's email or name when the event is about the subject itself */
  target: string;
  actor: string | null;
  detail: string;
  reason: string | null;
  source: TimelineSource;
  audit_id: string | null;
}

type Ev = Omit<TimelineEvent, 'target'>;

export interface Timeline {
  subject: { type: string; id: string; name: string | null };
  events: TimelineEvent[];
  /** e.g. "no oc_instances row: only its audit rows are shown" */
  notes: string[];
}

/** An audit row and the date of the change it records count as one event within this many ms. */
const SAME_CHANGE_MS = 5000;

const near = (a: Date, b: Date) => Math.abs(a.getTime() - b.getTime()) <= SAME_CHANGE_MS;
const inWindow = (d: Date, w: TimeWindow) => (!w.from || d >= w.from) && (!w.to || d < w.to);
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});

function auditEvent(a: AuditEntryView): Ev {
  return { at: a.created_at, event: a.action, target_type: a.target_type, target_id: a.target_id, actor: actorOf(a),
    detail: a.summary, reason: a.reason, source: 'audit', audit_id: a.id };
}

async function auditRows(db: Kysely<MysqlDB>, targetType: string, ids: string[], w: TimeWindow, actions?: string[]): Promise<AuditEntryView[]> {
  if (!ids.length) return [];
  let q = db.selectFrom('admin.admin_logs').select([...AUDIT_SELECT]).where('deleted_at', 'is', null)
    .where('target_type', '=', targetType);
  q = ids.length === 1 ? q.where(eqExact('target_id', ids[0]!)) : q.where(inExact('target_id', ids));
  if (actions) q = q.where('action', 'in', actions);
  if (w.from) q = q.where('created_at', '>=', w.from);
  if (w.to) q = q.where('created_at', '<', w.to);
  return (await q.orderBy('created_at').orderBy('id').execute()).map(auditView);
}

/** A dated fact about the row (created, deleted) unless an audit row records that change. */
function recordEvent(out: Ev[], audits: AuditEntryView[], e: Omit<TimelineEvent, 'source' | 'audit_id' | 'actor' | 'reason' | 'target'>,
  explains: (a: AuditEntryView) => boolean, w: TimeWindow): void {
  if (!inWindow(e.at, w)) return;
  if (audits.some((a) => near(a.created_at, e.at) && explains(a))) return;
  out.push({ ...e, actor: null, reason: null, source: 'record', audit_id: null });
}

const createdBy = (a: AuditEntryView) => /\.(add|create)$/.test(a.action);
const deletedBy = (a: AuditEntryView) => rec(a.after).deleted_at !== undefined && rec(a.after).deleted_at !== null;

interface Transition { at: Date; status: string; prev: string | null; error: string | null; via: string }

/** Status changes only: each probe whose status differs from the probe before it (the first probe too). */
async function healthTransitions(db: Kysely<MysqlDB>, instanceId: string, w: TimeWindow): Promise<Transition[]> {
  const r = await sql<Transition>`SELECT at, status, prev, error, via FROM (
      SELECT checked_at AS at, status, error, via, LAG(status) OVER (ORDER BY checked_at, id) AS prev
      FROM ${sql.table('admin.oc_health_logs')}
      WHERE instance_id = ${instanceId} AND deleted_at IS NULL${w.to ? sql` AND checked_at < ${w.to}` : sql``}
    ) t WHERE (prev IS NULL OR prev <> status)${w.from ? sql` AND at >= ${w.from}` : sql``} ORDER BY at`.execute(db);
  return r.rows;
}

/** Health transitions, each merged with the instances.health audit row that recorded it (who probed). */
function healthEvents(instanceId: string, transitions: Transition[], audits: AuditEntryView[], out: Ev[]): Set<string> {
  const claimed = new Set<string>();
  for (const t of transitions) {
    const a = audits.find((x) => x.action === 'instances.health' && !claimed.has(x.id) && near(x.created_at, t.at)
      && rec(x.after).health_status === t.status);
    if (a) claimed.add(a.id);
    const detail = `${t.prev === null ? 'first probe: ' : `${t.prev} \u2192 `}${t.status}${t.error ? ` (${t.error})` : ''} via ${t.via}`;
    out.push({ at: t.at, event: 'health', target_type: 'instance', target_id: instanceId, actor: a ? actorOf(a) : null, detail,
      reason: a?.reason ?? null, source: 'health', audit_id: a?.id ?? null });
  }
  return claimed;
}

/** Binding rows; one an assign/reassign audit row wrote at the same moment is that audit row's event. */
async function bindingEvents(db: Kysely<MysqlDB>, by: { instanceIds?: string[]; email?: string; userId?: string },
  assignAudits: AuditEntryView[], w: TimeWindow, out: Ev[]): Promise<void> {
  let aq = db.selectFrom('admin.instance_users').select(['instance_id', 'user_email', 'assigned_at']);
  let pq = db.selectFrom('portal.user_instances as ui').leftJoin('portal.users as u', 'u.id', 'ui.user_id')
    .select(['ui.instance_id', 'ui.user_id', 'u.email', 'ui.tg_username', 'ui.tg_bot_username', 'ui.tg_bound_at'])
    .where('ui.tg_bound_at', 'is not', null);
  if (by.instanceIds) {
    if (!by.instanceIds.length) return;
    aq = aq.where(inExact('instance_id', by.instanceIds));
    pq = pq.where(inExact('ui.instance_id', by.instanceIds));
  }
  if (by.email !== undefined) aq = aq.where(eqEmail('user_email', by.email));
  if (by.userId !== undefined) pq = pq.where(eqExact('ui.user_id', by.userId));
  const [admin, portal] = await Promise.all([aq.execute(), pq.execute()]);
  for (const b of admin) {
    if (!inWindow(b.assigned_at, w)) continue;
    const explained = assignAudits.some((a) => a.target_id === b.instance_id && near(a.created_at, b.assigned_at)
      && String(rec(a.after).assigned_email ?? '').toLowerCase() === b.user_email.toLowerCase());
    if (explained) continue;
    out.push({ at: b.assigned_at, event: 'binding', target_type: 'instance', target_id: b.instance_id, actor: null,
      detail: `sayclaw_admin.instance_users: ${b.user_email} (no sayclaw assign at that time)`, reason: null, source: 'binding', audit_id: null });
  }
  for (const p of portal) {
    if (!p.tg_bound_at || !inWindow(p.tg_bound_at, w)) continue;
    out.push({ at: p.tg_bound_at, event: 'telegram', target_type: 'instance', target_id: p.instance_id, actor: null,
      detail: `sayclaw_portal.user_instances: ${p.email ?? p.user_id} bound Telegram${p.tg_username ? ` @${p.tg_username}` : ''}${p.tg_bot_username ? ` to bot @${p.tg_bot_username}` : ''}`,
      reason: null, source: 'binding', audit_id: null });
  }
}

const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const SOURCE_ORDER: Record<TimelineSource, number> = { record: 0, binding: 1, audit: 2, health: 3 };

/** Oldest first; events about the subject itself are labelled with its name (email, server name). */
function finish(events: Array<Omit<TimelineEvent, 'target'>>, subject: Timeline['subject']): TimelineEvent[] {
  const out = events.map((e) => ({ ...e, target: e.target_type === subject.type && e.target_id === subject.id ? subject.name ?? e.target_id : e.target_id }));
  return out.sort((a, b) => a.at.getTime() - b.at.getTime() || SOURCE_ORDER[a.source] - SOURCE_ORDER[b.source]
    || cmp(a.audit_id ?? '', b.audit_id ?? ''));
}

export async function instanceTimeline(db: Kysely<MysqlDB>, id: string, w: TimeWindow = {}): Promise<Timeline> {
  const [inst, audits, transitions] = await Promise.all([
    db.selectFrom('admin.oc_instances').select(['id', 'created_at', 'deleted_at']).where(eqExact('id', id)).executeTakeFirst(),
    auditRows(db, 'instance', [id], w),
    healthTransitions(db, id, w),
  ]);
  const notes: string[] = [];
  if (!inst) {
    const any = audits.length || (await db.selectFrom('admin.admin_logs').select('id').where(eqExact('target_id', id))
      .where('target_type', '=', 'instance').limit(1).execute()).length;
    if (!any) throw await instanceNotFound(db, [id]);
    notes.push(`${id} has no oc_instances row; showing what admin_logs records about it`);
  }
  const events: Ev[] = [];
  const claimed = healthEvents(id, transitions, audits, events);
  for (const a of audits) if (!claimed.has(a.id)) events.push(auditEvent(a));
  const assignAudits = audits.filter((a) => a.action === ASSIGN_ACTIONS.assign || a.action === ASSIGN_ACTIONS.reassign);
  await bindingEvents(db, { instanceIds: [id] }, assignAudits, w, events);
  if (inst) {
    recordEvent(events, audits, { at: inst.created_at, event: 'created', target_type: 'instance', target_id: id,
      detail: 'oc_instances row created (no sayclaw audit row)' }, createdBy, w);
    if (inst.deleted_at) {
      recordEvent(events, audits, { at: inst.deleted_at, event: 'deleted', target_type: 'instance', target_id: id,
        detail: 'soft-deleted (deleted_at set) with no sayclaw audit row: changed outside sayclaw' }, deletedBy, w);
    }
  }
  const subject = { type: 'instance', id, name: id };
  return { subject, events: finish(events, subject), notes };
}

const ASSIGNMENT = [ASSIGN_ACTIONS.assign, ASSIGN_ACTIONS.reassign, ASSIGN_ACTIONS.unassign];

/** A user's own changes, and the assignment events of every instance they have or had. */
export async function userTimeline(db: Kysely<MysqlDB>, emailOrId: string, w: TimeWindow = {}): Promise<Timeline> {
  const user = await getUser(db, emailOrId); // exit 4 with the closest emails
  const email = user.email.toLowerCase();
  const [own, a, b, c] = await Promise.all([
    auditRows(db, 'user', [user.id], w),
    db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', user.id).execute(),
    db.selectFrom('portal.user_instances').select('instance_id').where('user_id', '=', user.id).execute(),
    db.selectFrom('admin.instance_users').select('instance_id').where('user_email', '=', user.email).execute(),
  ]);
  const instanceIds = [...new Set([...a.map((r) => r.id), ...b.map((r) => r.instance_id), ...c.map((r) => r.instance_id)])];
  const names = (v: unknown) => {
    const r = rec(v);
    return r.assigned_user_id === user.id || String(r.assigned_email ?? '').toLowerCase() === email;
  };
  const assign = (await auditRows(db, 'instance', instanceIds, w, ASSIGNMENT)).filter((x) => names(x.before) || names(x.after));
  const events: Ev[] = [...own, ...assign].map(auditEvent);
  await bindingEvents(db, { email: user.email, userId: user.id }, assign.filter((x) => x.action !== ASSIGN_ACTIONS.unassign), w, events);
  recordEvent(events, own, { at: user.created_at, event: 'created', target_type: 'user', target_id: user.id,
    detail: `portal user ${user.email} created (no sayclaw audit row)` }, createdBy, w);
  if (user.revoked_at) {
    recordEvent(events, own, { at: user.revoked_at, event: 'revoked', target_type: 'user', target_id: user.id,
      detail: 'revoked (revoked_at set) with no sayclaw audit row: changed outside sayclaw' }, (x) => x.action === 'users.revoke', w);
  }
  if (user.telegram_bound_at && inWindow(user.telegram_bound_at, w)) {
    events.push({ at: user.telegram_bound_at, event: 'telegram', target_type: 'user', target_id: user.id, actor: null,
      detail: `sayclaw_portal.users: Telegram bound${user.telegram_username ? ` @${user.telegram_username}` : ''}`, reason: null, source: 'record', audit_id: null });
  }
  const subject = { type: 'user', id: user.id, name: user.email };
  return { subject, events: finish(events, subject), notes: [] };
}

/** A server's own audit rows and dates; by name, IP or id like every servers verb. */
export async function serverTimeline(db: Kysely<MysqlDB>, ref: string, w: TimeWindow = {}): Promise<Timeline> {
  const s = await findServer(db, ref);
  const audits = await auditRows(db, 'server', [s.id], w);
  const events = audits.map(auditEvent);
  recordEvent(events, audits, { at: s.created_at, event: 'created', target_type: 'server', target_id: s.id,
    detail: `servers row created (no sayclaw audit row)` }, createdBy, w);
  if (s.deleted_at) {
    recordEvent(events, audits, { at: s.deleted_at, event: 'deleted', target_type: 'server', target_id: s.id,
      detail: 'soft-deleted (deleted_at set) with no sayclaw audit row: changed outside sayclaw' }, deletedBy, w);
  }
  const subject = { type: 'server', id: s.id, name: s.name };
  return { subject, events: finish(events, subject), notes: [] };
}
