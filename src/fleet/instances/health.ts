// instances health: probe each gateway's /healthz (live) and /readyz (ready), directly at its
// gateway_url or through its server's SSH connection (--via ssh). With record: one transaction
// per instance updating health_status / health_fail_count (reset on success) / last_health_at
// and appending an oc_health_logs row; an audit row when the status changes.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import type { InstanceTarget } from './targets.js';
import type { RemoteSession } from '../servers/remote.js';
import type { Outcome } from '../../remote/fanout.js';
import { serverOf } from './containers.js';
import { writeAudit, type Actor } from '../audit/write.js';

export type Via = 'http' | 'ssh';

export interface HealthRow {
  id: string;
  server_name: string | null;
  via: Via;
  url: string | null;
  live: boolean | null;
  ready: boolean | null;
  status: 'healthy' | 'unhealthy';
  http_status: number | null;
  latency_ms: number | null;
  error: string | null;
  previous_status: string;
  fail_count: number;
}

/** The URL a probe uses: gateway_url, else the gateway port on the server. Via SSH the server
 * itself opens the connection, so a gateway_port means 127.0.0.1 as the server sees it. */
export function probeBase(t: InstanceTarget, via: Via): string | null {
  if (via === 'ssh' && t.gateway_port) return `http://127.0.0.1:${t.gateway_port}`;
  if (t.gateway_url) return t.gateway_url.replace(/\/+$/, '');
  if (t.gateway_port && t.server_ip) return `http://${t.server_ip.includes(':') ? `[${t.server_ip}]` : t.server_ip}:${t.gateway_port}`;
  return null;
}

export async function probeInstances(remote: RemoteSession | null, targets: InstanceTarget[], opts: {
  via: Via; timeoutMs: number; concurrency: number; signal: AbortSignal;
  onDone?: (o: Outcome<InstanceTarget, unknown>, done: number, total: number) => void;
}): Promise<HealthRow[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { httpGet, viaSsh } = await import('../../remote/probe.js');
  const res = await fanOut(targets, { concurrency: opts.concurrency, signal: opts.signal, onDone: opts.onDone }, async (t) => {
    const base = probeBase(t, opts.via);
    const row: HealthRow = { id: t.id, server_name: t.server_name, via: opts.via, url: base, live: null, ready: null, status: 'unhealthy',
      http_status: null, latency_ms: null, error: null, previous_status: t.health_status, fail_count: t.health_fail_count };
    if (!base) { row.error = 'no gateway_url or gateway_port'; return row; }
    let stream: (() => Promise<import('node:stream').Duplex>) | undefined;
    if (opts.via === 'ssh') {
      try {
        const conn = await remote!.conn(serverOf(t));
        stream = viaSsh(conn, `${base}/healthz`, opts.signal);
      } catch (err) { row.error = `ssh: ${(err as Error).message}`; return row; }
    }
    const [h, r] = await Promise.all([
      httpGet(`${base}/healthz`, opts.timeoutMs, { stream, signal: opts.signal }),
      httpGet(`${base}/readyz`, opts.timeoutMs, { stream, signal: opts.signal }),
    ]);
    row.live = h.ok;
    row.ready = h.ok ? r.ok : h.http_status === null ? null : false;
    row.http_status = h.ok ? r.http_status : h.http_status;
    row.latency_ms = h.latency_ms;
    row.status = h.ok && r.ok ? 'healthy' : 'unhealthy';
    row.error = !h.ok ? `healthz: ${h.error}` : !r.ok ? `readyz: ${r.error}` : null;
    return row;
  });
  return res.map((o) => (o.ok ? o.value : {
    id: o.item.id, server_name: o.item.server_name, via: opts.via, url: null, live: null, ready: null, status: 'unhealthy' as const,
    http_status: null, latency_ms: null, error: o.error.message, previous_status: o.item.health_status, fail_count: o.item.health_fail_count,
  }));
}

/** One transaction per instance: status, fail count, last check time, a log row (+ audit on change). */
export async function recordHealth(db: Kysely<MysqlDB>, actor: Actor, rows: HealthRow[], signal?: AbortSignal): Promise<void> {
  for (const r of rows) {
    if (signal?.aborted) return;
    await db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('admin.oc_instances').select(['health_status', 'health_fail_count'])
        .where('id', '=', r.id).forUpdate().executeTakeFirst();
      if (!before) return;
      const ok = r.status === 'healthy';
      await trx.updateTable('admin.oc_instances').set({
        health_status: r.status,
        health_fail_count: ok ? 0 : sql<number>`health_fail_count + 1` as never,
        last_health_at: sql<Date>`NOW(3)` as never,
      }).where('id', '=', r.id).execute();
      await trx.insertInto('admin.oc_health_logs').values({
        id: crypto.randomUUID(), instance_id: r.id, status: r.status, live: r.live === null ? null : r.live ? 1 : 0,
        ready: r.ready === null ? null : r.ready ? 1 : 0, latency_ms: r.latency_ms, http_status: r.http_status,
        error: r.error ? r.error.slice(0, 500) : null, via: r.via,
      }).execute();
      r.fail_count = ok ? 0 : before.health_fail_count + 1;
      if (before.health_status !== r.status) {
        await writeAudit(trx, actor, { action: 'instances.health', target_type: 'instance', target_id: r.id,
          before: { health_status: before.health_status, health_fail_count: before.health_fail_count },
          after: { health_status: r.status, health_fail_count: r.fail_count, error: r.error } });
      }
    });
  }
}
