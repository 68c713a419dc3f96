// Portal users (sayclaw_portal.users): input rules, listing, one user in full, and the writes
// (add, update, revoke, restore, quota, Telegram unbind). Every write is one transaction with its
// admin_logs row; nothing is ever DELETEd. password_hash is never selected.
//
// Who has which instance follows src/fleet/assignment.ts: oc_instances.assigned_user_id is the
// truth; binding rows for this user are "current" when it names them, "history" when a sayclaw
// unassign/reassign explains them, and "drift" otherwise.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { emailOrIdIs, eqEmail, eqExact, likePrefix, naturalCompare, sameText } from '../../db/sql-helpers.js';
import { userNotFound } from './lookup.js';
import { UsageError } from '../../errors.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { readAssignments, unassignInTrx, type AssignResult } from '../instances/assignment.js';
import { inTransaction } from '../../db/transaction.js';

type Db = Kysely<MysqlDB> | Transaction<MysqlDB>;

// ---------------------------------------------------------------------------------------------
// Input rules. Each throws UsageError (exit 2) with one line naming the value and the rule.

const EMAIL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** An address: local@domain.tld, ASCII, at most 254 characters (local part 64); stored lower-cased. */
export function parseEmail(raw: string, what = 'email'): string {
  const e = raw ?? '';
  if (!EMAIL_RE.test(e) || e.length > 254 || e.indexOf('@') > 64) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(e)}: expected an address like li.na@example.com`);
  }
  return e.toLowerCase();
}

const CONTROL_RE = /[\p{Cc}\u2028\u2029]/u;
/** A department: 1-100 characters; letters (any script), digits, spaces and - _ & / . · ( ) （ ）;
 * starts with a letter or digit; no leading/trailing space. E.g. 研发部, R&D Platform, 市场部(华东). */
const DEPARTMENT_RE = /^[\p{L}\p{N}][\p{L}\p{M}\p{N} _&/.\u00b7()\uff08\uff09-]*$/u; // · （ ）

export function parseDepartment(raw: string): string {
  const d = raw ?? '';
  const n = [...d].length;
  if (n < 1 || n > 100 || !DEPARTMENT_RE.test(d) || /\s$/.test(d) || /\s{2}/.test(d)) {
    throw new UsageError(`invalid department ${JSON.stringify(d)}: 1-100 letters, digits, spaces or - _ & / . · ( ), starting with a letter or digit`);
  }
  return d;
}

/** A display name: 1-100 characters (Chinese and emoji fine), no control characters, no
 * leading/trailing whitespace. Stored exactly as given (utf8mb4), byte for byte. */
export function parseName(raw: string): string {
  const s = raw ?? '';
  const n = [...s].length;
  if (n < 1 || n > 100 || CONTROL_RE.test(s) || s.trim() !== s) {
    throw new UsageError(`invalid name ${JSON.stringify(s)}: 1-100 characters, no control characters or surrounding spaces`);
  }
  return s;
}

export const BIGINT_MAX = 9223372036854775807n;
/** quota_daily: whole tokens, 0 .. 9223372036854775807 (signed BIGINT). Returned as a decimal string. */
export function parseQuota(raw: string): string {
  const s = String(raw ?? '').trim();
  if (!/^\d+$/.test(s)) {
    throw new UsageError(`invalid quota ${JSON.stringify(String(raw))}: a whole number of tokens, 0 or more (no sign, decimals or exponent)`);
  }
  const v = BigInt(s);
  if (v > BIGINT_MAX) throw new UsageError(`quota ${s} is out of range: at most ${BIGINT_MAX}`);
  return v.toString();
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface UserFilter {
  department?: string;
  status?: 'active' | 'revoked';
  emailPrefix?: string;
  /** substring of the name (any script) */
  name?: string;
  /** users with no alive instance assigned (oc_instances.assigned_user_id) */
  noInstance?: boolean;
  telegram?: 'bound' | 'unbound';
}

export interface UserListRow {
  id: string;
  email: string;
  name: string | null;
  department: string | null;
  status: string;
  quota_daily: string;
  /** alive instances whose oc_instances.assigned_user_id is this user, naturally sorted */
  instance_ids: string[];
  telegram_username: string | null;
  telegram_user_id: string | null;
  telegram_bound_at: Date | null;
  created_at: Date;
  revoked_at: Date | null;
}

/** Columns read for a user: everything but password_hash. */
const USER_COLUMNS = ['u.id', 'u.email', 'u.name', 'u.department', 'u.status', 'u.quota_daily', 'u.google_id', 'u.created_at',
  'u.revoked_at', 'u.telegram_user_id', 'u.telegram_username', 'u.telegram_bound_at'] as const;

/** Telegram "bound": the user row carries a Telegram user id or username. */
export async function listUsers(db: Kysely<MysqlDB>, f: UserFilter = {}): Promise<UserListRow[]> {
  let q = db.selectFrom('portal.users as u').select([...USER_COLUMNS]);
  if (f.department !== undefined) q = q.where(eqExact('u.department', f.department));
  if (f.status) q = q.where(eqExact('u.status', f.status));
  if (f.emailPrefix !== undefined) q = q.where(likePrefix('u.email', f.emailPrefix));
  // INSTR, not LIKE: the text is matched literally (no wildcards to escape), by the column's collation
  if (f.name !== undefined) q = q.where(sql<boolean>`INSTR(${sql.ref('u.name')}, ${f.name}) > 0`);
  if (f.telegram === 'bound') q = q.where((eb) => eb.or([eb('u.telegram_user_id', 'is not', null), eb('u.telegram_username', 'is not', null)]));
  if (f.telegram === 'unbound') q = q.where('u.telegram_user_id', 'is', null).where('u.telegram_username', 'is', null);
  if (f.noInstance) {
    q = q.where((eb) => eb.not(eb.exists(eb.selectFrom('admin.oc_instances as i').select(sql`1`.as('one'))
      .where(sameText('i.assigned_user_id', 'u.id')).where('i.deleted_at', 'is', null))));
  }
  const users = await q.orderBy('u.email').execute();
  const byUser = await aliveInstancesOf(db, users.map((u) => u.id));
  return users.map((u) => {
    const { google_id: _g, ...rest } = u;
    return { ...rest, instance_ids: byUser.get(u.id) ?? [] };
  });
}

/** user id -> alive instance ids assigned to it (oc_instances.assigned_user_id), naturally sorted. */
async function aliveInstancesOf(db: Db, userIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < userIds.length; i += 1000) {
    const chunk = userIds.slice(i, i + 1000);
    const rows = await db.selectFrom('admin.oc_instances').select(['id', 'assigned_user_id'])
      .where('assigned_user_id', 'in', chunk).where('deleted_at', 'is', null).execute();
    for (const r of rows) {
      const l = out.get(r.assigned_user_id!) ?? [];
      l.push(r.id);
      out.set(r.assigned_user_id!, l);
    }
  }
  for (const l of out.values()) l.sort(naturalCompare);
  return out;
}

export type PortalUser = Omit<UserListRow, 'instance_ids'> & { google_id: string | null };

/** One user by email (case-insensitive) or id (exact); NotFoundError (exit 4) with the closest otherwise. */
export async function getUser(db: Db, emailOrId: string, lock = false): Promise<PortalUser> {
  let q = db.selectFrom('portal.users as u').select([...USER_COLUMNS]).where(emailOrIdIs('u.email', 'u.id', emailOrId));
  if (lock) q = q.forUpdate();
  const u = await q.executeTakeFirst();
  if (!u) throw await userNotFound(db, emailOrId);
  return u;
}

export type BindingState = 'current' | 'history' | 'drift';

export interface UserInstanceView {
  instance_id: string;
  /** current: oc_instances.assigned_user_id is this user (the truth); otherwise only binding rows name them */
  assignment: BindingState;
  alive: boolean;
  deleted_at: Date | null;
  /** who oc_instances says has it now */
  assigned_email: string | null;
  setup_status: string | null;
  /** this user's row in sayclaw_portal.user_instances / sayclaw_admin.instance_users, if any */
  portal_binding: BindingState | null;
  admin_binding: BindingState | null;
  tg_username: string | null;
  tg_bot_username: string | null;
  tg_bound_at: Date | null;
  problems: string[];
}

const stateOf = (b: { current: boolean; history: boolean } | undefined): BindingState | null =>
  (!b ? null : b.current ? 'current' : b.history ? 'history' : 'drift');

/**
 * The instances a user has or had: those oc_instances assigns to them, plus every binding row
 * naming them, read through readAssignments so `users show` and `instances show` say the same.
 */
export async function userInstances(db: Db, user: { id: string; email: string }): Promise<UserInstanceView[]> {
  const [a, b, c] = await Promise.all([
    db.selectFrom('admin.oc_instances').select('id').where(eqExact('assigned_user_id', user.id)).execute(),
    db.selectFrom('portal.user_instances').select('instance_id').where(eqExact('user_id', user.id)).execute(),
    db.selectFrom('admin.instance_users').select('instance_id').where(eqEmail('user_email', user.email)).execute(),
  ]);
  const ids = [...new Set([...a.map((r) => r.id), ...b.map((r) => r.instance_id), ...c.map((r) => r.instance_id)])];
  const views = await readAssignments(db, ids);
  const out: UserInstanceView[] = [];
  for (const id of ids) {
    const v = views.get(id);
    if (!v) {
      // a binding row naming an instance that does not exist at all
      out.push({ instance_id: id, assignment: 'drift', alive: false, deleted_at: null, assigned_email: null, setup_status: null,
        portal_binding: null, admin_binding: null, tg_username: null, tg_bot_username: null, tg_bound_at: null,
        problems: ['binding row names an instance missing from oc_instances'] });
      continue;
    }
    const pb = v.portal_bindings.find((x) => x.user_id === user.id);
    const ab = v.admin_bindings.find((x) => x.user_email.toLowerCase() === user.email.toLowerCase());
    const current = v.assigned_user_id === user.id;
    out.push({
      instance_id: id,
      assignment: current ? 'current' : (pb && !pb.history) || (ab && !ab.history) ? 'drift' : 'history',
      alive: !v.deleted_at, deleted_at: v.deleted_at, assigned_email: v.assigned_email,
      setup_status: pb?.setup_status ?? null, portal_binding: stateOf(pb), admin_binding: stateOf(ab),
      tg_username: pb?.tg_username ?? null, tg_bot_username: pb?.tg_bot_username ?? null, tg_bound_at: pb?.tg_bound_at ?? null,
      problems: v.problems,
    });
  }
  const rank = { current: 0, drift: 1, history: 2 } as const;
  return out.sort((x, y) => rank[x.assignment] - rank[y.assignment] || naturalCompare(x.instance_id, y.instance_id));
}

export interface ChatActivity { total: string; last_7d: string; last_message_at: Date | null }

/** chat_messages for a user: counts and the last time only, never content. */
export async function chatActivity(db: Db, userId: string, now: Date): Promise<ChatActivity> {
  const since = new Date(now.getTime() - 7 * 86400_000);
  const r = await db.selectFrom('portal.chat_messages').where('user_id', '=', userId)
    .select([
      sql<string>`COUNT(*)`.as('total'),
      sql<string>`COALESCE(SUM(created_at >= ${since}), 0)`.as('last_7d'),
      sql<Date | null>`MAX(created_at)`.as('last_message_at'),
    ]).executeTakeFirstOrThrow();
  return { total: String(r.total), last_7d: String(r.last_7d), last_message_at: r.last_message_at };
}

// ---------------------------------------------------------------------------------------------
// Writes

const isDup = (e: unknown) => (e as { code?: string; errno?: number })?.code === 'ER_DUP_ENTRY' || (e as { errno?: number })?.errno === 1062;

export interface NewUser { email: string; name: string; department: string; quota_daily?: string }

/** Insert a portal user (status active). Duplicate email: UsageError, nothing changed. */
export async function addUser(db: Kysely<MysqlDB>, actor: Actor, n: NewUser): Promise<PortalUser> {
  const id = crypto.randomUUID();
  try {
    return await inTransaction(db, async (trx) => {
      await assertUserEmailFree(trx, n.email);
      await trx.insertInto('portal.users').values({
        id, email: n.email, name: n.name, department: n.department, status: 'active',
        quota_daily: n.quota_daily ?? sql<string>`DEFAULT`, // the column's default (100000 in the shipped schema)
      }).execute();
      const row = await getUser(trx, id);
      await writeAudit(trx, actor, { action: 'users.add', target_type: 'user', target_id: id, after: row });
      return row;
    });
  } catch (e) {
    if (isDup(e)) throw duplicate(n.email);
    throw e;
  }
}

/** A new portal user's email must be free (also what `users add --dry-run` checks). */
export async function assertUserEmailFree(db: Db, email: string): Promise<void> {
  const dup = await db.selectFrom('portal.users').select(['email']).where('email', '=', email).executeTakeFirst();
  if (dup) throw duplicate(email);
}

function duplicate(email: string): UsageError {
  return new UsageError(`a portal user with email ${email} already exists; nothing changed`, { hint: `see it with: sayclaw users show ${email}` });
}

export interface UserChange { before: PortalUser; after: PortalUser; changed: boolean }

/** Lock the user, apply `set` when it changes anything, write the audit row; one transaction. */
async function changeUser(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string, action: string, reason: string | null | undefined,
  decide: (u: PortalUser) => Partial<Record<'name' | 'department' | 'status' | 'quota_daily' | 'revoked_at', unknown>> | null,
  extra?: (trx: Transaction<MysqlDB>, u: PortalUser) => Promise<unknown>): Promise<UserChange & { extra?: unknown }> {
  return inTransaction(db, async (trx) => {
    const before = await getUser(trx, emailOrId, true);
    const set = decide(before);
    let changed = false;
    if (set && Object.keys(set).length) {
      await trx.updateTable('portal.users').set(set as never).where('id', '=', before.id).execute();
      changed = true;
    }
    const extraResult = extra ? await extra(trx, before) : undefined;
    const after = changed ? await getUser(trx, before.id) : before;
    if (changed) {
      const pick = (u: PortalUser) => Object.fromEntries(['email', ...Object.keys(set!)].map((k) => [k, (u as unknown as Record<string, unknown>)[k]]));
      await writeAudit(trx, actor, { action, target_type: 'user', target_id: before.id, reason, before: pick(before), after: pick(after) });
    }
    return { before, after, changed, extra: extraResult };
  });
}

/** name / department; unchanged values are not written. */
export async function updateUser(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string,
  ch: { name?: string; department?: string }, reason?: string | null): Promise<UserChange> {
  return changeUser(db, actor, emailOrId, 'users.update', reason, (u) => {
    const set: Record<string, unknown> = {};
    if (ch.name !== undefined && ch.name !== u.name) set.name = ch.name;
    if (ch.department !== undefined && ch.department !== u.department) set.department = ch.department;
    return set;
  });
}

export async function setQuota(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string, quota: string, reason?: string | null): Promise<UserChange> {
  return changeUser(db, actor, emailOrId, 'users.quota', reason, (u) => (u.quota_daily === quota ? null : { quota_daily: quota }));
}

export interface RevokeResult extends UserChange { unassigned: AssignResult[]; still_assigned: string[] }

/**
 * status = revoked, revoked_at = now. With unassign, every instance oc_instances assigns to the
 * user is released by unassignInTrx in the same transaction (binding rows kept as history).
 * Without it, the instances still assigned are reported.
 */
export async function revokeUser(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string,
  opts: { unassign?: boolean; reason?: string | null }): Promise<RevokeResult> {
  const r = await changeUser(db, actor, emailOrId, 'users.revoke', opts.reason,
    (u) => (u.status === 'revoked' ? null : { status: 'revoked', revoked_at: sql`NOW(3)` }),
    async (trx, u) => {
      const assigned = await trx.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', u.id).forUpdate().execute();
      const ids = assigned.map((x) => x.id).sort(naturalCompare);
      if (!opts.unassign) return { unassigned: [], still: ids };
      const done: AssignResult[] = [];
      for (const id of ids) done.push(await unassignInTrx(trx, actor, id, { reason: opts.reason ?? `user ${u.email} revoked` }));
      return { unassigned: done, still: [] };
    });
  const x = r.extra as { unassigned: AssignResult[]; still: string[] };
  return { before: r.before, after: r.after, changed: r.changed, unassigned: x.unassigned, still_assigned: x.still };
}

export async function restoreUser(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string, reason?: string | null): Promise<UserChange> {
  return changeUser(db, actor, emailOrId, 'users.restore', reason,
    (u) => (u.status === 'active' && !u.revoked_at ? null : { status: 'active', revoked_at: null }));
}

/** Instance ids oc_instances assigns to the user (alive or not), for previews. */
export async function assignedInstanceIds(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', userId).execute();
  return rows.map((r) => r.id).sort(naturalCompare);
}

export interface TelegramUnbindResult { user: PortalUser; user_cleared: boolean; bindings_cleared: string[] }

/** The Telegram fields on sayclaw_portal.user_instances rows: the user's identity and the bot. */
const TG_BINDING_FIELDS = ['tg_user_id', 'tg_username', 'tg_bound_at', 'tg_bot_token', 'tg_bot_username'] as const;

/** Which of the user's user_instances rows carry any Telegram field. */
async function telegramBindings(db: Db, userId: string, lock = false) {
  let q = db.selectFrom('portal.user_instances').select(['instance_id', 'tg_user_id', 'tg_username', 'tg_bound_at', 'tg_bot_username'])
    .where('user_id', '=', userId)
    .where((eb) => eb.or(TG_BINDING_FIELDS.map((f) => eb(f, 'is not', null))));
  if (lock) q = q.forUpdate();
  return (await q.execute()).sort((a, b) => naturalCompare(a.instance_id, b.instance_id));
}

export async function telegramPreview(db: Db, user: PortalUser) {
  return { user_bound: user.telegram_user_id !== null || user.telegram_username !== null || user.telegram_bound_at !== null,
    bindings: await telegramBindings(db, user.id) };
}

/**
 * Clear the Telegram fields on the user (telegram_user_id, telegram_username, telegram_bound_at)
 * and on all their user_instances rows (tg_user_id, tg_username, tg_bound_at, tg_bot_token,
 * tg_bot_username). Rows are updated, never deleted. The bot token is not copied to the audit row.
 */
export async function telegramUnbind(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string, reason?: string | null): Promise<TelegramUnbindResult> {
  return inTransaction(db, async (trx) => {
    const user = await getUser(trx, emailOrId, true);
    const rows = await telegramBindings(trx, user.id, true);
    const userBound = user.telegram_user_id !== null || user.telegram_username !== null || user.telegram_bound_at !== null;
    if (!userBound && !rows.length) return { user, user_cleared: false, bindings_cleared: [] };
    if (userBound) {
      await trx.updateTable('portal.users').set({ telegram_user_id: null, telegram_username: null, telegram_bound_at: null })
        .where('id', '=', user.id).execute();
    }
    if (rows.length) {
      await trx.updateTable('portal.user_instances')
        .set({ tg_user_id: null, tg_username: null, tg_bound_at: null, tg_bot_token: null, tg_bot_username: null })
        .where('user_id', '=', user.id).where('instance_id', 'in', rows.map((r) => r.instance_id)).execute();
    }
    await writeAudit(trx, actor, {
      action: 'users.telegram_unbind', target_type: 'user', target_id: user.id, reason,
      before: { email: user.email, telegram_user_id: user.telegram_user_id, telegram_username: user.telegram_username,
        telegram_bound_at: user.telegram_bound_at, bindings: rows },
      after: { email: user.email, telegram_user_id: null, telegram_username: null, telegram_bound_at: null,
        bindings_cleared: rows.map((r) => r.instance_id) },
    });
    return { user: await getUser(trx, user.id), user_cleared: userBound, bindings_cleared: rows.map((r) => r.instance_id) };
  });
}
