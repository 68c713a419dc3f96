// sayclaw instances ls
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { addFilterOptions, filterFromOpts, type FilterOpts } from './filters.js';
import { INSTANCE_COLUMNS } from './columns.js';

export function registerLs(g: Command): void {
  verb<FilterOpts>(g, {
    name: 'ls',
    summary: 'list instances (alive by default) with filters; natural sort by id',
    examples: [
      'sayclaw instances ls --prefix oc-ai-jp-2-',
      'sayclaw instances ls --region jp-2 --health unhealthy -o wide',
      'sayclaw instances ls --user zhang.wei@sayclaw.test',
      'sayclaw instances ls --unassigned --sort -tokens --limit 10',
      'sayclaw instances ls --deleted -o json',
      'sayclaw instances ls --prefix oc-ai-jp-2- -o name | xargs -n1 sayclaw instances show',
    ],
    options: (c) => addFilterOptions(c),
    run: async (ctx, o) => {
      const filter = filterFromOpts(o);
      // the connection is set up while the modules load (the everyday command: keep it quick)
      const [{ withInstanceBatches }, { renderList }, { db }] = await Promise.all([
        import('../../src/fleet/instances/ls.js'), import('../../src/output/render.js'), ctx.mysql()]);
      // streamed: every format writes batch by batch (the table keeps compact rows for its widths)
      const n = await withInstanceBatches(db, filter, (batches) => renderList(ctx.out, batches, { format: ctx.outputFormat, columns: INSTANCE_COLUMNS }));
      const note = n ? undefined : await (await import('../../src/fleet/suggest.js')).exactMissNote(db, [
        { flag: '--region', value: filter.region, table: 'admin.servers', column: 'region' },
        { flag: '--model', value: filter.model, table: 'admin.oc_instances', column: 'model' }]);
      ctx.countLine(n, 'instance', { note });
    },
  });
}
