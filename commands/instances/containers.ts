// Container half of `sayclaw instances` (logs, restart, stop, start, exec, health): registered
// here, implemented through src/remote/ (issue 4).
import type { Command } from 'commander';
import { verb, intArg, splitAtDoubleDash, bulkFlags } from '../kit.js';
import { ExitSignal, InterruptedError, UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import type { ContainerAction } from '../../src/fleet/instances/containers.js';
import { plural } from '../../src/output/format.js';

interface ActionOpts { prefix?: string; all?: boolean; yes?: boolean; dryRun?: boolean; max?: number; reason?: string; time?: number }
interface LogsOpts { tail?: number; since?: string; follow?: boolean; timestamps?: boolean }
interface ExecOpts { commandArgv?: string[] }
interface HealthOpts { prefix?: string; all?: boolean; via: string; record?: boolean; timeout: number }


async function targetsOf(ctx: Context, ids: string[], o: { prefix?: string; all?: boolean }) {
  const { resolveInstanceTargets } = await import('../../src/fleet/instances/targets.js');
  const { db } = await ctx.mysql();
  return { db, targets: await resolveInstanceTargets(db, { ids: ids.length ? [...new Set(ids)] : undefined, prefix: o.prefix, all: o.all }) };
}

async function progressFor(ctx: Context, total: number, label: string) {
  const { Progress } = await import('../../src/remote/progress.js');
  return new Progress(ctx.io.stderr, ctx.io.stderrIsTTY && !ctx.opts.quiet, total, label);
}

async function runAction(ctx: Context, action: ContainerAction, ids: string[], o: ActionOpts): Promise<void> {
  const { db, targets } = await targetsOf(ctx, ids, o);
  if (!targets.length) { ctx.info('no instances match'); return; }
  const [{ carryOut }, { countAliveInstances }] = await Promise.all([import('../../src/plan.js'), import('../../src/fleet/instances/ls.js')]);
  const rows = await carryOut(ctx, {
    verb: action, done: `${action === 'stop' ? 'stopped' : `${action}ed`}`, noun: { one: 'instance', many: 'instances' },
    targets, key: (t) => t.id, skipped: [], alive: await countAliveInstances(db), confirm: 'many',
    preview: [{ key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'container_id', header: 'CONTAINER' }, { key: 'health_status', header: 'HEALTH' }],
  }, o, async (ts) => {
    const { openRemote } = await import('../../src/fleet/servers/remote.js');
    const { containerAction, auditContainerActions } = await import('../../src/fleet/instances/containers.js');
    const remote = await openRemote(ctx);
    const progress = await progressFor(ctx, ts.length, `${action}ing`);
    const done = await containerAction(remote, ts, action, { timeoutSec: o.time, onDone: (x, d) => progress.tick(d, x.ok) });
    progress.end();
    await auditContainerActions(db, ctx.who(), done, o.reason ?? null);
    if (ctx.signal.aborted) throw new InterruptedError('interrupted; connections closed');
    return done;
  }, {
    columns: [{ key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'action' }, { key: 'result' }, { key: 'state' },
      { key: 'container', wide: true }, { key: 'ms', wide: true }, { key: 'error' }],
    changed: (r) => r.result === 'ok', failed: (r) => r.result !== 'ok',
  });
  if (rows?.some((r) => r.result !== 'ok')) throw new ExitSignal(3);
}

export function registerInstanceContainerVerbs(g: Command): void {
  verb<LogsOpts>(g, {
    name: 'logs',
    args: '<id>',
    summary: 'container logs of an instance (through its server\'s SSH connection)',
    examples: ['sayclaw instances logs oc-ai-jp-2-01 --tail 100', 'sayclaw instances logs oc-ai-jp-2-01 --since 10m -f'],
    options: (c) => c.option('--tail <N>', 'last N lines', intArg(0)).option('--since <WHEN>', '10m, 2h, 1d, unix seconds or ISO time')
      .option('-f, --follow', 'keep streaming until Ctrl-C').option('--timestamps', 'prefix lines with timestamps'),
    run: async (ctx, o, args) => {
      const { targets } = await targetsOf(ctx, [args[0]!], {});
      const { openRemote } = await import('../../src/fleet/servers/remote.js');
      const { containerLogs } = await import('../../src/fleet/instances/containers.js');
      const remote = await openRemote(ctx);
      await containerLogs(remote, targets[0]!, o, { stdout: (s) => ctx.print(s), stderr: (s) => ctx.io.stderr.write(s) });
      if (ctx.signal.aborted && !o.follow) throw new InterruptedError();
    },
  });
  const actionOpts = (c: Command) => bulkFlags(c.option('--prefix <P>', 'instances whose id starts with P').option('--all', 'every alive instance'), 'containers')
    .option('--reason <TEXT>', 'why (recorded in the audit log)').option('--time <SECONDS>', 'seconds to wait for a stop before killing', intArg(0, 3600));
  for (const [name, summary] of [['restart', 'restart instance containers'], ['stop', 'stop instance containers'], ['start', 'start instance containers']] as const) {
    verb<ActionOpts>(g, {
      name,
      args: '[ids...]',
      summary: `${summary} (by id or --prefix; confirmation for more than one; audited)`,
      examples: [`sayclaw instances ${name} oc-ai-jp-2-01`, `sayclaw instances ${name} --prefix oc-ai-jp-2- --yes --reason "config rollout"`],
      options: actionOpts,
      run: (ctx, o, ids) => runAction(ctx, name, ids, o),
    });
  }
  verb<ExecOpts>(g, {
    name: 'exec',
    args: '<id>',
    summary: 'run a command in an instance\'s container (-- COMMAND); exits with the command\'s exit code',
    examples: ['sayclaw instances exec oc-ai-jp-2-01 -- cat /home/node/.openclaw/openclaw.json', 'sayclaw instances exec oc-ai-jp-2-01 -- sh -c "ps; df -h"'],
    options: splitAtDoubleDash,
    run: async (ctx, o, args) => {
      const cmd = o.commandArgv ?? [];
      if (!cmd.length) throw new UsageError('give the command after --', { hint: 'e.g. sayclaw instances exec oc-ai-jp-2-01 -- uptime' });
      const { targets } = await targetsOf(ctx, [args[0]!], {});
      const { openRemote } = await import('../../src/fleet/servers/remote.js');
      const { containerExec } = await import('../../src/fleet/instances/containers.js');
      const remote = await openRemote(ctx);
      const code = await containerExec(remote, targets[0]!, cmd, { stdout: (s) => ctx.print(s), stderr: (s) => ctx.io.stderr.write(s) });
      if (ctx.signal.aborted) throw new InterruptedError();
      if (code !== 0) throw new ExitSignal(code);
    },
  });
  verb<HealthOpts>(g, {
    name: 'health',
    args: '[ids...]',
    summary: 'probe gateways\' /healthz and /readyz, judged by the body (direct or --via ssh); --record stores the result; exit 3 unless all are healthy',
    examples: ['sayclaw instances health --all', 'sayclaw instances health --prefix oc-ai-jp-2- --via ssh --record', 'sayclaw instances health oc-ai-jp-2-01 -o json'],
    options: (c) => c.option('--prefix <P>', 'instances whose id starts with P').option('--all', 'every alive instance')
      .option('--via <HOW>', 'http (gateway_url, default) or ssh (from the server, over its SSH connection)', 'http')
      .option('--record', 'update health_status, health_fail_count, last_health_at and append to oc_health_logs')
      .option('--timeout <MS>', 'per-probe timeout in ms', intArg(1, 600000), 5000),
    run: async (ctx, o, ids) => {
      if (o.via !== 'http' && o.via !== 'ssh') throw new UsageError(`--via: unknown value "${o.via}"`, { hint: 'use one of http, ssh' });
      const { db, targets } = await targetsOf(ctx, ids, o);
      const { probeInstances, recordHealth, gatewayTokens, readGatewayCa } = await import('../../src/fleet/instances/health.js');
      const { renderList } = await import('../../src/output/render.js');
      const ca = readGatewayCa(ctx.config().gateway.caFile, ctx.io.env);
      const remote = o.via === 'ssh' ? await (await import('../../src/fleet/servers/remote.js')).openRemote(ctx) : null;
      const tokens = await gatewayTokens(db, targets.map((t) => t.id));
      const progress = await progressFor(ctx, targets.length, 'probing');
      const rows = await probeInstances(remote, targets, { via: o.via, timeoutMs: o.timeout, concurrency: ctx.config().ssh.concurrency, signal: ctx.signal,
        tokens, ca, env: ctx.io.env, onDone: (x, d) => progress.tick(d, x.ok && (x.value as { status: string }).status === 'healthy') });
      progress.end();
      if (ctx.signal.aborted) throw new InterruptedError('interrupted; nothing recorded');
      if (o.record) await recordHealth(db, ctx.who(), rows, ctx.signal);
      const color = (v: unknown, t: string) => (v === 'healthy' ? `\x1b[32m${t}\x1b[39m` : v === 'not_ready' ? `\x1b[33m${t}\x1b[39m` : `\x1b[31m${t}\x1b[39m`);
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: [{ key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'state', color },
        { key: 'status', wide: true }, { key: 'live' }, { key: 'ready' }, { key: 'latency_ms', header: 'LATENCY_MS' }, { key: 'http_status', wide: true },
        { key: 'via', wide: true }, { key: 'url', wide: true }, { key: 'token_sent', wide: true }, { key: 'fail_count', wide: true }, { key: 'reason' }] });
      const bad = rows.filter((r) => r.status !== 'healthy').length;
      const counts = [...rows.reduce((m, r) => m.set(r.state, (m.get(r.state) ?? 0) + 1), new Map<string, number>())].map(([k, n]) => `${n} ${k}`);
      ctx.info(`${plural(rows.length, 'instance')}: ${counts.join(', ') || 'none'}${o.record ? ' (recorded)' : ''}`);
      if (bad) throw new ExitSignal(3);
    },
  });
}
