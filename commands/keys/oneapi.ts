// sayclaw keys oneapi ls: One API tokens with status names, quota and money, expiry.
import type { Command } from 'commander';
import { verb, group, choiceOption } from '../kit.js';
import { plural } from '../../src/output/format.js';

interface Opts { exhausted?: boolean; expiringWithin?: string; status?: string; prefix?: string; all?: boolean }

export function registerKeysOneapi(keys: Command): void {
  const g = group(keys, 'oneapi', 'One API tokens (oneapi.tokens)', ['sayclaw keys oneapi ls --exhausted']);
  g.helpCommand(false);
  verb<Opts>(g, {
    name: 'ls',
    summary: "One API tokens: status, remaining/used quota and USD (One API's QuotaPerUnit), expiry",
    examples: ['sayclaw keys oneapi ls', 'sayclaw keys oneapi ls --exhausted', 'sayclaw keys oneapi ls --expiring-within 7d -o csv',
      'sayclaw keys oneapi ls --all', 'sayclaw keys oneapi ls --prefix oc-oc-ai-jp-2- --set usage.quotaPerUsd=500000'],
    options: (c) => c
      .option('--exhausted', 'only tokens out of quota (status exhausted, or limited with remain_quota <= 0)')
      .option('--expiring-within <duration>', 'only tokens expiring within this time from now, e.g. 7d, 12h, 2w')
      .addOption(choiceOption('--status <status>', 'only tokens with this stored status (deleted: new-api soft-deleted ones)',
        ['enabled', 'disabled', 'expired', 'exhausted', 'deleted']))
      .option('--prefix <prefix>', 'only token names starting with this (matched literally)')
      .option('--all', 'also tokens new-api soft-deleted (shown as deleted)'),
    run: async (ctx, o) => {
      const { listOneApiTokens, parseDurationSeconds } = await import('../../src/fleet/keys/oneapi-tokens.js');
      const { oneApiSchema, quotaPerUnit } = await import('../../src/fleet/oneapi/detect.js');
      const { renderList } = await import('../../src/output/render.js');
      const within = o.expiringWithin !== undefined ? parseDurationSeconds(o.expiringWithin) : undefined;
      const { db } = await ctx.mysql();
      const [schema, rate] = await Promise.all([oneApiSchema(ctx), quotaPerUnit(ctx)]);
      const now = ctx.clock();
      const rows = await listOneApiTokens(db, { exhausted: o.exhausted, expiringWithinSec: within, status: o.status, namePrefix: o.prefix,
        all: o.all, now, rate, schema });
      const f = ctx.outputFormat;
      const human = f === 'table' || f === 'wide';
      type R = (typeof rows)[number];
      // the table says what One API does with the expiry: never, expired (0 and any past time), or when
      const expires = (r: R) => (r.expires_at === null ? (r.expired_time === '-1' ? 'never' : null)
        : r.expires_at.getTime() <= now.getTime() ? `expired ${r.expires_at.toISOString()}` : r.expires_at);
      await renderList(ctx.out, rows, { format: f, columns: [
        { key: 'id' }, { key: 'name' }, { key: 'status' },
        { key: 'effective_status', header: 'EFFECTIVE' },
        { key: 'remain_quota', get: human ? (r: R) => (r.unlimited_quota ? 'unlimited' : r.remain_quota) : undefined },
        { key: 'remain_usd' }, { key: 'used_quota' }, { key: 'used_usd' },
        { key: 'expires_at', get: human ? expires : undefined },
        { key: 'accessed_at', relative: true, wide: true }, { key: 'created_at', wide: true }, { key: 'user_id', wide: true },
        { key: 'unlimited_quota', wide: true }, { key: 'expired_time', wide: true }, { key: 'deleted_at', wide: true }, { key: 'key_hint', wide: true },
      ] });
      ctx.countLine(rows.length, 'token');
      if (human && rows.length) ctx.info(`money = quota / ${rate.text} per USD (${rate.source}); One API: ${schema.label}`);
    },
  });
}
