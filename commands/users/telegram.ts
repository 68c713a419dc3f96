// sayclaw users telegram unbind EMAIL: clear the Telegram fields on the user and on all their
// user_instances rows (rows are updated, never deleted); confirmation like `instances rm`.
import type { Command } from 'commander';
import { group, verb, writeFlags } from '../kit.js';

interface UnbindOpts { reason?: string; dryRun?: boolean; yes?: boolean }

export function registerTelegram(users: Command): void {
  const g = group(users, 'telegram', "a portal user's Telegram binding", ['sayclaw users telegram unbind li.na@sayclaw.test']);
  verb<UnbindOpts>(g, {
    name: 'unbind',
    args: '<email|id>',
    summary: 'clear the Telegram fields on the user and their instance bindings (no rows deleted)',
    examples: ['sayclaw users telegram unbind li.na@sayclaw.test --dry-run', 'sayclaw users telegram unbind li.na@sayclaw.test --yes --reason "lost phone"'],
    options: (c) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'tty'),
    run: async (ctx, o, args) => {
      const u = await import('../../src/fleet/users/registry.js');
      const { confirmChange, showChange } = await import('../../src/plan.js');
      const { renderObject } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const cur = await u.getUser(db, args[0]!);
      const p = await u.telegramPreview(db, cur);
      if (!p.user_bound && !p.bindings.length) {
        ctx.info(`${cur.email} has no Telegram binding; nothing changed`);
        return;
      }
      showChange(ctx, [`${cur.email}: Telegram ${cur.telegram_username ?? cur.telegram_user_id ?? '(partial)'}${p.bindings.length ? `; bindings on ${p.bindings.map((b) => `${b.instance_id}${b.tg_bot_username ? ` (${b.tg_bot_username})` : ''}`).join(', ')}` : ''} will be cleared`], o.dryRun);
      const go = await confirmChange(ctx, { verb: 'unbind Telegram for', noun: 'user', ids: [cur.email], yes: o.yes, dryRun: o.dryRun });
      if (!go) return;
      const r = await u.telegramUnbind(db, ctx.who(), cur.id, o.reason);
      const out = { email: r.user.email, id: r.user.id, user_cleared: r.user_cleared, bindings_cleared: r.bindings_cleared };
      await renderObject(ctx.out, out, { format: ctx.outputFormat, nameKey: 'email', sections: [{ title: 'Telegram unbound', data: out }] });
    },
  });
}
