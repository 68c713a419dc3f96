// sayclaw top: one snapshot of the fleet, assembled from the library's own calls (no query of
// its own): servers (listServers), instances (listInstances), usage today (aggregateUsage, the
// report `usage summary` prints), users over quota (quotaCheck, as `usage quota`), jobs
// (checkJobs, as `jobs check`), and the remote facts of the last remote refresh (checkServers
// as `servers check`, probeInstances as `instances health`). The database part and the remote
// part are refreshed on their own clocks; assembleSnapshot joins them (pure). `top --once`
// renders one snapshot, the screen renders one after every refresh.
import type { Context } from '../../context.js';
import type { InstanceListRow } from '../instances/ls.js';
import type { ServerListRow } from '../servers/registry.js';
import type { ServerCheck, DriftItem } from '../servers/check.js';
import type { HealthRow } from '../instances/health.js';
import type { JobHealth, JobRule } from '../jobs/check.js';
import type { QuotaRow } from '../usage/quota.js';
// static: this module is itself loaded only by top (one import graph, no parallel dynamic imports)
import { listServers } from '../servers/registry.js';
import { listInstances } from '../instances/ls.js';
import { aggregateUsage, DEFAULT_TYPES } from '../usage/report.js';
import { quotaCheck } from '../usage/quota.js';
import { checkJobs } from '../jobs/check.js';
import { parseRange, assertZone } from '../usage/range.js';
import { costUsd } from '../usage/money.js';

export interface TopFilter {
  prefix?: string;
  region?: string;
}

/** Jobs the header watches, with the age their last good run may have (as `jobs check --max-age`). */
export const TOP_JOBS: JobRule[] = [
  { job: 'usage.rollup', max_age_seconds: 26 * 3600 },
  { job: 'usage.export', max_age_seconds: 26 * 3600 },
];
const STUCK_AFTER_SECONDS = 3600;

export interface UsageTotals { requests: string; prompt_tokens: string; completion_tokens: string; tokens: string; quota: string; cost_usd: string }

async function settle<T>(errors: string[], what: string, p: Promise<T>): Promise<T | null> {
  try { return await p; } catch (err) {
    errors.push(`${what}: ${((err as Error)?.message ?? String(err)).split('\n')[0]}`);
    return null;
  }
}

/** What one database refresh reads. */
export interface DbPart {
  at: Date;
  zone: string;
  servers: ServerListRow[];
  instances: InstanceListRow[];
  /** usage today per instance id (consume rows, the report's attribution) */
  usage: Map<string, { requests: string; tokens: string }>;
  /** null when that part could not be read (errors says why) */
  usage_total: UsageTotals | null;
  over_quota: QuotaRow[] | null;
  jobs: JobHealth[];
  errors: string[];
}

/** A remote fact about one server, with the reconnect state of its connection. */
export interface ServerRemote {
  check: ServerCheck | null;
  at: Date | null;
  /** consecutive failed checks; 0 when the last one reached the server */
  failures: number;
  /** no new connection is tried before this time (backoff after failures) */
  retry_at: Date | null;
}

/** What the remote refreshes have learnt so far (kept between refreshes, updated in place). */
export interface RemotePart {
  at: Date | null;
  /** by server id */
  servers: Map<string, ServerRemote>;
  drift: DriftItem[];
  /** by instance id: the last probe top made (never recorded in the database) */
  health: Map<string, HealthRow & { at: Date }>;
}

export function emptyRemote(): RemotePart {
  return { at: null, servers: new Map(), drift: [], health: new Map() };
}

/** The database part of one refresh: every pane's data, read through the fleet library. */
export async function readDbPart(ctx: Context, f: TopFilter): Promise<DbPart> {
  const { db } = await ctx.mysql();
  const now = ctx.clock();
  const zone = assertZone(ctx.config().usage.timezone);
  const today = parseRange({ date: 'today' }, zone, now);
  const errors: string[] = [];
  // servers and instances are the screen; the rest is shown when it can be read, and a part that
  // fails (a legacy PostgreSQL down, a One API table missing) is named in the header, not fatal
  const [servers, instances, usage, over, jobs] = await Promise.all([
    listServers(db, { region: f.region }),
    listInstances(db, { prefix: f.prefix, region: f.region }),
    settle(errors, 'usage', aggregateUsage(ctx, { range: today, groups: ['instance'], types: DEFAULT_TYPES })),
    // 100%: only users at or over quota_daily
    settle(errors, 'quota', quotaCheck(ctx, today, 10000n, DEFAULT_TYPES)),
    settle(errors, 'jobs', checkJobs(db, TOP_JOBS, { stuckAfterSeconds: STUCK_AFTER_SECONDS, now })),
  ]);
  const per = new Map<string, { requests: string; tokens: string }>();
  let n = 0n; let p = 0n; let c = 0n; let q = 0n;
  for (const r of usage?.rows ?? []) {
    n += BigInt(r.requests); p += BigInt(r.prompt_tokens); c += BigInt(r.completion_tokens); q += BigInt(r.quota);
    if (r.instance_id) per.set(r.instance_id, { requests: r.requests, tokens: (BigInt(r.prompt_tokens) + BigInt(r.completion_tokens)).toString() });
  }
  return {
    at: now, zone, servers, instances, usage: per,
    usage_total: usage
      ? { requests: n.toString(), prompt_tokens: p.toString(), completion_tokens: c.toString(), tokens: (p + c).toString(), quota: q.toString(), cost_usd: costUsd(q, usage.rate) }
      : null,
    over_quota: over ? over.filter((r) => r.status === 'over') : null, jobs: jobs ?? [], errors,
  };
}

export interface TopServerRow {
  id: string;
  name: string;
  region: string | null;
  status: string;
  /** up / down / unknown (not checked yet) */
  reachable: 'up' | 'down' | 'unknown';
  latency_ms: number | null;
  docker_version: string | null;
  disk_free_gb: string | null;
  mem_free_mb: number | null;
  instances: number;
  drift: number;
  checked_at: Date | null;
  error: string | null;
}

export interface TopInstanceRow {
  id: string;
  server_name: string | null;
  region: string | null;
  user: string | null;
  model: string | null;
  /** top's own last probe when it made one, else the recorded health_status */
  health: string;
  reason: string | null;
  /** when that health was learnt (top's probe, else last_health_at) */
  last_probe: Date | null;
  probed_by: 'top' | 'recorded';
  requests_today: string;
  tokens_today: string;
}

export interface TopHeader {
  refreshed_at: Date;
  remote_refreshed_at: Date | null;
  servers: { total: number; up: number; down: number; unknown: number };
  instances: { alive: number; healthy: number; unhealthy: number; unknown: number };
  drift: number;
  usage_today: (UsageTotals & { zone: string }) | null;
  users_over_quota: number | null;
  /** when the last ok usage rollup finished, and its age */
  rollup_last_ok_at: Date | null;
  rollup_age_seconds: number | null;
  jobs: Array<{ job: string; state: string; detail: string }>;
  errors: string[];
}

export interface Snapshot {
  header: TopHeader;
  servers: TopServerRow[];
  instances: TopInstanceRow[];
  drift: DriftItem[];
  over_quota: QuotaRow[];
  jobs: JobHealth[];
}

/** The health states a probe reports (README "Health states") folded to the header's three. */
function healthClass(h: string): 'healthy' | 'unhealthy' | 'unknown' {
  if (h === 'healthy') return 'healthy';
  if (h === 'unknown' || h === '') return 'unknown';
  return 'unhealthy';
}

/** Join the two parts (pure): what every pane and the header show. */
export function assembleSnapshot(d: DbPart, r: RemotePart, errors: string[] = []): Snapshot {
  const servers: TopServerRow[] = d.servers.map((s) => {
    const rem = r.servers.get(s.id);
    const ch = rem?.check ?? null;
    const reachable = !ch ? 'unknown' : ch.ssh_ms === null ? 'down' : 'up';
    return {
      id: s.id, name: s.name ?? s.id, region: s.region, status: s.status, reachable, latency_ms: ch?.ssh_ms ?? null,
      docker_version: ch?.docker_version ?? null, disk_free_gb: ch?.disk_free_gb ?? null, mem_free_mb: ch?.mem_free_mb ?? null,
      instances: s.alive_instances, drift: ch?.drift ?? 0, checked_at: rem?.at ?? null, error: ch?.error ?? null,
    };
  });
  const instances: TopInstanceRow[] = d.instances.map((i) => {
    const h = r.health.get(i.id);
    const u = d.usage.get(i.id);
    return {
      id: i.id, server_name: i.server_name, region: i.region, user: i.assigned_email, model: i.model,
      health: h ? h.state : i.health_status, reason: h ? h.reason : null, last_probe: h ? h.at : i.last_health_at,
      probed_by: h ? 'top' : 'recorded', requests_today: u?.requests ?? '0', tokens_today: u?.tokens ?? '0',
    };
  });
  const count = (k: 'healthy' | 'unhealthy' | 'unknown') => instances.filter((i) => healthClass(i.health) === k).length;
  const serverIds = new Set(d.servers.map((s) => s.name ?? s.id));
  const drift = r.drift.filter((x) => serverIds.has(x.server_name));
  const rollup = d.jobs.find((j) => j.job === 'usage.rollup');
  return {
    header: {
      refreshed_at: d.at, remote_refreshed_at: r.at,
      servers: { total: servers.length, up: servers.filter((s) => s.reachable === 'up').length, down: servers.filter((s) => s.reachable === 'down').length,
        unknown: servers.filter((s) => s.reachable === 'unknown').length },
      instances: { alive: instances.length, healthy: count('healthy'), unhealthy: count('unhealthy'), unknown: count('unknown') },
      drift: drift.length,
      usage_today: d.usage_total ? { ...d.usage_total, zone: d.zone } : null,
      users_over_quota: d.over_quota ? d.over_quota.length : null,
      rollup_last_ok_at: rollup?.last_ok_at ?? null,
      rollup_age_seconds: rollup?.last_ok_age_seconds ?? null,
      jobs: d.jobs.map((j) => ({ job: j.job, state: j.state, detail: j.detail })),
      errors: [...d.errors, ...errors],
    },
    servers, instances, drift, over_quota: d.over_quota ?? [], jobs: d.jobs,
  };
}
