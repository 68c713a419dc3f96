// sayclaw instances upgrade | rollback: health-gated rolling image upgrades in batches, and the
// swap back to the previous container (src/fleet/instances/upgrade.ts).
import type { Command } from 'commander';
import { verb, intArg, bulkFlags } from '../kit.js';
import { addFilterOptions, filterFromOpts, hasFilter, type FilterOpts } from './filters.js';
import { ExitSignal, InterruptedError, UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import type { Via } from '../../src/fleet/instances/health.js';

interface GateFlags { healthTimeout?: string; via?: string; stopTimeout?: number; reason?: string; dryRun?: boolean; yes?: boolean; max?: number }
interface UpgradeOpts extends FilterOpts, GateFlags { image?: string; batch: number; perServer: number; pull?: boolean; prune?: boolean }
interface RollbackOpts extends GateFlags { prefix?: string; prune?: boolean }

/** --health-timeout: 120s, 2m, or plain seconds. */
export function healthTimeoutMs(v: string | undefined): number {
  if (v === undefined) return 120_000;
  const m = /^(\d+)(ms|s|m)?$/.exec(v.trim());
  const n = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!m || n < 1000 || n > 3_600_000) throw new UsageError(`--health-timeout expects a duration from 1s to 60m (e.g. 120s, 2m), got "${v}"`);
  return n;
}

function viaOf(v: string | undefined): Via {
  if (v === undefined || v === 'ssh') return 'ssh';
  if (v === 'http') return 'http';
  throw new UsageError(`--via expects ssh or http, got "${v}"`, { hint: 'ssh: the server probes its own gateway port (default); http: this machine opens gateway_url' });
}

/** The instances named by ids, or by --prefix/filters, with their servers. */
async function selectTargets(ctx: Context, ids: string[], o: FilterOpts) {
  const { resolveInstanceTargets } = await import('../../src/fleet/instances/targets.js');
  const { listInstances } = await import('../../src/fleet/instances/ls.js');
  const { db } = await ctx.mysql();
  if (ids.length) return { db, targets: await resolveInstanceTargets(db, { ids: [...new Set(ids)] }) };
  const rows = await listInstances(db, { ...filterFromOpts(o), state: 'alive' });
  return { db, targets: rows.length ? await resolveInstanceTargets(db, { ids: rows.map((r) => r.id) }) : [] };
}

/** A remote session whose connections survive Ctrl-C until the batch in flight is settled. */
async function lastingRemote(ctx: Context) {
  const { openRemote } = await import('../../src/fleet/servers/remote.js');
  const hard = new AbortController();
  ctx.onClose(() => hard.abort());
  return openRemote(ctx, { signal: hard.signal });
}

async function gateSetup(ctx: Context, db: import('kysely').Kysely<import('../../src/db/types.js').MysqlDB>, ids: string[], o: GateFlags) {
  const { gatewayTokens, readGatewayCa } = await import('../../src/fleet/instances/health.js');
  return { healthTimeoutMs: healthTimeoutMs(o.healthTimeout), via: viaOf(o.via), tokens: await gatewayTokens(db, ids),
    ca: readGatewayCa(ctx.config().gateway.caFile, ctx.io.env), interrupt: ctx.signal };
}

async function runUpgrade(ctx: Context, ids: string[], o: UpgradeOpts): Promise<void> {
  if (!o.image) throw new UsageError('name the new image with --image IMAGE', { hint: 'e.g. sayclaw instances upgrade --prefix oc-ai-jp-2- --image ghcr.io/openclaw/openclaw:2026.9.6 --dry-run' });
  if (/[\s\x00-\x1f]/.test(o.image)) throw new UsageError(`--image must not contain spaces or control characters, got ${JSON.stringify(o.image)}`);
  if (ids.length && hasFilter(o)) throw new UsageError('give instance ids or --prefix/filters, not both');
  if (!ids.length && !hasFilter(o)) throw new UsageError('name the instances to upgrade: ids, or --prefix P [filters]', { hint: 'e.g. sayclaw instances upgrade --prefix oc-ai-jp-2- --image IMAGE --dry-run' });
  const timeoutMs = healthTimeoutMs(o.healthTimeout);
  viaOf(o.via);
  const { db, targets } = await selectTargets(ctx, ids, o);
  if (!targets.length) { ctx.info('no instances match'); return; }
  const remote = await lastingRemote(ctx);
  const { planUpgrade, applyUpgrade, prevName } = await import('../../src/fleet/instances/upgrade.js');
  const plan = await planUpgrade(remote, targets, { image: o.image, pull: !!o.pull, batch: o.batch, perServer: o.perServer });
  ctx.throwIfAborted();
  const [{ carryOut }, { countAliveInstances }, { Progress }] = await Promise.all([import('../../src/plan.js'), import('../../src/fleet/instances/ls.js'), import('../../src/remote/progress.js')]);
  const nBatches = Math.max(0, ...plan.targets.map((t) => t.batch));
  const rows = await carryOut(ctx, {
    verb: 'upgrade', done: 'upgraded', noun: { one: 'instance', many: 'instances' },
    targets: plan.targets, key: (t) => t.id, skipped: plan.skipped, alive: await countAliveInstances(db),
    preview: [{ key: 'batch' }, { key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'from_image', header: 'FROM' }, { key: 'to_image', header: 'TO' },
      { key: 'pull', get: (t) => (t.pull ? 'pull' : 'present'), header: 'IMAGE' }, { key: 'replaces_prev', header: 'REPLACES_PREV', get: (t) => (t.replaces_prev ? prevName(t.id) : '-') }],
  }, o, async (ts) => {
    ctx.info(`${nBatches} batch${nBatches === 1 ? '' : 'es'} of up to ${o.batch}, at most ${o.perServer} per server; health timeout ${Math.round(timeoutMs / 1000)} s`);
    const progress = new Progress(ctx.io.stderr, ctx.io.stderrIsTTY && !ctx.opts.quiet, ts.length, 'upgrading', 1);
    let settled = 0;
    const res = await applyUpgrade(db, remote, ts, {
      ...await gateSetup(ctx, db, ts.map((t) => t.id), o), stopTimeoutSec: o.stopTimeout ?? 10, prune: !!o.prune, actor: ctx.who(), reason: o.reason ?? null,
      onSettled: (r) => progress.tick(++settled, r.result === 'upgraded' || r.result === 'skipped'),
      onBatch: (n, of, bIds) => { if (!(ctx.io.stderrIsTTY && !ctx.opts.quiet)) ctx.info(`batch ${n}/${of}: ${bIds.join(' ')}`); },
    });
    progress.end();
    return res;
  }, {
    columns: [{ key: 'batch' }, { key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'from_image', header: 'FROM', wide: true }, { key: 'to_image', header: 'TO' },
      { key: 'result' }, { key: 'container' }, { key: 'ready_ms', header: 'READY_MS' }, { key: 'error' }],
    changed: (r) => r.result === 'upgraded', failed: (r) => r.result !== 'upgraded' && r.result !== 'skipped',
    undo: o.prune ? undefined : (c) => `sayclaw instances rollback ${c.map((x) => x.id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(' ')}`,
  });
  if (ctx.signal.aborted) throw new InterruptedError('interrupted: the batch in flight was settled (finished or rolled back); later batches were not started');
  const left = plan.skipped.filter((s) => s.left).length;
  if (rows?.some((r) => r.result !== 'upgraded' && r.result !== 'skipped') || left) {
    if (left) ctx.info(`${left} instance${left === 1 ? '' : 's'} left as they are (see the skipped lines above)`);
    throw new ExitSignal(3);
  }
}

async function runRollback(ctx: Context, ids: string[], o: RollbackOpts): Promise<void> {
  if (ids.length && o.prefix !== undefined) throw new UsageError('give instance ids or --prefix, not both');
  if (!ids.length && o.prefix === undefined) throw new UsageError(`name the instances to ${o.prune ? 'prune' : 'roll back'}: ids, or --prefix P`, { hint: 'e.g. sayclaw instances rollback oc-ai-jp-2-01' });
  const timeoutMs = healthTimeoutMs(o.healthTimeout);
  viaOf(o.via);
  const { db, targets } = await selectTargets(ctx, ids, { prefix: o.prefix });
  if (!targets.length) { ctx.info('no instances match'); return; }
  const remote = await lastingRemote(ctx);
  const { planRollback, applyRollback, applyPrune } = await import('../../src/fleet/instances/upgrade.js');
  const plan = await planRollback(remote, targets);
  ctx.throwIfAborted();
  const [{ carryOut }, { countAliveInstances }] = await Promise.all([import('../../src/plan.js'), import('../../src/fleet/instances/ls.js')]);
  const prune = !!o.prune;
  const rows = await carryOut(ctx, {
    verb: prune ? 'remove the previous container of' : 'roll back', done: prune ? 'pruned' : 'rolled back', noun: { one: 'instance', many: 'instances' },
    targets: plan.targets, key: (t) => t.id, skipped: plan.skipped, alive: await countAliveInstances(db),
    preview: [{ key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'image', header: prune ? 'IMAGE' : 'FROM' },
      { key: 'previous_image', header: prune ? 'PREVIOUS_IMAGE' : 'TO' }, { key: 'previous', header: 'PREVIOUS' }],
  }, o, async (ts) => {
    if (prune) return applyPrune(db, remote, ts, { actor: ctx.who(), reason: o.reason ?? null });
    ctx.info(`health timeout ${Math.round(timeoutMs / 1000)} s`);
    return applyRollback(db, remote, ts, { ...await gateSetup(ctx, db, ts.map((t) => t.id), o), stopTimeoutSec: o.stopTimeout ?? 10, actor: ctx.who(), reason: o.reason ?? null });
  }, {
    columns: [{ key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'action', wide: true }, { key: 'result' }, { key: 'image' }, { key: 'container' },
      { key: 'ready_ms', header: 'READY_MS' }, { key: 'error' }],
    changed: (r) => r.result === 'rolled-back' || r.result === 'pruned', failed: (r) => r.result !== 'rolled-back' && r.result !== 'pruned',
    undo: prune ? undefined : (c) => `sayclaw instances rollback ${c.map((x) => x.id).join(' ')}`,
  });
  if (ctx.signal.aborted) throw new InterruptedError('interrupted: the rollback in flight was settled; the others were not started');
  if (rows?.some((r) => r.result !== 'rolled-back' && r.result !== 'pruned') || plan.skipped.length) throw new ExitSignal(3);
}

function gateOptions(c: Command): Command {
  return c.option('--health-timeout <D>', 'how long each gateway may take to say ready on /readyz (120s, 2m; default 120s)')
    .option('--via <HOW>', 'readiness probe: ssh (the server probes its own port, default) or http (gateway_url from here)')
    .option('--stop-timeout <SECONDS>', 'seconds docker waits for a container to stop before killing it (default 10)', intArg(0, 3600))
    .option('--reason <TEXT>', 'why (recorded in the audit log)');
}

export function registerUpgrade(g: Command): void {
  verb<UpgradeOpts>(g, {
    name: 'upgrade',
    args: '[ids...]',
    summary: 'rolling, health-gated image upgrade in batches; a failed batch is rolled back and the rollout stops (exit 3)',
    examples: [
      'sayclaw instances upgrade --prefix oc-ai-jp-2- --image ghcr.io/openclaw/openclaw:2026.9.6 --dry-run',
      'sayclaw instances upgrade --prefix oc-ai-jp-2- --image ghcr.io/openclaw/openclaw:2026.9.6 --batch 4 --yes -o json',
      'sayclaw instances upgrade oc-ai-jp-2-01 --image ghcr.io/openclaw/openclaw:2026.9.6 --pull --health-timeout 3m',
    ],
    options: (c) => {
      c.option('--image <IMAGE>', 'the image to run (required)')
        .option('--batch <N>', 'instances swapped together; the next batch starts when all are ready', intArg(1, 1000), 1)
        .option('--per-server <N>', 'at most N containers of one server in a batch', intArg(1, 1000), 1)
        .option('--pull', 'pull the image on servers that do not have it (before the first batch)')
        .option('--prune', 'remove each previous container (ID.prev) once its batch is ready: no rollback afterwards');
      addFilterOptions(c, { state: false, sort: false });
      return bulkFlags(gateOptions(c), 'instances');
    },
    run: (ctx, o, ids) => runUpgrade(ctx, ids, o),
  });
  verb<RollbackOpts>(g, {
    name: 'rollback',
    args: '[ids...]',
    summary: 'swap instances back to their previous container (ID.prev, kept by upgrade), health-gated; --prune removes the previous containers instead',
    examples: ['sayclaw instances rollback oc-ai-jp-2-01', 'sayclaw instances rollback --prefix oc-ai-jp-2- --yes', 'sayclaw instances rollback --prune oc-ai-jp-2-01 oc-ai-jp-2-02 --yes'],
    options: (c) => bulkFlags(gateOptions(c.option('--prefix <P>', 'instances whose id starts with P')
      .option('--prune', 'remove the stopped previous containers (no rollback possible afterwards)')), 'instances'),
    run: (ctx, o, ids) => runRollback(ctx, ids, o),
  });
}
