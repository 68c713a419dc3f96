// LLM master keys (sayclaw_admin.api_master_keys): list, add, rotate, revoke, reveal, verify and
// re-encrypt. Secrets are AES-256-GCM encrypted (src/crypto/aesgcm.ts); nothing here returns or
// logs a plaintext except revealMasterKey, which audits first. Soft delete only.
import type { Kysely, Transaction } from 'kysely';
import type { MysqlDB, ApiMasterKeysTable } from '../../db/types.js';
import type { Selectable } from 'kysely';
import { writeAudit, type Actor } from '../audit/write.js';
import { ConfigError, NotFoundError, SayclawError, ExitCode, UsageError } from '../../errors.js';
import { aadFor, decryptSecret, DecryptError, encryptSecret, fingerprintHash, secretFingerprint } from '../../crypto/aesgcm.js';
import type { MasterKey } from './master-key-source.js';
import { eqExact, inExact, likePrefix, naturalCompare } from '../../db/sql-helpers.js';
import { inTransaction } from '../../db/transaction.js';
import { closestHint, closestNames, shownName } from '../suggest.js';
import { closest } from '../closest.js';
import { plural } from '../../output/format.js';

export type MasterKeyRow = Selectable<ApiMasterKeysTable>;

export const KEY_ACTIONS = {
  add: 'keys.add', rotate: 'keys.rotate', revoke: 'keys.revoke', reveal: 'keys.reveal', reencrypt: 'keys.reencrypt',
} as const;
const TARGET = 'api_master_key';

/** What `keys ls` shows: never encrypted_key. */
export interface MasterKeyListRow {
  id: string;
  provider: string;
  name: string;
  status: string;
  fingerprint: string | null;
  master_key_id: string | null;
  created_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
  rotated_from_id: string | null;
  /** the row that replaced this one (rotation), if any */
  rotated_to_id: string | null;
  deleted_at: Date | null;
}

const LIST_COLUMNS = ['id', 'provider', 'name', 'status', 'key_hint', 'master_key_id', 'created_at', 'rotated_at',
  'revoked_at', 'rotated_from_id', 'deleted_at'] as const;

export async function listMasterKeys(db: Kysely<MysqlDB>, f: { provider?: string; all?: boolean } = {}): Promise<MasterKeyListRow[]> {
  let q = db.selectFrom('admin.api_master_keys').select([...LIST_COLUMNS]);
  if (f.provider !== undefined) q = q.where(eqExact('provider', f.provider));
  const rows = await q.execute();
  const successor = new Map<string, string>();
  for (const r of rows) if (r.rotated_from_id) successor.set(r.rotated_from_id, r.id);
  return rows
    .filter((r) => f.all || r.deleted_at === null)
    .map((r) => ({
      id: r.id, provider: r.provider, name: r.name, status: r.status, fingerprint: r.key_hint, master_key_id: r.master_key_id,
      created_at: r.created_at, rotated_at: r.rotated_at, revoked_at: r.revoked_at, rotated_from_id: r.rotated_from_id,
      rotated_to_id: successor.get(r.id) ?? null, deleted_at: r.deleted_at,
    }))
    .sort((a, b) => naturalCompare(a.provider, b.provider) || naturalCompare(a.name, b.name) || a.created_at.getTime() - b.created_at.getTime());
}

export function checkProviderName(provider: string, name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/.test(provider)) {
    throw new UsageError(`invalid --provider "${provider}"`, { hint: 'letters, digits, ".", "_" and "-", at most 50, e.g. openai, anthropic' });
  }
  if (!name.trim() || name.length > 100) throw new UsageError('--name must be 1 to 100 characters');
}

/**
 * One key by its id or, like git, a unique prefix of it (exact, case-sensitive). An ambiguous
 * prefix is refused listing the candidates (exit 2); no match is exit 4 with the closest ids.
 */
export async function getMasterKeyRow(db: Kysely<MysqlDB> | Transaction<MysqlDB>, ref: string, forUpdate = false): Promise<MasterKeyRow> {
  const id = await resolveMasterKeyId(db, ref);
  let q = db.selectFrom('admin.api_master_keys').selectAll().where(eqExact('id', id));
  if (forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw new NotFoundError(`no such master key: ${shownName(ref)}`, { hint: 'list them with: sayclaw keys ls --all' });
  return row;
}

const AMBIGUOUS_SHOWN = 10;

/** The whole id a key id or unique id prefix names (see getMasterKeyRow). */
export async function resolveMasterKeyId(db: Kysely<MysqlDB> | Transaction<MysqlDB>, ref: string): Promise<string> {
  if (ref === '') throw new UsageError('the master key id is empty', { hint: 'list them with: sayclaw keys ls --all' });
  const rows = await db.selectFrom('admin.api_master_keys').select(['id', 'provider', 'name', 'status'])
    .where(likePrefix('id', ref)).orderBy('id').limit(AMBIGUOUS_SHOWN + 1).execute();
  const exact = rows.find((r) => r.id === ref);
  if (exact) return exact.id;
  if (rows.length === 1) return rows[0]!.id;
  if (rows.length > 1) {
    const more = rows.length > AMBIGUOUS_SHOWN ? ', ...' : '';
    throw new UsageError(`master key id prefix ${shownName(ref)} is ambiguous: it matches ${rows.length > AMBIGUOUS_SHOWN ? `more than ${AMBIGUOUS_SHOWN}` : rows.length} keys (${
      rows.slice(0, AMBIGUOUS_SHOWN).map((r) => `${r.id} ${r.provider}/${r.name} ${r.status}`).join('; ')}${more})`, { hint: 'type more characters of the id' });
  }
  throw new NotFoundError(`no such master key: ${shownName(ref)}`, { hint: closestHint(await closestKeyIds(db, ref), 'sayclaw keys ls --all') });
}

/**
 * The ids closest to a mistyped id or id prefix: a short ref (`d87dc95Z`) is compared with the
 * same number of leading characters of each id, then the whole ids are suggested. The master key
 * table is small, so every id is read.
 */
async function closestKeyIds(db: Kysely<MysqlDB> | Transaction<MysqlDB>, ref: string): Promise<string[]> {
  if (ref.length >= 36) return closestNames(db, { table: 'admin.api_master_keys', columns: ['id'], scanAll: true }, ref);
  const ids = (await db.selectFrom('admin.api_master_keys').select('id').execute()).map((r) => r.id);
  const byStart = new Map<string, string[]>();
  for (const id of ids) {
    const start = id.slice(0, ref.length);
    byStart.set(start, [...(byStart.get(start) ?? []), id]);
  }
  return closest(ref, byStart.keys(), 3, { near: true }).flatMap((start) => byStart.get(start)!).slice(0, 3);
}

/**
 * Refuse to write with a master key other than the one the live keys use: a key encrypted with
 * a mistyped key file would be unreadable for everyone else.
 */
async function assertSameMasterKey(db: Kysely<MysqlDB> | Transaction<MysqlDB>, mk: MasterKey): Promise<void> {
  // a locking read: it waits for a running `keys reencrypt` and then sees its committed ids
  const rows = await db.selectFrom('admin.api_master_keys').select('master_key_id')
    .where('deleted_at', 'is', null).where('master_key_id', 'is not', null).forUpdate().execute();
  const other = [...new Set(rows.map((r) => r.master_key_id!))].filter((x) => x !== mk.id);
  if (other.length) {
    throw new ConfigError(`the master key from ${mk.source} (id ${mk.id}) is not the one the stored keys use (id ${other.join(', ')}); nothing changed`, {
      hint: 'check --master-key-file / SAYCLAW_MASTER_KEY_FILE; to move to a new master key use: sayclaw keys reencrypt --new-master-key-file F',
    });
  }
}

export interface AddRequest { provider: string; name: string; secret: string; reason?: string | null; now: Date }

/** Insert a new active key in one transaction with its audit row. */
export async function addMasterKey(db: Kysely<MysqlDB>, actor: Actor, mk: MasterKey, req: AddRequest): Promise<MasterKeyListRow> {
  checkProviderName(req.provider, req.name);
  return inTransaction(db, async (trx) => {
    await assertSameMasterKey(trx, mk);
    const dup = await trx.selectFrom('admin.api_master_keys').select('id')
      .where('provider', '=', req.provider).where('name', '=', req.name).where('deleted_at', 'is', null).forUpdate().executeTakeFirst();
    if (dup) {
      throw new UsageError(`an active ${req.provider} key named "${req.name}" already exists (${dup.id}); nothing changed`, {
        hint: `replace its secret with: sayclaw keys rotate ${dup.id}`,
      });
    }
    const id = crypto.randomUUID();
    const hint = secretFingerprint(req.secret);
    const encrypted = encryptSecret(mk.key, req.secret, aadFor(id, req.provider));
    await trx.insertInto('admin.api_master_keys').values({
      id, provider: req.provider, name: req.name, encrypted_key: encrypted, key_hint: hint, master_key_id: mk.id,
      status: 'active', rotated_from_id: null, rotated_at: null, revoked_at: null, created_at: req.now, deleted_at: null,
    }).execute();
    await writeAudit(trx, actor, { action: KEY_ACTIONS.add, target_type: TARGET, target_id: id, reason: req.reason,
      after: { provider: req.provider, name: req.name, status: 'active', fingerprint: hint, master_key_id: mk.id } });
    return {
      id, provider: req.provider, name: req.name, status: 'active', fingerprint: hint, master_key_id: mk.id, created_at: req.now,
      rotated_at: null, revoked_at: null, rotated_from_id: null, rotated_to_id: null, deleted_at: null,
    };
  });
}

/** Pre-checks shared by the verb (before prompting) and the transaction. */
export function assertRotatable(row: MasterKeyRow): void {
  if (row.deleted_at !== null || row.status !== 'active') {
    throw new UsageError(`master key ${row.id} is ${row.status} (not active); only active keys can be rotated; nothing changed`, {
      hint: 'list the active ones with: sayclaw keys ls',
    });
  }
}

export interface RotateResult { old_id: string; new_id: string; provider: string; name: string; fingerprint: string; rotated_at: Date }

/** New secret: the old row is soft-deleted (status rotated) and linked from the new one. */
export async function rotateMasterKey(db: Kysely<MysqlDB>, actor: Actor, mk: MasterKey,
  req: { id: string; secret: string; reason?: string | null; now: Date }): Promise<RotateResult> {
  return inTransaction(db, async (trx) => {
    const old = await getMasterKeyRow(trx, req.id, true);
    assertRotatable(old);
    await assertSameMasterKey(trx, mk);
    const hint = secretFingerprint(req.secret);
    if (fingerprintHash(old.key_hint) !== null && fingerprintHash(old.key_hint) === fingerprintHash(hint)) {
      throw new UsageError(`the new secret is the same as the current one of ${old.id}; nothing changed`);
    }
    const id = crypto.randomUUID();
    const res = await trx.updateTable('admin.api_master_keys')
      .set({ status: 'rotated', rotated_at: req.now, deleted_at: req.now })
      .where('id', '=', old.id).where('deleted_at', 'is', null).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new UsageError(`master key ${old.id} changed meanwhile; nothing changed`);
    await trx.insertInto('admin.api_master_keys').values({
      id, provider: old.provider, name: old.name, encrypted_key: encryptSecret(mk.key, req.secret, aadFor(id, old.provider)),
      key_hint: hint, master_key_id: mk.id, status: 'active', rotated_from_id: old.id, rotated_at: null, revoked_at: null,
      created_at: req.now, deleted_at: null,
    }).execute();
    await writeAudit(trx, actor, { action: KEY_ACTIONS.rotate, target_type: TARGET, target_id: old.id, reason: req.reason,
      before: { id: old.id, status: old.status, fingerprint: old.key_hint },
      after: { id: old.id, status: 'rotated', rotated_to_id: id, new_fingerprint: hint, master_key_id: mk.id } });
    return { old_id: old.id, new_id: id, provider: old.provider, name: old.name, fingerprint: hint, rotated_at: req.now };
  });
}

export interface RevokeResult { id: string; provider: string; name: string; status: string; revoked_at: Date | null; changed: boolean }

/** Soft revoke: status revoked, revoked_at and deleted_at set. Re-running changes nothing. */
export async function revokeMasterKey(db: Kysely<MysqlDB>, actor: Actor,
  req: { id: string; reason?: string | null; now: Date }): Promise<RevokeResult> {
  return inTransaction(db, async (trx) => {
    const row = await getMasterKeyRow(trx, req.id, true);
    if (row.status === 'revoked') {
      return { id: row.id, provider: row.provider, name: row.name, status: row.status, revoked_at: row.revoked_at, changed: false };
    }
    await trx.updateTable('admin.api_master_keys')
      .set({ status: 'revoked', revoked_at: req.now, deleted_at: row.deleted_at ?? req.now })
      .where('id', '=', row.id).execute();
    await writeAudit(trx, actor, { action: KEY_ACTIONS.revoke, target_type: TARGET, target_id: row.id, reason: req.reason,
      before: { status: row.status, deleted_at: row.deleted_at, fingerprint: row.key_hint },
      after: { status: 'revoked', revoked_at: req.now } });
    return { id: row.id, provider: row.provider, name: row.name, status: 'revoked', revoked_at: req.now, changed: true };
  });
}

export type VerifyProblem = 'wrong_master_key' | 'tampered' | 'authentication_failed' | 'malformed' | 'unknown_version';

export interface VerifyRow {
  id: string; provider: string; name: string; status: string; master_key_id: string | null;
  result: 'ok' | 'failed'; problem: VerifyProblem | null; detail: string | null;
}

/** Decrypt one row; the plaintext (if any) goes to `use` and is dropped right after. */
function tryDecrypt(mk: MasterKey, row: MasterKeyRow): { ok: true; plaintext: string } | { ok: false; problem: VerifyProblem; detail: string } {
  try {
    return { ok: true, plaintext: decryptSecret(mk.key, row.encrypted_key, aadFor(row.id, row.provider)) };
  } catch (err) {
    if (!(err instanceof DecryptError)) throw err;
    if (err.reason !== 'authentication') return { ok: false, problem: err.reason, detail: `stored value is ${err.message}` };
    if (row.master_key_id && row.master_key_id !== mk.id) {
      return { ok: false, problem: 'wrong_master_key', detail: `encrypted with another master key (id ${row.master_key_id}; the configured key from ${mk.source} is ${mk.id})` };
    }
    if (row.master_key_id === mk.id) {
      return { ok: false, problem: 'tampered', detail: 'authentication failed: the ciphertext, IV or tag was altered, or the row\'s id/provider changed' };
    }
    return { ok: false, problem: 'authentication_failed', detail: 'authentication failed: tampered, or encrypted with another master key' };
  }
}

export async function verifyMasterKeys(db: Kysely<MysqlDB>, mk: MasterKey, f: { all?: boolean; ids?: string[] } = {}): Promise<VerifyRow[]> {
  let q = db.selectFrom('admin.api_master_keys').selectAll();
  if (!f.all) q = q.where('deleted_at', 'is', null);
  if (f.ids?.length) q = q.where(inExact('id', f.ids));
  const rows = await q.execute();
  return rows.map((row) => {
    const r = tryDecrypt(mk, row);
    const base = { id: row.id, provider: row.provider, name: row.name, status: row.status, master_key_id: row.master_key_id };
    if (r.ok) return { ...base, result: 'ok' as const, problem: null, detail: null };
    return { ...base, result: 'failed' as const, problem: r.problem, detail: r.detail };
  }).sort((a, b) => naturalCompare(a.provider, b.provider) || naturalCompare(a.name, b.name) || naturalCompare(a.id, b.id));
}

/** One line for all failures, e.g. when every key fails: most likely the wrong key file. */
export function explainFailures(rows: VerifyRow[], mk: MasterKey): string | null {
  const failed = rows.filter((r) => r.result === 'failed');
  if (!failed.length) return null;
  if (failed.length === rows.length && failed.every((r) => r.problem === 'wrong_master_key' || r.problem === 'authentication_failed')) {
    return `no stored key decrypts with the master key from ${mk.source} (id ${mk.id}): it is most likely the wrong master key file`;
  }
  const tampered = failed.filter((r) => r.problem === 'tampered').length;
  return `${failed.length} of ${plural(rows.length, 'key')} fail authentication${tampered ? ` (${tampered} tampered: altered after encryption with this master key)` : ''}`;
}

/** Thrown when a single key cannot be decrypted: exit 1 for tampering, 5 for a wrong master key. */
export class KeyDecryptFailure extends SayclawError {
  constructor(readonly problem: VerifyProblem, message: string, hint?: string) {
    super(message, problem === 'wrong_master_key' ? ExitCode.CONFIG : ExitCode.RUNTIME, { hint });
  }
}

/**
 * Decrypt one key for `keys reveal`. The audit row (success or refusal, never the secret) is
 * committed before the plaintext is returned; if the audit write fails nothing is returned.
 */
export async function revealMasterKey(db: Kysely<MysqlDB>, actor: Actor, mk: MasterKey,
  req: { id: string; reason?: string | null }): Promise<{ row: MasterKeyRow; plaintext: string }> {
  const row = await getMasterKeyRow(db, req.id);
  const r = tryDecrypt(mk, row);
  await inTransaction(db, async (trx) => {
    await writeAudit(trx, actor, { action: KEY_ACTIONS.reveal, target_type: TARGET, target_id: row.id, reason: req.reason,
      after: { provider: row.provider, name: row.name, fingerprint: row.key_hint, result: r.ok ? 'revealed' : `refused: ${r.problem}` } });
  });
  if (!r.ok) {
    throw new KeyDecryptFailure(r.problem, `cannot reveal master key ${row.id}: ${r.detail}; nothing printed`,
      r.problem === 'wrong_master_key' ? 'check --master-key-file / SAYCLAW_MASTER_KEY_FILE' : 'run: sayclaw keys verify');
  }
  return { row, plaintext: r.plaintext };
}

export interface ReencryptResult { count: number; from_master_key_id: string; to_master_key_id: string; ids: string[] }

/**
 * Re-encrypt every stored key (soft-deleted ones too, so history stays readable) from `from` to
 * `to`, in one transaction: rows are locked, each is decrypted with `from` (any failure rolls
 * everything back), encrypted with `to` and checked by decrypting again.
 */
export async function reencryptMasterKeys(db: Kysely<MysqlDB>, actor: Actor, from: MasterKey, to: MasterKey,
  req: { reason?: string | null }): Promise<ReencryptResult> {
  if (from.id === to.id) throw new UsageError(`the new master key (${to.source}) is the same as the current one (id ${from.id}); nothing changed`);
  return inTransaction(db, async (trx) => {
    const rows = await trx.selectFrom('admin.api_master_keys').selectAll().orderBy('id').forUpdate().execute();
    const ids: string[] = [];
    for (const row of rows) {
      const r = tryDecrypt(from, row);
      if (!r.ok) throw new KeyDecryptFailure(r.problem, `master key ${row.id} does not decrypt with the current master key: ${r.detail}; nothing re-encrypted`);
      const aad = aadFor(row.id, row.provider);
      const blob = encryptSecret(to.key, r.plaintext, aad);
      if (decryptSecret(to.key, blob, aad) !== r.plaintext) throw new SayclawError('re-encryption self-check failed; nothing re-encrypted', ExitCode.RUNTIME);
      await trx.updateTable('admin.api_master_keys').set({ encrypted_key: blob, master_key_id: to.id }).where('id', '=', row.id).execute();
      ids.push(row.id);
    }
    await writeAudit(trx, actor, { action: KEY_ACTIONS.reencrypt, target_type: 'api_master_keys', target_id: '*', reason: req.reason,
      before: { master_key_id: from.id, count: ids.length }, after: { master_key_id: to.id, count: ids.length, ids } });
    return { count: ids.length, from_master_key_id: from.id, to_master_key_id: to.id, ids };
  });
}
