// usage rollup: per-day totals per user and per instance into admin.usage_daily. Idempotent:
// the day's totals are recomputed from the logs (both databases), compared with what is stored,
// and only new or changed rows are written (INSERT ... ON DUPLICATE KEY UPDATE), so a re-run
// changes nothing and a late log row changes only its day. A group that no longer has usage
// on a day (e.g. an instance reassigned) is soft-deleted, never physically deleted.
import { DateTime } from './luxon.js';
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { writeAudit } from '../audit/write.js';
import { aggregateUsage } from './report.js';
import type { TimeRange } from './range.js';
import { inTransaction } from '../../db/transaction.js';

export const ROLLUP_SCOPES = ['user', 'instance'] as const;

export interface RollupResult {
  days: number; from_day: string; to_day: string;
  inserted: number; updated: number; unchanged: number; retired: number;
}

interface Totals { requests: string; prompt_tokens: string; completion_tokens: string; quota: string; cost_usd: string }

/** Widen a range to whole days in its zone: a rollup never stores a partial day's slice. */
export function wholeDays(r: TimeRange): TimeRange {
  const from = DateTime.fromSeconds(r.from, { zone: r.zone }).startOf('day');
  const last = DateTime.fromSeconds(r.to - 1, { zone: r.zone }).startOf('day');
  return { from: Math.floor(from.toSeconds()), to: Math.floor(last.plus({ days: 1 }).toSeconds()), zone: r.zone };
}

/** With dryRun, everything is computed and compared, nothing is written (the counts say what would be). */
export async function rollupUsage(ctx: Context, range0: TimeRange, types: number[], opts: { dryRun?: boolean } = {}): Promise<RollupResult> {
  const range = wholeDays(range0);
  const fresh = new Map<string, Totals & { day: string; scope: string; scope_id: string }>();
  let days: string[] = [];
  for (const scope of ROLLUP_SCOPES) {
    const res = await aggregateUsage(ctx, { range, by: 'day', groups: [scope], types });
    days = res.buckets.map((b) => b.label);
    for (const r of res.rows) {
      const id = scope === 'user' ? r.user_id! : r.instance_id!;
      fresh.set(`${r.period}\u0000${scope}\u0000${id}`, {
        day: r.period!, scope, scope_id: id, requests: r.requests, prompt_tokens: r.prompt_tokens,
        completion_tokens: r.completion_tokens, quota: r.quota, cost_usd: r.cost_usd,
      });
    }
  }
  const { db } = await ctx.mysql();
  const fromDay = days[0]!;
  const toDay = days[days.length - 1]!;
  const out: RollupResult = { days: days.length, from_day: fromDay, to_day: toDay, inserted: 0, updated: 0, unchanged: 0, retired: 0 };
  await inTransaction(db, async (trx) => {
    // a retried attempt (deadlock) counts from zero again
    Object.assign(out, { inserted: 0, updated: 0, unchanged: 0, retired: 0 });
    const existing = await sql<{ id: string; day: string; scope: string; scope_id: string; deleted: number } & Totals>`
      SELECT id, DATE_FORMAT(day, '%Y-%m-%d') AS day, scope, scope_id, requests, prompt_tokens, completion_tokens, quota, cost_usd,
        deleted_at IS NOT NULL AS deleted
      FROM ${sql.table('admin.usage_daily')}
      WHERE day BETWEEN ${fromDay} AND ${toDay} AND scope IN ('user', 'instance') FOR UPDATE`.execute(trx);
    const old = new Map(existing.rows.map((r) => [`${r.day}\u0000${r.scope}\u0000${r.scope_id}`, r]));
    const writes: Array<Totals & { day: string; scope: string; scope_id: string }> = [];
    for (const [k, v] of fresh) {
      const o = old.get(k);
      if (!o) { out.inserted++; writes.push(v); continue; }
      const same = !Number(o.deleted) && o.requests === v.requests && o.prompt_tokens === v.prompt_tokens
        && o.completion_tokens === v.completion_tokens && o.quota === v.quota && o.cost_usd === v.cost_usd;
      if (same) out.unchanged++;
      else { out.updated++; writes.push(v); }
    }
    const retire = existing.rows.filter((r) => !Number(r.deleted) && !fresh.has(`${r.day}\u0000${r.scope}\u0000${r.scope_id}`));
    out.retired = retire.length;
    if (opts.dryRun) return;
    for (let i = 0; i < writes.length; i += 500) {
      const chunk = writes.slice(i, i + 500);
      await sql`INSERT INTO ${sql.table('admin.usage_daily')}
          (id, day, scope, scope_id, requests, prompt_tokens, completion_tokens, quota, cost_usd, updated_at, created_at, deleted_at)
        VALUES ${sql.join(chunk.map((w) => sql`(${crypto.randomUUID()}, ${w.day}, ${w.scope}, ${w.scope_id}, ${w.requests}, ${w.prompt_tokens},
          ${w.completion_tokens}, ${w.quota}, ${w.cost_usd}, NOW(3), NOW(3), NULL)`))}
        ON DUPLICATE KEY UPDATE requests = VALUES(requests), prompt_tokens = VALUES(prompt_tokens),
          completion_tokens = VALUES(completion_tokens), quota = VALUES(quota), cost_usd = VALUES(cost_usd),
          updated_at = NOW(3), deleted_at = NULL`.execute(trx);
    }
    if (retire.length) {
      for (let i = 0; i < retire.length; i += 500) {
        await trx.updateTable('admin.usage_daily').set({ deleted_at: sql`NOW(3)` as never, updated_at: sql`NOW(3)` as never })
          .where('id', 'in', retire.slice(i, i + 500).map((r) => r.id)).execute();
      }
    }
    // the house rule: every write leaves an audit row (a no-op re-run writes nothing, not even this)
    if (writes.length || retire.length) {
      await writeAudit(trx, ctx.who(), {
        action: 'usage.rollup', target_type: 'usage_daily', target_id: `${fromDay}..${toDay}`,
        after: { zone: range.zone, types, inserted: out.inserted, updated: out.updated, retired: out.retired, unchanged: out.unchanged },
      });
    }
  });
  return out;
}
