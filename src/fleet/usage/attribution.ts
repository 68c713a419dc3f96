// Public helper for other verbs (users): usage per portal user over a time range, with the
// same attribution and sources as the usage reports. Keep this name and signature stable.
import type { Context } from '../../context.js';
import { aggregateUsage } from './report.js';

export interface UserTokenUsage { requests: string; tokens: string; quota: string }

/**
 * Usage of the given portal users in [fromUnix, toUnix) (unix seconds): consume rows (type 2),
 * attributed token -> oc_api_keys -> instance -> assigned user. Reads MySQL, and the legacy
 * PostgreSQL only when the range reaches before the cut-over. Users without usage are present
 * with zeros. tokens = prompt + completion tokens.
 */
export async function userTokenUsage(ctx: Context, userIds: string[], fromUnix: number, toUnix: number): Promise<Map<string, UserTokenUsage>> {
  const out = new Map<string, UserTokenUsage>();
  for (const id of userIds) out.set(id, { requests: '0', tokens: '0', quota: '0' });
  if (!userIds.length || toUnix <= fromUnix) return out;
  const r = await aggregateUsage(ctx, { range: { from: fromUnix, to: toUnix, zone: 'UTC' }, groups: ['user'], types: [2] });
  for (const row of r.rows) {
    const id = row.user_id;
    if (id === null || !out.has(id)) continue;
    out.set(id, { requests: row.requests, tokens: (BigInt(row.prompt_tokens) + BigInt(row.completion_tokens)).toString(), quota: row.quota });
  }
  return out;
}
