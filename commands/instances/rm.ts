// sayclaw instances rm | restore: soft delete and its undo, with preview, dry run, confirmation,
// bulk guard and one transaction with the audit rows.
import type { Command } from 'commander';
import { verb, bulkFlags } from '../kit.js';
import { addFilterOptions, filterFromOpts, hasFilter, type FilterOpts } from './filters.js';
import { PREVIEW_COLUMNS } from './columns.js';
import { UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';

interface WriteOpts extends FilterOpts { reason?: string; dryRun?: boolean; yes?: boolean; max?: number }

async function runSoftDeleteOrRestore(ctx: Context, o: WriteOpts, ids: string[], del: boolean): Promise<void> {
  if (ids.length && hasFilter(o)) throw new UsageError('give instance ids or --prefix/filters, not both');
  if (!ids.length && !hasFilter(o)) throw new UsageError(`name the instances to ${del ? 'remove' : 'restore'}: ids, or --prefix P [filters]`, { hint: `e.g. sayclaw instances ${del ? 'rm' : 'restore'} oc-ai-jp-2-07` });
  const { selectForWrite, setDeleted } = await import('../../src/fleet/instances/rm.js');
  const { carryOut } = await import('../../src/plan.js');
  const { countAliveInstances } = await import('../../src/fleet/instances/ls.js');
  const { db } = await ctx.mysql();
  const { targets, skipped } = await selectForWrite(db, ids.length ? { ids } : { filter: filterFromOpts(o) }, del ? 'alive' : 'deleted');
  const alive = await countAliveInstances(db);
  await carryOut(ctx, {
    verb: del ? 'soft-delete' : 'restore', done: del ? 'soft-deleted' : 'restored', noun: { one: 'instance', many: 'instances' },
    targets, key: (t) => t.id, preview: PREVIEW_COLUMNS,
    // restored rows join the alive fleet: the guard compares with the fleet they would make
    alive: del ? alive : alive + targets.length,
    skipped: skipped.map((s) => ({ ...s, reason: s.result === 'already-deleted' ? 'already soft-deleted' : 'not deleted' })),
  }, o, (ts) => setDeleted(db, ctx.who(), ts.map((t) => t.id), del, o.reason ?? null, ctx.signal), {
    extra: skipped, columns: [{ key: 'id' }, { key: 'result' }],
    changed: (x) => x.result === (del ? 'deleted' : 'restored'),
    undo: del ? (c) => `sayclaw instances restore ${c.map((x) => x.id).join(' ')}` : undefined,
  });
}

function writeOptions(c: Command): Command {
  addFilterOptions(c, { state: false, sort: false });
  return bulkFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'));
}

export function registerRm(g: Command): void {
  verb<WriteOpts>(g, {
    name: 'rm',
    args: '[ids...]',
    summary: 'soft-delete instances in the database only (deleted_at = now; the container keeps running: see decommission), with preview, confirmation and audit',
    examples: [
      'sayclaw instances rm oc-ai-jp-2-07 --reason "left the company"',
      'sayclaw instances rm --prefix oc-ai-jp-2- --unassigned --dry-run',
      'sayclaw instances rm --prefix oc-ai-sg-1- --yes --max 50 --reason "region closed"',
    ],
    options: writeOptions,
    run: (ctx, o, args) => runSoftDeleteOrRestore(ctx, o, args, true),
  });
  verb<WriteOpts>(g, {
    name: 'restore',
    args: '[ids...]',
    summary: 'undo a soft delete (deleted_at = NULL), same confirmation and audit rules',
    examples: ['sayclaw instances restore oc-ai-jp-2-07', 'sayclaw instances restore --prefix oc-ai-sg-1- --yes --reason "reopened"'],
    options: writeOptions,
    run: (ctx, o, args) => runSoftDeleteOrRestore(ctx, o, args, false),
  });
}
