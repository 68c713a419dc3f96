// instances health: probe each gateway's /healthz (live) and /readyz (ready), judged by the body
// (src/remote/probe.ts), directly at its gateway_url or through its server's SSH connection
// (--via ssh). With record: one transaction per instance updating health_status (healthy or
// unhealthy) / health_fail_count (reset on success) / last_health_at and appending an
// oc_health_logs row with the detailed state and its reason; an audit row when the status changes.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import type { InstanceTarget } from './targets.js';
import type { RemoteSession } from '../servers/remote.js';
import type { Outcome } from '../../remote/fanout.js';
import type { GatewayState } from '../../remote/probe.js';
import { serverOf } from './containers.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { inTransaction, markerId } from '../../db/transaction.js';
import { readFileSync } from 'node:fs';
import { expandHome } from '../../config/load.js';
import { ConfigError } from '../../errors.js';

export type Via = 'http' | 'ssh';

export interface HealthRow {
  id: string;
  server_name: string | null;
  via: Via;
  url: string | null;
  /** healthy, not_ready, no_probe, unhealthy, unreachable (README "Health states") */
  state: GatewayState;
  /** what oc_instances.health_status gets: healthy, else unhealthy */
  status: 'healthy' | 'unhealthy';
  live: boolean | null;
  ready: boolean | null;
  reason: string | null;
  http_status: number | null;
  latency_ms: number | null;
  token_sent: boolean;
  previous_status: string;
  fail_count: number;
}

/** The URL a probe uses: gateway_url, else the gateway port on the server. Via SSH the server
 * itself opens the connection, so a gateway_port means 127.0.0.1 as the server sees it (kept
 * https when the gateway_url is https). */
export function probeBase(t: InstanceTarget, via: Via): string | null {
  if (via === 'ssh' && t.gateway_port) return `${t.gateway_url?.startsWith('https:') ? 'https' : 'http'}://127.0.0.1:${t.gateway_port}`;
  if (t.gateway_url) return t.gateway_url.replace(/\/+$/, '');
  if (t.gateway_port && t.server_ip) return `http://${t.server_ip.includes(':') ? `[${t.server_ip}]` : t.server_ip}:${t.gateway_port}`;
  return null;
}

/** The gateway tokens of these instances (sent only where the probe's channel is safe). */
export async function gatewayTokens(db: Kysely<MysqlDB>, ids: string[]): Promise<Map<string, string | null>> {
  if (!ids.length) return new Map();
  const rows = await db.selectFrom('admin.oc_instances').select(['id', 'gateway_token']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.gateway_token]));
}

/** gateway.caFile's PEM text, or null; an unreadable file is a config error (exit 5). */
export function readGatewayCa(caFile: string | null, env: Record<string, string | undefined>): string | null {
  if (!caFile) return null;
  const path = expandHome(caFile, env);
  try { return readFileSync(path, 'utf8'); } catch (e) {
    throw new ConfigError(`cannot read gateway.caFile ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'point gateway.caFile at a PEM file holding the CA that signed the gateways\' certificates' });
  }
}

export async function probeInstances(remote: RemoteSession | null, targets: InstanceTarget[], opts: {
  via: Via; timeoutMs: number; concurrency: number; signal: AbortSignal;
  tokens?: Map<string, string | null>; ca?: string | null; env?: Record<string, string | undefined>;
  onDone?: (o: Outcome<InstanceTarget, unknown>, done: number, total: number) => void;
}): Promise<HealthRow[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { probeGateway, viaSsh } = await import('../../remote/probe.js');
  const failed = (t: InstanceTarget, url: string | null, reason: string): HealthRow => ({
    id: t.id, server_name: t.server_name, via: opts.via, url, state: 'unreachable', status: 'unhealthy', live: null, ready: null, reason,
    http_status: null, latency_ms: null, token_sent: false, previous_status: t.health_status, fail_count: t.health_fail_count,
  });
  const res = await fanOut(targets, { concurrency: opts.concurrency, signal: opts.signal, onDone: opts.onDone }, async (t) => {
    const base = probeBase(t, opts.via);
    if (!base) return failed(t, null, 'no gateway_url or gateway_port');
    let stream: (() => Promise<import('node:stream').Duplex>) | undefined;
    if (opts.via === 'ssh') {
      try {
        stream = viaSsh(await remote!.conn(serverOf(t)), base, opts.signal);
      } catch (err) { return failed(t, base, `ssh: ${(err as Error).message}`); }
    }
    const h = await probeGateway({ base, stream, token: opts.tokens?.get(t.id) ?? null, ca: opts.ca, env: opts.env }, opts.timeoutMs, opts.signal);
    return {
      id: t.id, server_name: t.server_name, via: opts.via, url: base, state: h.state, status: h.state === 'healthy' ? 'healthy' : 'unhealthy',
      live: h.live, ready: h.ready, reason: h.reason, http_status: h.http_status, latency_ms: h.latency_ms, token_sent: h.token_sent,
      previous_status: t.health_status, fail_count: t.health_fail_count,
    } satisfies HealthRow;
  });
  return res.map((o) => (o.ok ? o.value : failed(o.item, null, o.error.message)));
}

/** One transaction per instance: status, fail count, last check time, a log row (+ audit on change). */
export async function recordHealth(db: Kysely<MysqlDB>, actor: Actor, rows: HealthRow[], signal?: AbortSignal): Promise<void> {
  for (const r of rows) {
    if (signal?.aborted) return;
    await inTransaction(db, async (trx) => {
      const before = await trx.selectFrom('admin.oc_instances').select(['health_status', 'health_fail_count'])
        .where('id', '=', r.id).forUpdate().executeTakeFirst();
      if (!before) return;
      const ok = r.status === 'healthy';
      await trx.updateTable('admin.oc_instances').set({
        health_status: r.status,
        health_fail_count: ok ? 0 : sql<number>`health_fail_count + 1` as never,
        last_health_at: sql<Date>`NOW(3)` as never,
      }).where('id', '=', r.id).execute();
      // the log keeps the detailed state and its reason (oc_instances only healthy/unhealthy);
      // its row is the transaction's outcome marker when no audit row is written
      await trx.insertInto('admin.oc_health_logs').values({
        id: markerId(trx, 'admin.oc_health_logs'), instance_id: r.id, status: r.state, live: r.live === null ? null : r.live ? 1 : 0,
        ready: r.ready === null ? null : r.ready ? 1 : 0, latency_ms: r.latency_ms, http_status: r.http_status,
        error: r.reason ? r.reason.slice(0, 500) : null, via: r.via,
      }).execute();
      r.fail_count = ok ? 0 : before.health_fail_count + 1;
      if (before.health_status !== r.status) {
        await writeAudit(trx, actor, { action: 'instances.health', target_type: 'instance', target_id: r.id,
          before: { health_status: before.health_status, health_fail_count: before.health_fail_count },
          after: { health_status: r.status, health_fail_count: r.fail_count, state: r.state, reason: r.reason } });
      }
    });
  }
}
