// sayclaw top: the live fleet screen (src/tui/top.ts), or with --once one snapshot of the same
// data (src/fleet/top/snapshot.ts) in -o table|wide|json|yaml. The screen's code and its
// terminal library load only here.
import type { Command } from 'commander';
import { verb, intArg, Option } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import type { Via } from '../../src/fleet/instances/health.js';

export interface TopOpts {
  interval: string;
  remoteInterval: string;
  prefix?: string;
  region?: string;
  once?: boolean;
  remote: boolean;
  via: Via;
  probeTimeout: number;
}

export interface TopSettings {
  intervalMs: number;
  remoteIntervalMs: number;
  filter: { prefix?: string; region?: string };
  remote: boolean;
  via: Via;
  probeTimeoutMs: number;
}

function settingsOf(o: TopOpts, parse: (v: string) => number): TopSettings {
  const secs = (flag: string, v: string) => {
    let n: number;
    try { n = parse(v); } catch { throw new UsageError(`${flag} expects a duration like 5s, 30s or 2m, got "${v}"`); }
    if (n < 1 || n > 86400) throw new UsageError(`${flag} must be between 1s and 1d, got "${v}"`);
    return n * 1000;
  };
  if (o.prefix === '') throw new UsageError('--prefix must not be empty', { hint: 'omit it to show every instance' });
  return {
    intervalMs: secs('--interval', o.interval), remoteIntervalMs: secs('--remote-interval', o.remoteInterval),
    filter: { prefix: o.prefix, region: o.region }, remote: o.remote, via: o.via, probeTimeoutMs: o.probeTimeout,
  };
}

async function once(ctx: Context, s: TopSettings): Promise<void> {
  const fmt = ctx.outputFormat;
  if (!['table', 'wide', 'json', 'yaml'].includes(fmt)) throw new UsageError(`top --once prints -o table, wide, json or yaml, not ${fmt}`);
  const [{ readDbPart, emptyRemote, assembleSnapshot }, { renderObject }, { headerLines }] = await Promise.all([
    import('../../src/fleet/top/snapshot.js'), import('../../src/output/render.js'), import('../../src/fleet/top/text.js')]);
  const { db } = await ctx.mysql();
  const d = await readDbPart(ctx, s.filter);
  const r = emptyRemote();
  if (s.remote) {
    const { TopRemote } = await import('../../src/fleet/top/remote.js');
    await new TopRemote(ctx, { via: s.via, probeTimeoutMs: s.probeTimeoutMs, filter: s.filter }).refresh(db, d, r);
  }
  ctx.throwIfAborted();
  const snap = assembleSnapshot(d, r);
  await renderObject(ctx.out, snap as unknown as Record<string, unknown>, {
    format: fmt,
    sections: [
      { title: 'Fleet', data: {}, text: headerLines(snap, ctx.clock()).join('\n') },
      { title: 'Servers', data: snap.servers.map((x) => ({ name: x.name, region: x.region, reachable: x.reachable, latency_ms: x.latency_ms,
        docker: x.docker_version, disk_free_gb: x.disk_free_gb, mem_free_mb: x.mem_free_mb, instances: x.instances, drift: x.drift, error: x.error })) },
      { title: 'Instances', data: snap.instances.map((i) => ({ id: i.id, server: i.server_name, user: i.user, model: i.model, health: i.health,
        reason: i.reason, last_probe: i.last_probe, requests_today: i.requests_today, tokens_today: i.tokens_today })) },
      { title: 'Users over quota today', data: snap.over_quota.map((q) => ({ email: q.email, used_tokens: q.used_tokens, quota_daily: q.quota_daily, used_pct: q.used_pct })) },
      { title: 'Jobs', data: snap.jobs.map((j) => ({ job: j.job, state: j.state, last_ok_at: j.last_ok_at, detail: j.detail })) },
      { title: 'Drift', data: snap.drift.map((x) => ({ server: x.server_name, kind: x.kind, instance: x.instance_id, container: x.container, detail: x.detail })) },
    ],
  });
}

export function registerTop(program: Command): void {
  verb<TopOpts>(program, {
    name: 'top',
    summary: 'the live fleet screen: servers, instances, health, drift, usage today, quota, jobs; act on a row (--once: one snapshot)',
    examples: ['sayclaw top', 'sayclaw top --prefix oc-ai-jp-2- --interval 10s --remote-interval 1m',
      'sayclaw top --once -o json | jq .header', 'sayclaw top --once --no-remote'],
    options: (c) => c
      .option('--interval <DUR>', 'database panes every DUR (5s, 1m)', '5s')
      .option('--remote-interval <DUR>', 'SSH/Docker facts and gateway probes every DUR', '30s')
      .option('--prefix <P>', 'instances whose id starts with P')
      .option('--region <R>', 'servers (and their instances) in region R')
      .option('--once', 'print one snapshot and exit (any terminal or none; -o table|wide|json|yaml)')
      .option('--no-remote', 'database facts only: no SSH, Docker or gateway probes')
      .addOption(new Option('--via <HOW>', 'gateway probes: http (gateway_url) or ssh (from the server)').choices(['http', 'ssh']).default('http'))
      .option('--probe-timeout <MS>', 'per-probe timeout in ms', intArg(1, 600000), 5000),
    run: async (ctx, o) => {
      const { parseDurationSeconds } = await import('../../src/fleet/duration.js');
      const s = settingsOf(o, parseDurationSeconds);
      if (o.once) { await once(ctx, s); return; }
      if (!ctx.interactive) {
        throw new UsageError('top needs a terminal (stdin and stdout a TTY)', { hint: 'for scripts: sayclaw top --once -o json' });
      }
      const { runTopScreen } = await import('../../src/tui/top.js');
      await runTopScreen(ctx, s);
    },
  });
}
