// sayclaw instances decommission | recommission: stop the container and retire the instance in
// the database (token disabled, mapping inactive, unassigned, soft-deleted), and its undo; the
// confirmation rules of rm. Logic in src/fleet/instances/decommission.ts.
import type { Command } from 'commander';
import { verb, bulkFlags, intArg } from '../kit.js';
import { addFilterOptions, filterFromOpts, hasFilter, type FilterOpts } from './filters.js';
import { PREVIEW_COLUMNS } from './columns.js';
import { ExitCode, ExitSignal, InterruptedError, UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import { waitMs } from './create.js';

interface LifeOpts extends FilterOpts { reason?: string; dryRun?: boolean; yes?: boolean; max?: number; wait?: string; parallel?: number; time?: number }

async function runLife(ctx: Context, o: LifeOpts, ids: string[], decom: boolean): Promise<void> {
  if (ids.length && hasFilter(o)) throw new UsageError('give instance ids or --prefix/filters, not both');
  if (!decom && !ids.length) throw new UsageError('name the instances to recommission by id', { hint: 'e.g. sayclaw instances recommission oc-ai-jp-2-07 (list them: sayclaw instances ls --deleted)' });
  if (!ids.length && !hasFilter(o)) throw new UsageError('name the instances to decommission: ids, or --prefix P [filters]', { hint: 'e.g. sayclaw instances decommission oc-ai-jp-2-07' });
  const wait = waitMs(o.wait);
  const { selectForWrite } = await import('../../src/fleet/instances/rm.js');
  const { resolveInstanceTargets } = await import('../../src/fleet/instances/targets.js');
  const { countAliveInstances } = await import('../../src/fleet/instances/ls.js');
  const { carryOut } = await import('../../src/plan.js');
  const { db } = await ctx.mysql();
  const { targets, skipped } = await selectForWrite(db, ids.length ? { ids } : { filter: filterFromOpts(o) }, decom ? 'alive' : 'deleted');
  const alive = await countAliveInstances(db);
  const rows = await carryOut(ctx, {
    verb: decom ? 'decommission' : 'recommission', done: decom ? 'decommissioned' : 'recommissioned', noun: { one: 'instance', many: 'instances' },
    targets, key: (t) => t.id, preview: PREVIEW_COLUMNS, alive: decom ? alive : alive + targets.length,
    skipped: skipped.map((s) => ({ ...s, reason: s.result === 'already-deleted' ? 'already soft-deleted' : 'not deleted' })),
  }, o, async (ts) => {
    const l = await import('../../src/fleet/instances/decommission.js');
    const { openLifecycleRemote } = await import('../../src/fleet/instances/lifecycle-remote.js');
    const remote = await openLifecycleRemote(ctx);
    const full = await resolveInstanceTargets(db, { ids: ts.map((t) => t.id), includeDeleted: true });
    const deps = { db, remote, actor: ctx.who(), signal: ctx.signal, reason: o.reason ?? null, concurrency: o.parallel ?? 4, waitMs: wait, stopTimeoutSec: o.time };
    return decom ? l.decommission(deps, full) : l.recommission(deps, full);
  }, {
    extra: skipped.map((s) => ({ id: s.id, server_name: null, result: s.result, container: null, token: null, note: null, error: null })),
    columns: [{ key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'result' }, { key: 'container' }, { key: 'token' }, { key: 'note' }, { key: 'error' }],
    changed: (x) => x.result === (decom ? 'decommissioned' : 'recommissioned'),
    failed: (x) => x.result === 'failed' || x.result === 'not-started',
    undo: (c) => `sayclaw instances ${decom ? 'recommission' : 'decommission'} ${c.map((x) => x.id).join(' ')}`,
  });
  if (!rows) return;
  if (!decom && rows.some((r) => r.result === 'recommissioned')) ctx.info('the assignment is not restored: assign again with sayclaw instances assign ID EMAIL');
  if (ctx.signal.aborted) throw new InterruptedError();
  const failed = rows.filter((r) => r.result === 'failed' || r.result === 'not-started');
  if (failed.length) {
    if (rows.length === 1) throw new ExitSignal(ExitCode.RUNTIME, `${failed[0]!.id}: ${failed[0]!.error ?? failed[0]!.result}`);
    throw new ExitSignal(ExitCode.PARTIAL, `${failed.length} of ${rows.length} failed`);
  }
}

export function registerDecommission(g: Command): void {
  const opts = (c: Command, filters: boolean) => {
    if (filters) addFilterOptions(c, { state: false, sort: false });
    return bulkFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)')
      .option('--parallel <N>', 'instances handled at once (default 4)', intArg(1, 32)));
  };
  verb<LifeOpts>(g, {
    name: 'decommission', args: '[ids...]',
    summary: 'stop the container (kept), disable the One API token, unassign and soft-delete; with preview, confirmation and audit',
    examples: ['sayclaw instances decommission oc-ai-jp-2-07 --reason "left the company"', 'sayclaw instances decommission --prefix oc-ai-sg-1- --dry-run'],
    options: (c) => opts(c, true).option('--time <S>', 'seconds the gateway gets to shut down cleanly before it is killed (default 60)', intArg(0, 3600)),
    run: (ctx, o, args) => runLife(ctx, o, args, true),
  });
  verb<LifeOpts>(g, {
    name: 'recommission', args: '<ids...>',
    summary: 'undo a decommission: start the container, wait until ready, restore the row and re-enable the token (not the assignment)',
    examples: ['sayclaw instances recommission oc-ai-jp-2-07 --yes'],
    options: (c) => opts(c, false).option('--wait <D>', 'how long the gateway may take to be ready (default 120s)'),
    run: (ctx, o, args) => runLife(ctx, o, args, false),
  });
}
