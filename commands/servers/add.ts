// sayclaw servers add: register a server (validated, audited).
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { fieldOptions, inputFrom, showOne, type FieldOpts } from './shared.js';

export function registerServersAdd(g: Command): void {
  verb<FieldOpts>(g, {
    name: 'add',
    summary: 'register a server (validates IP and ports; audited)',
    examples: ['sayclaw servers add --name jp-2-srv-04 --ip 10.0.2.4 --region jp-2 --provider gcp --cpu-cores 8 --memory-gb 32 --disk-gb 200'],
    options: (c) => writeFlags(fieldOptions(c), 'never', 'check everything, add nothing'),
    run: async (ctx, o) => {
      const { addServer, checkNewServer } = await import('../../src/fleet/servers/registry.js');
      const { db } = await ctx.mysql();
      if (o.dryRun) {
        const v = inputFrom(o);
        await checkNewServer(db, v);
        (await import('../../src/plan.js')).dryRunReport(ctx, [`would add server ${v.name} (${Object.entries(v).filter(([k]) => k !== 'name').map(([k, x]) => `${k}=${x}`).join(', ')})`]);
        return;
      }
      const row = await addServer(db, ctx.who(), inputFrom(o), o.reason ?? null);
      ctx.info(`added server ${row.name} (${row.id})`);
      await showOne(ctx, row.id);
    },
  });
}
