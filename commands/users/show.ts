// sayclaw users show EMAIL|ID: the user (never the password hash), their instances as the
// assignment rules see them (the same view as `instances show`), Telegram binding, today's token
// usage against quota_daily, and chat activity counts (never message content).
import type { Command } from 'commander';
import { verb } from '../kit.js';

export function registerUsersShow(g: Command): void {
  verb(g, {
    name: 'show',
    args: '<email|id>',
    summary: "one user: row, instances and setup status, Telegram binding, today's usage vs quota, chat counts",
    examples: ['sayclaw users show li.na@sayclaw.test', 'sayclaw users show li.na@sayclaw.test -o json | jq .usage_today'],
    run: async (ctx, _o, args) => {
      const { showUser } = await import('../../src/fleet/users/show.js');
      const { renderObject } = await import('../../src/output/render.js');
      const { plural } = await import('../../src/output/format.js');
      const d = await showUser(ctx, args[0]!);
      for (const i of d.instances) for (const p of i.problems) ctx.warn(`${i.instance_id}: assignment records disagree: ${p}`);
      if (d.usage_today.over_quota) ctx.warn(`${d.email} is over today's quota (${d.usage_today.tokens} of ${plural(Number(d.quota_daily), 'token')})`);
      const { instances, usage_today: u, chat_messages: c, telegram: t, ...row } = d;
      await renderObject(ctx.out, d as unknown as Record<string, unknown>, {
        format: ctx.outputFormat, nameKey: 'email',
        sections: [
          { title: 'User', data: row },
          { title: 'Instances (current: oc_instances.assigned_user_id; history/drift: binding rows only)',
            data: instances.map((i) => ({ instance_id: i.instance_id, assignment: i.assignment, alive: i.alive, setup_status: i.setup_status,
              assigned_email: i.assigned_email, portal_binding: i.portal_binding, admin_binding: i.admin_binding,
              tg_bot_username: i.tg_bot_username, problems: i.problems.length })) },
          { title: 'Telegram', data: { ...t, bound_instances: t.bound_instances.map((b) => b.instance_id) } },
          { title: `Usage today (${u.date}, ${u.timezone})`, data: { ...u } },
          { title: 'Chat messages (counts only)', data: { ...c } },
        ],
      });
    },
  });
}
