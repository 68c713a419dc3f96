// sayclaw servers rm | restore: soft delete of servers and its undo, with preview, dry run,
// confirmation and audit; refused while alive instances live on a server unless --force.
import type { Command } from 'commander';
import { verb, bulkFlags } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import { plural } from '../../src/output/format.js';

interface RmOpts { reason?: string; dryRun?: boolean; yes?: boolean; force?: boolean; max?: number }

async function rmOrRestore(ctx: Context, o: RmOpts, refs: string[], del: boolean): Promise<void> {
  if (!refs.length) throw new UsageError(`name the servers to ${del ? 'remove' : 'restore'}`, { hint: `e.g. sayclaw servers ${del ? 'rm' : 'restore'} jp-2-srv-03` });
  const { findServer, listServers, setServersDeleted } = await import('../../src/fleet/servers/registry.js');
  const { carryOut } = await import('../../src/plan.js');
  const { db } = await ctx.mysql();
  const all = await listServers(db, { state: 'all' });
  const byId = new Map(all.map((s) => [s.id, s]));
  const targets: typeof all = [];
  const skipped: Array<{ id: string; result: string; reason: string }> = [];
  for (const r of refs) {
    const s = byId.get((await findServer(db, r)).id)!;
    if (del ? s.deleted_at !== null : s.deleted_at === null) {
      skipped.push({ id: s.name ?? s.id, result: del ? 'already-deleted' : 'not-deleted', reason: del ? 'already soft-deleted' : 'not deleted' });
      continue;
    }
    if (!targets.includes(s)) targets.push(s);
  }
  const busy = targets.filter((s) => s.alive_instances > 0);
  if (del && busy.length && !o.force) {
    throw new UsageError(`${busy.map((s) => `${s.name} has ${plural(s.alive_instances, 'alive instance')}`).join('; ')}; nothing changed`, {
      hint: `move or remove them first (sayclaw instances ls --server ${busy[0]!.name}), or add --force` });
  }
  await carryOut(ctx, {
    verb: del ? 'soft-delete' : 'restore', done: del ? 'soft-deleted' : 'restored', noun: { one: 'server', many: 'servers' },
    targets, key: (t) => t.name ?? t.id, skipped,
    alive: all.filter((s) => s.deleted_at === null).length + (del ? 0 : targets.length),
    preview: [{ key: 'name' }, { key: 'ip' }, { key: 'region' }, { key: 'status' }, { key: 'alive_instances', header: 'INSTANCES' }, { key: 'id' }],
  }, o, (ts) => setServersDeleted(db, ctx.who(), ts.map((t) => t.id), del, o.reason ?? null, { force: o.force, signal: ctx.signal }), {
    nameKey: 'name', columns: [{ key: 'name' }, { key: 'id' }, { key: 'result' }],
    changed: (x) => x.result === (del ? 'deleted' : 'restored'),
    undo: del ? (c) => `sayclaw servers restore ${c.map((x) => x.name ?? x.id).join(' ')}` : undefined,
  });
}

export function registerServersRm(g: Command): void {
  const rmOpts = (c: Command) => bulkFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'servers');
  verb<RmOpts>(g, {
    name: 'rm',
    args: '<servers...>',
    summary: 'soft-delete servers (refused while alive instances live on them unless --force)',
    examples: ['sayclaw servers rm jp-2-srv-04 --reason "decommissioned" --dry-run', 'sayclaw servers rm jp-2-srv-04 --yes --force'],
    options: (c) => rmOpts(c).option('--force', 'soft-delete even with alive instances on it'),
    run: (ctx, o, args) => rmOrRestore(ctx, o, args, true),
  });
  verb<RmOpts>(g, {
    name: 'restore',
    args: '<servers...>',
    summary: 'undo a server soft delete',
    examples: ['sayclaw servers restore jp-2-srv-04 --yes'],
    options: rmOpts,
    run: (ctx, o, args) => rmOrRestore(ctx, o, args, false),
  });
}
