// `users show` as data: the user row (no password hash), instances through the assignment rules,
// Telegram binding, today's usage (in config usage.timezone) against quota_daily, chat counts.
import type { Context } from '../../context.js';
import { getUser, userInstances, chatActivity, type PortalUser, type UserInstanceView, type ChatActivity } from './registry.js';

export interface UsageToday {
  date: string;
  timezone: string;
  requests: string;
  /** prompt + completion tokens today, attributed through the user's instances */
  tokens: string;
  /** One API quota units charged today */
  quota: string;
  quota_daily: string;
  /** tokens / quota_daily in percent, one decimal; null when quota_daily is 0 */
  used_percent: string | null;
  over_quota: boolean;
}

export interface UserDetail extends PortalUser {
  /** instances oc_instances.assigned_user_id gives this user (alive or soft-deleted) */
  current_instance_ids: string[];
  instances: UserInstanceView[];
  telegram: { bound: boolean; telegram_user_id: string | null; telegram_username: string | null; telegram_bound_at: Date | null;
    bound_instances: Array<{ instance_id: string; tg_username: string | null; tg_bot_username: string | null; tg_bound_at: Date | null }> };
  usage_today: UsageToday;
  chat_messages: ChatActivity;
}

export function percent(used: bigint, of: bigint): string | null {
  if (of <= 0n) return null;
  const tenths = (used * 1000n + of / 2n) / of;
  return `${tenths / 10n}.${tenths % 10n}`;
}

export async function showUser(ctx: Context, emailOrId: string): Promise<UserDetail> {
  const { db } = await ctx.mysql();
  const user = await getUser(db, emailOrId);
  const [instances, chat] = await Promise.all([userInstances(db, user), chatActivity(db, user.id, ctx.clock())]);

  const { DateTime } = await import('luxon');
  const { assertZone } = await import('../usage/range.js');
  const zone = assertZone(ctx.config().usage.timezone);
  const start = DateTime.fromJSDate(ctx.clock()).setZone(zone).startOf('day');
  const end = start.plus({ days: 1 });
  const { userTokenUsage } = await import('../usage/attribution.js');
  const usage = (await userTokenUsage(ctx, [user.id], Math.floor(start.toSeconds()), Math.floor(end.toSeconds()))).get(user.id)
    ?? { requests: '0', tokens: '0', quota: '0' };
  const tokens = BigInt(usage.tokens);
  const quotaDaily = BigInt(user.quota_daily);

  return {
    ...user,
    current_instance_ids: instances.filter((i) => i.assignment === 'current').map((i) => i.instance_id),
    instances,
    telegram: {
      bound: user.telegram_user_id !== null || user.telegram_username !== null,
      telegram_user_id: user.telegram_user_id, telegram_username: user.telegram_username, telegram_bound_at: user.telegram_bound_at,
      bound_instances: instances.filter((i) => i.tg_username !== null || i.tg_bot_username !== null || i.tg_bound_at !== null)
        .map((i) => ({ instance_id: i.instance_id, tg_username: i.tg_username, tg_bot_username: i.tg_bot_username, tg_bound_at: i.tg_bound_at })),
    },
    usage_today: {
      date: start.toISODate()!, timezone: zone, requests: usage.requests, tokens: usage.tokens, quota: usage.quota,
      quota_daily: user.quota_daily, used_percent: percent(tokens, quotaDaily), over_quota: tokens > quotaDaily,
    },
    chat_messages: chat,
  };
}
