// sayclaw instances show ID
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { plural } from '../../src/output/format.js';

export function registerShow(g: Command): void {
  verb<{ history?: number }>(g, {
    name: 'show',
    args: '<id>',
    summary: 'one instance: row, server, assignment in all three places, config (JSON5, secrets masked), health history',
    examples: ['sayclaw instances show oc-ai-jp-2-01', 'sayclaw instances show oc-ai-jp-2-01 -o json | jq .assignment'],
    run: async (ctx, _o, args) => {
      const { showInstance } = await import('../../src/fleet/instances/show.js');
      const { renderObject } = await import('../../src/output/render.js');
      const { maskDeep } = await import('../../src/output/mask.js');
      const { escapeJsonText, escapeMessage } = await import('../../src/output/escape.js');
      const { db } = await ctx.mysql();
      const d = await showInstance(db, args[0]!);
      const a = d.assignment;
      const data = {
        ...d.instance,
        server: d.server,
        assignment: {
          assigned_user_id: a.assigned_user_id, assigned_email: a.assigned_email, consistent: a.problems.length === 0,
          problems: a.problems, admin_bindings: a.admin_bindings, portal_bindings: a.portal_bindings,
        },
        config: d.config,
        config_error: d.config_error,
        health_history: d.health_history,
      };
      for (const p of a.problems) ctx.warn(`assignment records disagree: ${p}`);
      if (d.config_error) ctx.warn(d.config_error);
      const state = (b: { current: boolean; history: boolean }) => (b.current ? 'current' : b.history ? 'history' : 'DRIFT');
      await renderObject(ctx.out, data, {
        format: ctx.outputFormat,
        sections: [
          { title: 'Instance', data: d.instance },
          { title: 'Server', data: d.server ?? { server: '(none)' } },
          { title: 'Assignment', data: {
            'oc_instances.assigned_user_id': a.assigned_user_id, assigned_email: a.assigned_email,
            consistent: a.problems.length === 0 ? 'yes' : `NO (${plural(a.problems.length, 'problem')}, see warnings)` } },
          { title: 'sayclaw_admin.instance_users', data: a.admin_bindings.map((b) => ({ user_email: b.user_email, assigned_at: b.assigned_at, state: state(b) })) },
          { title: 'sayclaw_portal.user_instances', data: a.portal_bindings.map((b) => ({ email: b.email ?? b.user_id, setup_status: b.setup_status,
            tg_username: b.tg_username, tg_bot_username: b.tg_bot_username, tg_bound_at: b.tg_bound_at, state: state(b) })) },
          { title: 'Config (secrets masked)', data: {}, text: d.config === null ? escapeMessage(d.config_error ?? '(none)') : escapeJsonText(JSON.stringify(maskDeep(d.config), null, 2)) },
          { title: 'Health history', data: d.health_history },
        ],
      });
    },
  });
}
