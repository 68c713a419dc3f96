// sayclaw instances history ID
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { renderTimeline, windowOf, windowOptions, type WindowOpts } from '../audit/shared.js';

export function registerInstancesHistory(g: Command): void {
  verb<WindowOpts>(g, {
    name: 'history',
    args: '<id>',
    summary: 'one instance\'s timeline, oldest first: audit rows, health changes, assignment bindings, created/deleted',
    examples: ['sayclaw instances history oc-ai-jp-2-07', 'sayclaw instances history oc-ai-jp-2-07 --since 30d -o json'],
    options: (c) => windowOptions(c, 'events'),
    run: async (ctx, o, args) => {
      const w = await windowOf(ctx, o);
      const [{ instanceTimeline }, { db }] = await Promise.all([import('../../src/fleet/audit/timeline.js'), ctx.mysql()]);
      await renderTimeline(ctx, await instanceTimeline(db, args[0]!, w));
    },
  });
}
