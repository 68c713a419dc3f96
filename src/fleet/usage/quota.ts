// usage quota: today's usage (in the report time zone) of each active portal user against
// users.quota_daily, for alerting. quota_daily is in tokens (prompt + completion), the unit
// `users quota` sets and `users show` compares; the One API quota and its cost are shown beside.
// Integer arithmetic only.
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { costUsd } from './money.js';
import { aggregateUsage } from './report.js';
import type { TimeRange } from './range.js';

export interface QuotaRow {
  user_id: string; email: string; name: string | null; department: string | null;
  used_tokens: string; quota_daily: string; used_pct: string; quota: string; cost_usd: string; status: 'over' | 'near';
}

/** "80%", "80" or "92.5%" -> hundredths of a percent (8000). */
export function parseThreshold(v: string | undefined): bigint {
  if (v === undefined) return 8000n;
  const m = /^(\d{1,4})(?:\.(\d{1,2}))?%?$/.exec(v.trim());
  if (!m) throw new UsageError(`--threshold expects a percentage like 80%, got "${v}"`);
  const h = BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
  // 0% would list every user with a quota: the range is (0%, 1000%], and the message says so
  if (h <= 0n || h > 100000n) throw new UsageError(`--threshold must be more than 0% and at most 1000%, got "${v}"`, { hint: 'e.g. --threshold 80% or 0.01%' });
  return h;
}

export async function quotaCheck(ctx: Context, today: TimeRange, thresholdHundredths: bigint, types: number[]): Promise<QuotaRow[]> {
  const res = await aggregateUsage(ctx, { range: today, groups: ['user'], types });
  const used = new Map(res.rows.map((r) => [r.user_id!, { tokens: BigInt(r.prompt_tokens) + BigInt(r.completion_tokens), quota: BigInt(r.quota) }]));
  const { db } = await ctx.mysql();
  const users = await db.selectFrom('portal.users').select(['id', 'email', 'name', 'department', 'quota_daily'])
    .where('status', '=', 'active').where('revoked_at', 'is', null).execute();
  const qpu = res.rate;
  const out: Array<QuotaRow & { k: bigint }> = [];
  for (const u of users) {
    const q = BigInt(u.quota_daily);
    const use = used.get(u.id) ?? { tokens: 0n, quota: 0n };
    const n = use.tokens;
    if (q <= 0n) continue;
    // pct in hundredths of a percent, floored
    const pct = (n * 10000n) / q;
    const over = n >= q;
    if (!over && n * 10000n < thresholdHundredths * q) continue;
    out.push({
      user_id: u.id, email: u.email, name: u.name, department: u.department, used_tokens: n.toString(), quota_daily: q.toString(),
      used_pct: `${pct / 100n}.${(pct % 100n).toString().padStart(2, '0')}`, quota: use.quota.toString(), cost_usd: costUsd(use.quota, qpu), status: over ? 'over' : 'near', k: pct,
    });
  }
  out.sort((a, b) => (b.k > a.k ? 1 : b.k < a.k ? -1 : a.email.localeCompare(b.email)));
  return out.map(({ k: _k, ...r }) => r);
}
