// Admin backend accounts (sayclaw_admin.admin_users): list, add, change password, disable/enable,
// soft delete. Passwords arrive from a no-echo TTY prompt or stdin, never argv; they are stored
// only as bcrypt hashes ($2b$, cost 12, readable by any common bcrypt library) and never selected,
// printed, logged or audited. The last active account cannot be disabled or removed.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import type { Context } from '../../context.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { plural } from '../../output/format.js';
import { inTransaction } from '../../db/transaction.js';
import { emailOrIdIs } from '../../db/sql-helpers.js';
import { closestHint, closestNames, shownName } from '../suggest.js';
import { checkChoice, type Vocabulary } from '../choices.js';

export const BCRYPT_COST = 12;
export const PASSWORD_MIN = 10;
/** bcrypt reads at most 72 bytes; longer passwords would be silently cut, so they are refused. */
export const PASSWORD_MAX_BYTES = 72;

const ROLE_RE = /^[a-z][a-z0-9_-]{0,19}$/;
export function parseRole(raw: string): string {
  if (!ROLE_RE.test(raw ?? '')) throw new UsageError(`invalid role ${JSON.stringify(raw)}: 1-20 characters a-z, 0-9, _ or -, starting with a letter (e.g. admin)`);
  return raw;
}

/** Roles: 'admin' and those accounts already have; any other is refused unless asked for as new. */
const ADMIN_ROLE: Vocabulary = { flag: '--role', known: ['admin'], table: 'admin.admin_users', column: 'role',
  hint: 'a role no account has yet needs --new-role' };

/** --role checked against the roles in use (a typo like "admni" is refused, exit 2), unless newRole. */
export async function checkRole(db: Kysely<MysqlDB>, role: string, newRole = false): Promise<string> {
  if (!newRole) await checkChoice(db, ADMIN_ROLE, role);
  return role;
}

/** What is wrong with a new password, or null (the message never contains the password). */
export function passwordProblem(pw: string): string | null {
  if ([...pw].length < PASSWORD_MIN) return `password too short: at least ${PASSWORD_MIN} characters`;
  if (Buffer.byteLength(pw, 'utf8') > PASSWORD_MAX_BYTES) return `password too long: at most ${PASSWORD_MAX_BYTES} bytes (bcrypt's limit)`;
  if (/[\p{Cc}]/u.test(pw)) return 'password contains control characters';
  return null;
}

export function checkPassword(pw: string): void {
  const problem = passwordProblem(pw);
  if (problem) throw new UsageError(`${problem}; nothing changed`);
}

/** Tries at the prompt, like passwd(1): a typo costs a retry, not an exit into the shell. */
export const PASSWORD_TRIES = 3;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The new password: from stdin (--password-stdin; one trailing newline removed) or a no-echo
 * prompt asked twice. Without either, refuse: there is no --password flag by design.
 */
export async function readNewPassword(ctx: Context, fromStdin: boolean, who: string): Promise<string> {
  let pw: string;
  if (fromStdin) {
    // on a terminal the typed password would echo: that is what the prompt is for
    if (ctx.io.stdinIsTTY) throw new UsageError('--password-stdin reads a pipe, but stdin is a terminal; leave the flag out to be prompted without echo');
    pw = (await readAll(ctx.io.stdin)).replace(/\r?\n$/, '');
    if (!pw) throw new UsageError('--password-stdin: stdin was empty; nothing changed');
  } else {
    if (!ctx.interactive) {
      throw new UsageError('no password source: run in a terminal to be prompted, or pipe it with --password-stdin; nothing changed',
        { hint: "e.g. printf '%s' \"$PW\" | sayclaw users admins add ... --password-stdin" });
    }
    // on a terminal a refused password is asked again with the reason (up to PASSWORD_TRIES):
    // exiting instead would leave the user typing the second password into the shell
    let last = '';
    for (let i = 1; ; i++) {
      pw = await ctx.prompter.password(`New password for ${who}:`, { accept: (p) => !passwordProblem(p) });
      const problem = passwordProblem(pw);
      if (!problem) {
        const first = pw;
        const again = await ctx.prompter.password('Repeat the password:', { accept: (p) => p === first });
        if (again === pw) return pw;
        last = 'the two passwords differ';
      } else {
        last = problem;
      }
      if (i >= PASSWORD_TRIES) break;
      ctx.io.stderr.write(`${last}; try again (${plural(PASSWORD_TRIES - i, 'try', 'tries')} left)\n`);
    }
    throw new UsageError(`${last}; no password set after ${PASSWORD_TRIES} tries; nothing changed`);
  }
  checkPassword(pw);
  return pw;
}

export async function hashPassword(pw: string): Promise<string> {
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.hash(pw, BCRYPT_COST);
}

export interface AdminRow {
  id: string; email: string; name: string | null; role: string; status: string;
  last_login_at: Date | null; created_at: Date; deleted_at: Date | null;
}
const ADMIN_COLUMNS = ['id', 'email', 'name', 'role', 'status', 'last_login_at', 'created_at', 'deleted_at'] as const;

export async function listAdmins(db: Kysely<MysqlDB>, opts: { all?: boolean } = {}): Promise<AdminRow[]> {
  let q = db.selectFrom('admin.admin_users').select([...ADMIN_COLUMNS]);
  if (!opts.all) q = q.where('deleted_at', 'is', null);
  return q.orderBy('email').execute();
}

type Db = Kysely<MysqlDB> | Transaction<MysqlDB>;

export async function getAdmin(db: Db, emailOrId: string, lock = false): Promise<AdminRow> {
  let q = db.selectFrom('admin.admin_users').select([...ADMIN_COLUMNS]).where(emailOrIdIs('email', 'id', emailOrId));
  if (lock) q = q.forUpdate();
  const a = await q.executeTakeFirst();
  if (!a) {
    const close = await closestNames(db, { table: 'admin.admin_users', columns: ['email', 'id'], scanAll: true }, emailOrId.toLowerCase());
    throw new NotFoundError(`no such admin account: ${shownName(emailOrId)}`, { hint: closestHint(close, 'sayclaw users admins ls --all') });
  }
  return a;
}

const isDup = (e: unknown) => (e as { code?: string })?.code === 'ER_DUP_ENTRY' || (e as { errno?: number })?.errno === 1062;
const dupError = (email: string) => new UsageError(`an admin account with email ${email} already exists (possibly removed); nothing changed`,
  { hint: 'list them with: sayclaw users admins ls --all' });

/** Checked before the password is asked for, so a taken email fails fast (addAdmin checks again). */
export async function assertAdminEmailFree(db: Db, email: string): Promise<void> {
  const dup = await db.selectFrom('admin.admin_users').select('id').where('email', '=', email).executeTakeFirst();
  if (dup) throw dupError(email);
}

export async function addAdmin(db: Kysely<MysqlDB>, actor: Actor, a: { email: string; name: string; role: string; passwordHash: string }): Promise<AdminRow> {
  const id = crypto.randomUUID();
  try {
    return await inTransaction(db, async (trx) => {
      await assertAdminEmailFree(trx, a.email);
      await trx.insertInto('admin.admin_users').values({ id, email: a.email, name: a.name, role: a.role, status: 'active', password_hash: a.passwordHash }).execute();
      const row = await getAdmin(trx, id);
      await writeAudit(trx, actor, { action: 'admins.add', target_type: 'admin_user', target_id: id, after: row });
      return row;
    });
  } catch (e) {
    if (isDup(e)) throw dupError(a.email);
    throw e;
  }
}

export async function setAdminPassword(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string, passwordHash: string, reason?: string | null): Promise<AdminRow> {
  return inTransaction(db, async (trx) => {
    const a = await getAdmin(trx, emailOrId, true);
    if (a.deleted_at) throw new UsageError(`admin account ${a.email} is removed; nothing changed`);
    await trx.updateTable('admin.admin_users').set({ password_hash: passwordHash }).where('id', '=', a.id).execute();
    await writeAudit(trx, actor, { action: 'admins.passwd', target_type: 'admin_user', target_id: a.id, reason,
      after: { email: a.email, password_changed: true } });
    return a;
  });
}

/** Active accounts (status active, not removed), locked so two concurrent disables cannot both pass. */
async function lockActive(trx: Transaction<MysqlDB>): Promise<string[]> {
  const rows = await trx.selectFrom('admin.admin_users').select('id').where('status', '=', 'active').where('deleted_at', 'is', null)
    .forUpdate().execute();
  return rows.map((r) => r.id);
}

export type AdminChange = 'disable' | 'enable' | 'rm';

function lastAdminError(email: string, what: AdminChange): UsageError {
  return new UsageError(`refusing to ${what === 'rm' ? 'remove' : 'disable'} ${email}: it is the last active admin account; nothing changed`,
    { hint: 'add or enable another admin first: sayclaw users admins add ...' });
}

/** Early check for previews (no lock); changeAdmin checks again under lock. */
export async function assertNotLastActive(db: Kysely<MysqlDB>, a: AdminRow, what: AdminChange): Promise<void> {
  if (what === 'enable' || a.status !== 'active' || a.deleted_at) return;
  const others = await db.selectFrom('admin.admin_users').select('id').where('status', '=', 'active').where('deleted_at', 'is', null)
    .where('id', '<>', a.id).limit(1).execute();
  if (!others.length) throw lastAdminError(a.email, what);
}
export interface AdminChangeResult { admin: AdminRow; changed: boolean }

/** disable (status disabled), enable (status active), rm (deleted_at = now; soft delete). */
export async function changeAdmin(db: Kysely<MysqlDB>, actor: Actor, emailOrId: string, what: AdminChange, reason?: string | null): Promise<AdminChangeResult> {
  return inTransaction(db, async (trx) => {
    const active = await lockActive(trx);
    const a = await getAdmin(trx, emailOrId, true);
    if (what !== 'rm' && a.deleted_at) throw new UsageError(`admin account ${a.email} is removed; nothing changed`);
    const noop = what === 'disable' ? a.status === 'disabled' : what === 'enable' ? a.status === 'active' : a.deleted_at !== null;
    if (noop) return { admin: a, changed: false };
    if (what !== 'enable' && active.includes(a.id) && active.length <= 1) {
      throw lastAdminError(a.email, what);
    }
    const set = what === 'rm' ? { deleted_at: sql<Date>`NOW(3)` as never } : { status: what === 'disable' ? 'disabled' : 'active' };
    await trx.updateTable('admin.admin_users').set(set).where('id', '=', a.id).execute();
    const after = await getAdmin(trx, a.id);
    const pick = (x: AdminRow) => ({ email: x.email, status: x.status, deleted_at: x.deleted_at });
    await writeAudit(trx, actor, { action: `admins.${what}`, target_type: 'admin_user', target_id: a.id, reason, before: pick(a), after: pick(after) });
    return { admin: after, changed: true };
  });
}
