// sayclaw servers reconcile: repair the drift `servers check` finds (src/fleet/servers/reconcile.ts).
import type { Command } from 'commander';
import { verb, bulkFlags, intArg } from '../kit.js';
import { ExitSignal, InterruptedError } from '../../src/errors.js';
import { selectServers, type SelOpts } from './shared.js';

interface ReconcileOpts extends SelOpts { namePattern?: string; reason?: string; dryRun?: boolean; yes?: boolean; max?: number; stopTimeout?: number }

export function registerServersReconcile(g: Command): void {
  verb<ReconcileOpts>(g, {
    name: 'reconcile',
    args: '[servers...]',
    summary: 'repair container drift: start stopped containers of alive instances, stop running ones of soft-deleted instances; report the rest (exit 3 when something is left)',
    examples: ['sayclaw servers reconcile --all --dry-run', 'sayclaw servers reconcile jp-2-srv-01 --yes --reason "after the outage"', 'sayclaw servers reconcile --region jp-2 -o json --yes'],
    options: (c) => bulkFlags(c.option('--all', 'every alive server (retired ones excluded)').option('--region <R>', 'alive servers of one region')
      .option('--name-pattern <REGEX>', 'container names that count as instances (default ^oc-)')
      .option('--stop-timeout <SECONDS>', 'seconds docker waits for a container to stop before killing it (default 10)', intArg(0, 3600))
      .option('--reason <TEXT>', 'why (recorded in the audit log)'), 'containers'),
    run: async (ctx, o, names) => {
      const { servers, db } = await selectServers(ctx, names, o);
      const { openRemote } = await import('../../src/fleet/servers/remote.js');
      const { planReconcile, applyReconcile } = await import('../../src/fleet/servers/reconcile.js');
      const [{ carryOut }, { countAliveInstances }, { renderList }] = await Promise.all([import('../../src/plan.js'), import('../../src/fleet/instances/ls.js'), import('../../src/output/render.js')]);
      // connections that outlive Ctrl-C: an action in flight finishes and is reported, never cut in half
      const hard = new AbortController();
      ctx.onClose(() => hard.abort());
      const remote = await openRemote(ctx, { signal: hard.signal });
      const plan = await planReconcile(db, remote, servers, { namePattern: o.namePattern });
      if (ctx.signal.aborted) throw new InterruptedError('interrupted; nothing changed');
      const leftRows = plan.left.map((l) => ({ server_name: l.server_name, instance_id: l.instance_id, container: l.container, action: l.action, result: 'left' as const, state: l.state, error: l.detail }));
      const columns = [{ key: 'server_name', header: 'SERVER' }, { key: 'instance_id', header: 'INSTANCE' }, { key: 'container' }, { key: 'action' },
        { key: 'result' }, { key: 'state' }, { key: 'error', header: 'DETAIL' }];
      const rows = await carryOut(ctx, {
        verb: 'reconcile', done: 'reconciled', noun: { one: 'container', many: 'containers' },
        targets: plan.actions, key: (a) => a.instance_id ?? a.container ?? a.server_name, alive: await countAliveInstances(db),
        skipped: plan.left.map((l) => ({ id: `${l.server_name}/${l.container ?? l.instance_id ?? '-'}`, result: 'left', reason: `${l.action === 'recreate' ? 'missing container' : l.drift === 'server_failed' ? 'server' : 'unknown container'}: ${l.detail}` })),
        preview: [{ key: 'server_name', header: 'SERVER' }, { key: 'instance_id', header: 'INSTANCE' }, { key: 'container' }, { key: 'state' }, { key: 'action' }, { key: 'detail', header: 'WHY' }],
      }, o, (acts) => applyReconcile(db, remote, acts, { actor: ctx.who(), reason: o.reason ?? null, stopTimeoutSec: o.stopTimeout, interrupt: ctx.signal }), {
        columns, extra: leftRows,
        changed: (r) => r.result === 'started' || r.result === 'stopped', failed: (r) => r.result === 'failed',
      });
      if (ctx.signal.aborted) throw new InterruptedError('interrupted: the actions in flight finished (see the results); the others were not started');
      // nothing to do but something left: the left items are the whole result
      if (!plan.actions.length && leftRows.length && !o.dryRun) await renderList(ctx.out, leftRows, { format: ctx.outputFormat, columns });
      if (!plan.actions.length && !leftRows.length) ctx.info(`${servers.length} server${servers.length === 1 ? '' : 's'}: no drift`);
      if (leftRows.length || rows?.some((r) => r.result !== 'started' && r.result !== 'stopped')) {
        if (leftRows.length) ctx.info(`${leftRows.length} left for a person (reported above, not touched)`);
        throw new ExitSignal(3);
      }
    },
  });
}
