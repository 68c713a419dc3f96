// sayclaw users history EMAIL
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { renderTimeline, windowOf, windowOptions, type WindowOpts } from '../audit/shared.js';

export function registerUsersHistory(g: Command): void {
  verb<WindowOpts>(g, {
    name: 'history',
    args: '<email>',
    summary: 'one user\'s timeline, oldest first: their own changes and their instances\' assignment events',
    examples: ['sayclaw users history li.na@sayclaw.test', 'sayclaw users history li.na@sayclaw.test --since this-month -o json'],
    options: (c) => windowOptions(c, 'events'),
    run: async (ctx, o, args) => {
      const w = await windowOf(ctx, o);
      const [{ userTimeline }, { db }] = await Promise.all([import('../../src/fleet/audit/timeline.js'), ctx.mysql()]);
      await renderTimeline(ctx, await userTimeline(db, args[0]!, w));
    },
  });
}
