// One API tokens (oneapi.tokens): status names, quota as quota and as money (exact decimals,
// never floats), expiry, and the filters of `keys oneapi ls`. The token key itself is never
// selected whole into a result: only its last 4 characters as a hint.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { likePrefix, naturalCompare } from '../../db/sql-helpers.js';
import { UsageError } from '../../errors.js';
import { costUsd, type QuotaRate } from '../usage/money.js';
import type { OneApiSchema } from '../../db/oneapi-schema.js';

export const TOKEN_STATUS: Record<string, string> = { 1: 'enabled', 2: 'disabled', 3: 'expired', 4: 'exhausted' };
export const TOKEN_STATUS_CODE: Record<string, number> = { enabled: 1, disabled: 2, expired: 3, exhausted: 4 };
/** new-api soft-deleted tokens (tokens.deleted_at): shown as this status, whatever the stored one says. */
export const DELETED = 'deleted';
export const TOKEN_STATUS_FILTERS = ['enabled', 'disabled', 'expired', 'exhausted', DELETED] as const;

export function tokenStatusName(code: string | number | null): string {
  if (code === null || code === undefined) return 'unknown';
  return TOKEN_STATUS[String(code)] ?? `unknown(${code})`;
}

/** quota / quota-per-USD as a decimal string with 6 places: the usage reports' exact costUsd. */
export function quotaToUsd(quota: string | number | bigint | null, rate: QuotaRate | number): string | null {
  if (quota === null || quota === undefined) return null;
  return costUsd(String(quota), rate);
}

export { parseDurationSeconds } from '../duration.js';

export interface TokenFilter {
  /** status 4, or a limited token with remain_quota <= 0 */
  exhausted?: boolean;
  /** expiring in (now, now + seconds] */
  expiringWithinSec?: number;
  status?: string;
  namePrefix?: string;
  /** also soft-deleted tokens (new-api), shown as status deleted */
  all?: boolean;
  now: Date;
  rate: QuotaRate;
  /** the detected One API schema (does tokens have deleted_at?) */
  schema: OneApiSchema;
}

export interface TokenRow {
  id: string;
  name: string | null;
  user_id: string | null;
  status: string;
  /** what One API will do with it now: a token past expired_time or out of quota is expired/exhausted even if status still says enabled */
  effective_status: string;
  remain_quota: string | null;
  remain_usd: string | null;
  used_quota: string | null;
  used_usd: string | null;
  unlimited_quota: boolean;
  expired_time: string | null;
  expires_at: Date | null;
  accessed_at: Date | null;
  created_at: Date | null;
  /** new-api soft delete; null when alive (or the flavour has no soft delete) */
  deleted_at: Date | null;
  key_hint: string | null;
}

/** accessed/created: 0 means "never". */
const unix = (v: string | number | null): Date | null => (v === null || v === '' || String(v) === '-1' || String(v) === '0' ? null : new Date(Number(v) * 1000));

/**
 * expired_time as a time: -1 is "never"; anything else is a moment One API compares with now,
 * so 0 is 1970-01-01, long past: expired, as One API treats it (`expired_time != -1 && < now`).
 */
export function expiresAt(v: string | number | null): Date | null {
  if (v === null || v === '' || String(v) === '-1') return null;
  return new Date(Number(v) * 1000);
}

export interface TokenFacts { status: string | null; expired_time: string | null; remain_quota: string | null; unlimited_quota: number | boolean | null }

export function effectiveStatus(t: TokenFacts, now: Date): string {
  const s = tokenStatusName(t.status);
  if (s !== 'enabled') return s;
  const exp = t.expired_time !== null ? BigInt(t.expired_time) : -1n;
  if (exp !== -1n && exp * 1000n <= BigInt(now.getTime())) return 'expired';
  if (!t.unlimited_quota && t.remain_quota !== null && BigInt(t.remain_quota) <= 0n) return 'exhausted';
  return 'enabled';
}

export async function listOneApiTokens(db: Kysely<MysqlDB>, f: TokenFilter): Promise<TokenRow[]> {
  const soft = f.schema.has('tokens', 'deleted_at');
  let q = db.selectFrom('oneapi.tokens').select(['id', 'name', 'user_id', 'status', 'created_time', 'accessed_time', 'expired_time',
    'remain_quota', 'unlimited_quota', 'used_quota', sql<string | null>`RIGHT(${sql.ref('key')}, 4)`.as('key_last4'),
    (soft ? sql<Date | null>`deleted_at` : sql<Date | null>`NULL`).as('deleted_at')]);
  const nowSec = Math.floor(f.now.getTime() / 1000);
  if (f.status === DELETED) {
    // only new-api soft-deletes; elsewhere nothing is deleted
    q = soft ? q.where('deleted_at', 'is not', null) : q.where(sql<boolean>`1 = 0`);
  } else if (soft && !f.all) q = q.where('deleted_at', 'is', null);
  if (f.status && f.status !== DELETED) {
    const code = TOKEN_STATUS_CODE[f.status];
    if (code === undefined) throw new UsageError(`unknown token status "${f.status}"`, { hint: `use ${TOKEN_STATUS_FILTERS.join(', ')}` });
    q = q.where('status', '=', String(code));
    // a deleted token is never listed under a live status
    if (soft) q = q.where('deleted_at', 'is', null);
  }
  if (f.exhausted) {
    q = q.where((eb) => eb.or([
      eb('status', '=', '4'),
      eb.and([eb.or([eb('unlimited_quota', '=', 0), eb('unlimited_quota', 'is', null)]), eb('remain_quota', '<=', '0')]),
    ]));
  }
  if (f.expiringWithinSec !== undefined) {
    q = q.where('expired_time', '<>', '-1').where('expired_time', '>', String(nowSec))
      .where('expired_time', '<=', String(nowSec + f.expiringWithinSec));
  }
  if (f.namePrefix) q = q.where(likePrefix('name', f.namePrefix));
  const rows = await q.execute();
  return rows.map((r) => {
    const deleted = r.deleted_at !== null && r.deleted_at !== undefined;
    return {
      id: String(r.id), name: r.name, user_id: r.user_id === null ? null : String(r.user_id),
      status: deleted ? DELETED : tokenStatusName(r.status),
      effective_status: deleted ? DELETED : effectiveStatus(r, f.now),
      remain_quota: str(r.remain_quota), remain_usd: Number(r.unlimited_quota ?? 0) ? null : quotaToUsd(r.remain_quota, f.rate),
      used_quota: str(r.used_quota), used_usd: quotaToUsd(r.used_quota, f.rate),
      unlimited_quota: !!Number(r.unlimited_quota ?? 0),
      expired_time: str(r.expired_time), expires_at: expiresAt(r.expired_time),
      accessed_at: unix(r.accessed_time), created_at: unix(r.created_time),
      deleted_at: deleted ? new Date(r.deleted_at as Date) : null,
      key_hint: r.key_last4 ? `sk-...${r.key_last4}` : null,
    };
  }).sort((a, b) => naturalCompare(a.name ?? '', b.name ?? '') || naturalCompare(a.id, b.id));
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
