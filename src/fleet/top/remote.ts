// sayclaw top's remote refresh: `servers check` (checkServers) on every due server and
// `instances health` probes (probeInstances) on every instance shown, over ONE remote session
// kept for the whole run: one SSH connection per server, reused by every refresh. A server
// whose connection failed or dropped is connected again, after a backoff that doubles with each
// failure (BACKOFF_BASE_MS .. BACKOFF_MAX_MS); until then its last facts stay, marked with the
// time of the next try. Probes are not recorded in the database (top is a view; `h` and the
// refreshes only show); a restart from top is the CLI's restart, audited the same way.
import type { Kysely } from 'kysely';
import type { Context } from '../../context.js';
import type { MysqlDB } from '../../db/types.js';
import type { RemoteSession } from '../servers/remote.js';
import type { InstanceTarget } from '../instances/targets.js';
import type { HealthRow, Via } from '../instances/health.js';
import type { ActionRow } from '../instances/containers.js';
import type { DbPart, RemotePart, TopFilter } from './snapshot.js';

export const BACKOFF_BASE_MS = 5000;
export const BACKOFF_MAX_MS = 300000;

export function backoffMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
}

export interface TopRemoteOptions { via: Via; probeTimeoutMs: number; filter: TopFilter }

export class TopRemote {
  private session?: Promise<RemoteSession>;
  constructor(private ctx: Context, private opts: TopRemoteOptions) {}

  private remote(): Promise<RemoteSession> {
    this.session ??= import('../servers/remote.js').then((m) => m.openRemote(this.ctx));
    return this.session;
  }

  /** Handshakes made so far (the persistent-connection test counts them). */
  async handshakes(): Promise<number> { return (await this.remote()).pool.handshakes; }

  /** The instances shown, with what a probe or a container action needs (the shared lookup). */
  async targets(db: Kysely<MysqlDB>, ids: string[]): Promise<InstanceTarget[]> {
    if (!ids.length) return [];
    const { resolveInstanceTargets } = await import('../instances/targets.js');
    const f = this.opts.filter;
    const all = await resolveInstanceTargets(db, f.prefix !== undefined ? { prefix: f.prefix } : { all: true });
    const want = new Set(ids);
    return all.filter((t) => want.has(t.id));
  }

  /** One remote refresh: servers that are due, then the probes; updates r in place. */
  async refresh(db: Kysely<MysqlDB>, d: DbPart, r: RemotePart): Promise<void> {
    const remote = await this.remote();
    const now = this.ctx.clock();
    const due = d.servers.filter((s) => s.status !== 'retired' && s.ip && !((r.servers.get(s.id)?.retry_at?.getTime() ?? 0) > now.getTime()));
    // a connection that failed or closed since the last refresh is made again now
    for (const s of due) if (!await remote.pool.openConn(s.id)) remote.forget(s.id);
    if (due.length) {
      const { checkServers } = await import('../servers/check.js');
      const rep = await checkServers(db, remote, due, {});
      const at = this.ctx.clock();
      for (const [i, s] of due.entries()) {
        const check = rep.servers[i]!;
        const prev = r.servers.get(s.id);
        const failures = check.ssh_ms === null ? (prev?.failures ?? 0) + 1 : 0;
        r.servers.set(s.id, { check, at, failures, retry_at: failures ? new Date(at.getTime() + backoffMs(failures)) : null });
      }
      const checked = new Set(due.map((s) => s.name ?? s.id));
      r.drift = [...r.drift.filter((x) => !checked.has(x.server_name)), ...rep.drift];
    }
    if (this.ctx.signal.aborted) return;
    await this.probe(db, d.instances.map((i) => i.id), r);
    r.at = this.ctx.clock();
  }

  /** Probe these instances now (the refresh, and the `h` key); results into r.health. */
  async probe(db: Kysely<MysqlDB>, ids: string[], r: RemotePart): Promise<HealthRow[]> {
    const targets = await this.targets(db, ids);
    if (!targets.length) return [];
    const { probeInstances, gatewayTokens, readGatewayCa } = await import('../instances/health.js');
    const cfg = this.ctx.config();
    const remote = this.opts.via === 'ssh' ? await this.remote() : null;
    const rows = await probeInstances(remote, targets, {
      via: this.opts.via, timeoutMs: this.opts.probeTimeoutMs, concurrency: cfg.ssh.concurrency, signal: this.ctx.signal,
      tokens: await gatewayTokens(db, targets.map((t) => t.id)), ca: readGatewayCa(cfg.gateway.caFile, this.ctx.io.env),
    });
    if (this.ctx.signal.aborted) return rows;
    const at = this.ctx.clock();
    for (const h of rows) r.health.set(h.id, { ...h, at });
    return rows;
  }

  /** The CLI's restart of one instance's container (instances restart), with its audit row. */
  async restart(db: Kysely<MysqlDB>, id: string, reason: string): Promise<ActionRow> {
    const { resolveInstanceTargets } = await import('../instances/targets.js');
    const { containerAction, auditContainerActions } = await import('../instances/containers.js');
    const targets = await resolveInstanceTargets(db, { ids: [id] });
    const rows = await containerAction(await this.remote(), targets, 'restart', {});
    await auditContainerActions(db, this.ctx.who(), rows, reason);
    return rows[0]!;
  }
}
