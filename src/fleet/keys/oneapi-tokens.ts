// One API tokens (oneapi.tokens): status names, quota as quota and as money (exact decimals,
// never floats), expiry, and the filters of `keys oneapi ls`. The token key itself is never
// selected whole into a result: only its last 4 characters as a hint.
import { sql, type Kysely } from 'kysely';
import { Decimal } from 'decimal.js';
import type { MysqlDB } from '../../db/types.js';
import { likePrefix, naturalCompare } from '../../db/sql-helpers.js';
import { UsageError } from '../../errors.js';

export const TOKEN_STATUS: Record<string, string> = { 1: 'enabled', 2: 'disabled', 3: 'expired', 4: 'exhausted' };
export const TOKEN_STATUS_CODE: Record<string, number> = { enabled: 1, disabled: 2, expired: 3, exhausted: 4 };

export function tokenStatusName(code: string | number | null): string {
  if (code === null || code === undefined) return 'unknown';
  return TOKEN_STATUS[String(code)] ?? `unknown(${code})`;
}

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });

/** quota / quotaPerUsd as a decimal string with 6 places (exact for the default 500000). */
export function quotaToUsd(quota: string | number | bigint | null, quotaPerUsd: number): string | null {
  if (quota === null || quota === undefined) return null;
  const s = new D(String(quota)).div(quotaPerUsd).toFixed(6);
  return /^-0\.0+$/.test(s) ? s.slice(1) : s; // no "-0.000000"

}

export { parseDurationSeconds } from '../duration.js';

export interface TokenFilter {
  /** status 4, or a limited token with remain_quota <= 0 */
  exhausted?: boolean;
  /** expiring in (now, now + seconds] */
  expiringWithinSec?: number;
  status?: string;
  namePrefix?: string;
  now: Date;
  quotaPerUsd: number;
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
  key_hint: string | null;
}

const unix = (v: string | null): Date | null => (v === null || v === '' || v === '-1' || v === '0' ? null : new Date(Number(v) * 1000));

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
  let q = db.selectFrom('oneapi.tokens').select(['id', 'name', 'user_id', 'status', 'created_time', 'accessed_time', 'expired_time',
    'remain_quota', 'unlimited_quota', 'used_quota', sql<string | null>`RIGHT(${sql.ref('key')}, 4)`.as('key_last4')]);
  const nowSec = Math.floor(f.now.getTime() / 1000);
  if (f.status) {
    const code = TOKEN_STATUS_CODE[f.status];
    if (code === undefined) throw new UsageError(`unknown token status "${f.status}"`, { hint: 'use enabled, disabled, expired or exhausted' });
    q = q.where('status', '=', String(code));
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
  return rows.map((r) => ({
    id: String(r.id), name: r.name, user_id: r.user_id, status: tokenStatusName(r.status),
    effective_status: effectiveStatus(r, f.now),
    remain_quota: r.remain_quota, remain_usd: r.unlimited_quota ? null : quotaToUsd(r.remain_quota, f.quotaPerUsd),
    used_quota: r.used_quota, used_usd: quotaToUsd(r.used_quota, f.quotaPerUsd),
    unlimited_quota: !!Number(r.unlimited_quota ?? 0),
    expired_time: r.expired_time, expires_at: unix(r.expired_time),
    accessed_at: unix(r.accessed_time), created_at: unix(r.created_time),
    key_hint: r.key_last4 ? `sk-...${r.key_last4}` : null,
  })).sort((a, b) => naturalCompare(a.name ?? '', b.name ?? '') || naturalCompare(a.id, b.id));
}
