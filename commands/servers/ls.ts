// sayclaw servers ls: alive (or soft-deleted) servers with instance counts, size, status and region.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import { SERVER_COLUMNS } from './shared.js';

interface LsOpts { region?: string; provider?: string; status?: string; deleted?: boolean; all?: boolean }

export function registerServersLs(g: Command): void {
  verb<LsOpts>(g, {
    name: 'ls',
    summary: 'list servers with alive instance counts, size, status and region',
    examples: ['sayclaw servers ls', 'sayclaw servers ls --region jp-2 -o wide', 'sayclaw servers ls --deleted', 'sayclaw servers ls -o name | xargs -n1 sayclaw servers show'],
    options: (c) => c.option('--region <R>', 'only this region').option('--provider <P>', 'only this provider')
      .option('--status <S>', 'only this status').option('--deleted', 'only soft-deleted servers').option('--all', 'alive and soft-deleted servers'),
    run: async (ctx, o) => {
      if (o.deleted && o.all) throw new UsageError('--deleted and --all exclude each other');
      const { listServers } = await import('../../src/fleet/servers/registry.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const rows = await listServers(db, { region: o.region, provider: o.provider, status: o.status, state: o.deleted ? 'deleted' : o.all ? 'all' : 'alive' });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: SERVER_COLUMNS, nameKey: 'name' });
      const note = rows.length ? undefined : await (await import('../../src/fleet/suggest.js')).exactMissNote(db, [
        { flag: '--region', value: o.region, table: 'admin.servers', column: 'region' },
        { flag: '--provider', value: o.provider, table: 'admin.servers', column: 'provider' }]);
      ctx.countLine(rows.length, 'server', { note });
    },
  });
}
