// sayclaw servers update: change the columns given as flags (audited with before/after).
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import { fieldOptions, inputFrom, showOne, type FieldOpts } from './shared.js';

export function registerServersUpdate(g: Command): void {
  verb<FieldOpts>(g, {
    name: 'update',
    args: '<server>',
    summary: 'change a server\'s columns (only the flags given; audited with before/after)',
    examples: ['sayclaw servers update jp-2-srv-04 --status maintenance --reason "disk swap"', 'sayclaw servers update jp-2-srv-04 --ssh-port 2222'],
    options: (c) => writeFlags(fieldOptions(c), 'never'),
    run: async (ctx, o, args) => {
      const { updateServer, serverChanges } = await import('../../src/fleet/servers/registry.js');
      const { db } = await ctx.mysql();
      const input = inputFrom(o);
      if (!Object.keys(input).length) throw new UsageError('nothing to update', { hint: 'give at least one of --name --ip --region --status ...' });
      if (o.dryRun) {
        const { server, changes } = await serverChanges(db, args[0]!, input);
        (await import('../../src/plan.js')).dryRunReport(ctx, changes.length
          ? changes.map((c) => `would set ${server.name}: ${c.column} ${c.before ?? '-'} -> ${c.after}`) : [`${server.name} already has these values`]);
        return;
      }
      const r = await updateServer(db, ctx.who(), args[0]!, input, o.reason ?? null);
      ctx.info(r.changed.length ? `updated ${r.server.name}: ${r.changed.join(', ')}` : `${r.server.name}: nothing changed`);
      await showOne(ctx, r.server.id);
    },
  });
}
