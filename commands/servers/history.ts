// sayclaw servers history NAME|IP|ID
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { renderTimeline, windowOf, windowOptions, type WindowOpts } from '../audit/shared.js';

export function registerServersHistory(g: Command): void {
  verb<WindowOpts>(g, {
    name: 'history',
    args: '<server>',
    summary: 'one server\'s timeline, oldest first: its audit rows, created and deleted (by name, IP or id)',
    examples: ['sayclaw servers history jp-2-srv-01', 'sayclaw servers history 10.0.2.4 -o json'],
    options: (c) => windowOptions(c, 'events'),
    run: async (ctx, o, args) => {
      const w = await windowOf(ctx, o);
      const [{ serverTimeline }, { db }] = await Promise.all([import('../../src/fleet/audit/timeline.js'), ctx.mysql()]);
      await renderTimeline(ctx, await serverTimeline(db, args[0]!, w));
    },
  });
}
