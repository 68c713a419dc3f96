// sayclaw servers inventory: Ansible dynamic inventory (--list, --host NAME).
import type { Command } from 'commander';
import { verb } from '../kit.js';

interface InvOpts { list?: boolean; host?: string }

export function registerServersInventory(g: Command): void {
  verb<InvOpts>(g, {
    name: 'inventory',
    summary: 'Ansible dynamic inventory of alive servers (--list, --host NAME), grouped by region and provider',
    examples: ['sayclaw servers inventory --list', 'ansible-inventory -i inventory.sh --graph   # inventory.sh: exec sayclaw servers inventory "$@"',
      'sayclaw servers inventory --host jp-2-srv-01'],
    options: (c) => c.option('--list', 'the whole inventory (default)').option('--host <NAME>', 'hostvars of one host'),
    run: async (ctx, o) => {
      const { buildInventory } = await import('../../src/fleet/servers/inventory.js');
      const { listServers } = await import('../../src/fleet/servers/registry.js');
      const { db } = await ctx.mysql();
      const rows = (await listServers(db, { state: 'alive' })).filter((s) => s.status !== 'retired');
      const inv = buildInventory(rows, ctx.config(), ctx.io.env.HOME);
      if (o.host !== undefined) {
        const hv = Object.hasOwn(inv._meta.hostvars, o.host) ? inv._meta.hostvars[o.host] : undefined;
        if (!hv) {
          const { NotFoundError } = await import('../../src/errors.js');
          throw new NotFoundError(`no such host in the inventory: ${o.host}`);
        }
        ctx.print(`${JSON.stringify(hv, null, 2)}\n`);
        return;
      }
      ctx.print(`${JSON.stringify(inv, null, 2)}\n`);
    },
  });
}
