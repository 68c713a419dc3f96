// servers reconcile: the drift `servers check` finds, turned into a plan like `terraform plan`:
// start the stopped container of an alive instance, stop the running container of a
// soft-deleted instance; a missing container and an unknown container (named like an instance,
// not in the database for this server) are left for a person, with what to do: never touched.
// Each action re-checks its instance row under a lock, acts, and writes its audit row in the
// same transaction.
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import type { ServerRow } from './registry.js';
import type { RemoteSession } from './remote.js';
import type { DriftItem, ServerCheck } from './check.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { inTransaction } from '../../db/transaction.js';

export interface ReconcileItem {
  server_name: string;
  instance_id: string | null;
  container: string | null;
  state: string | null;
  /** start / stop: will be done; recreate / report: left for a person */
  action: 'start' | 'stop' | 'recreate' | 'report';
  drift: DriftItem['kind'] | 'server_failed';
  /** why, and for what is left: how to fix it */
  detail: string;
  server: ServerRow | null;
}

export interface ReconcilePlan { actions: ReconcileItem[]; left: ReconcileItem[]; servers: ServerCheck[] }

export async function planReconcile(db: Kysely<MysqlDB>, remote: RemoteSession, servers: ServerRow[], o: { namePattern?: string } = {}): Promise<ReconcilePlan> {
  const { checkServers } = await import('./check.js');
  const rep = await checkServers(db, remote, servers, { namePattern: o.namePattern });
  const byName = new Map(servers.map((s) => [s.name ?? s.id, s]));
  const missing = rep.drift.filter((d) => d.kind === 'missing_container').map((d) => d.instance_id!);
  const ports = new Map((missing.length ? await db.selectFrom('admin.oc_instances').select(['id', 'gateway_port']).where('id', 'in', missing).execute() : [])
    .map((r) => [r.id, r.gateway_port]));
  const actions: ReconcileItem[] = [];
  const left: ReconcileItem[] = [];
  for (const d of rep.drift) {
    const base = { server_name: d.server_name, instance_id: d.instance_id, container: d.container, state: d.state, drift: d.kind, server: byName.get(d.server_name) ?? null };
    if (d.kind === 'stopped_container') actions.push({ ...base, action: 'start', detail: `alive instance, container ${d.state}: start it` });
    else if (d.kind === 'running_for_deleted') actions.push({ ...base, action: 'stop', detail: 'soft-deleted instance, container running: stop it (kept, not removed)' });
    else if (d.kind === 'missing_container') {
      const p = ports.get(d.instance_id!);
      left.push({ ...base, action: 'recreate', detail: `alive instance without a container on ${d.server_name}: recreate it there (name ${d.instance_id}${p ? `, gateway port ${p}` : ''}, its gateway token from the row), or soft-delete it: sayclaw instances rm ${d.instance_id}` });
    } else {
      left.push({ ...base, action: 'report', detail: `${d.detail}: left alone; look at it with: sayclaw servers exec ${d.server_name} -- docker inspect ${d.container}` });
    }
  }
  for (const s of rep.servers.filter((x) => x.status === 'failed')) {
    left.push({ server_name: s.server_name, instance_id: null, container: null, state: null, action: 'report', drift: 'server_failed',
      detail: `could not be checked: ${s.error ?? 'failed'}`, server: byName.get(s.server_name) ?? null });
  }
  // servers answer in any order: the plan reads by server, then instance
  const { naturalCompare } = await import('../../db/sql-helpers.js');
  const order = (a: ReconcileItem, b: ReconcileItem) => naturalCompare(a.server_name, b.server_name) || naturalCompare(a.instance_id ?? a.container ?? '', b.instance_id ?? b.container ?? '');
  return { actions: actions.sort(order), left: left.sort(order), servers: rep.servers };
}

export interface ReconcileResult {
  server_name: string; instance_id: string | null; container: string | null; action: ReconcileItem['action'];
  result: 'started' | 'stopped' | 'failed' | 'changed-meanwhile' | 'not-started' | 'left'; state: string | null; error: string | null;
}

/**
 * Carry out the start/stop actions: one transaction per action (row re-checked under a lock,
 * docker call, audit row). Ctrl-C (`interrupt`) starts no further action; the ones in flight
 * finish on the session's connections (open them with a signal of their own) and are reported.
 */
export async function applyReconcile(db: Kysely<MysqlDB>, remote: RemoteSession, actions: ReconcileItem[], o: { actor: Actor; reason: string | null; stopTimeoutSec?: number; interrupt?: AbortSignal }): Promise<ReconcileResult[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { dockerFailure } = await import('../../remote/docker.js');
  const res = await fanOut(actions, { concurrency: remote.concurrency, signal: o.interrupt }, async (a): Promise<ReconcileResult> => {
    const out = (result: ReconcileResult['result'], state: string | null, error: string | null): ReconcileResult =>
      ({ server_name: a.server_name, instance_id: a.instance_id, container: a.container, action: a.action, result, state, error });
    return inTransaction(db, async (trx) => {
      const row = await trx.selectFrom('admin.oc_instances').select(['id', 'deleted_at', 'server_id']).where('id', '=', a.instance_id!).forUpdate().executeTakeFirst();
      const wantAlive = a.action === 'start';
      if (!row || row.server_id !== a.server!.id || (row.deleted_at === null) !== wantAlive) {
        return out('changed-meanwhile', a.state, `the instance row changed since the check (${!row ? 'gone' : row.server_id !== a.server!.id ? 'moved to another server' : row.deleted_at ? 'soft-deleted' : 'restored'}); nothing done`);
      }
      let state: string;
      try {
        const docker = await remote.docker(a.server!);
        const c = docker.getContainer(a.container!);
        try {
          if (a.action === 'start') await c.start(); else await c.stop({ t: o.stopTimeoutSec ?? 10 });
        } catch (e) { if ((e as { statusCode?: number }).statusCode !== 304) throw e; }
        state = (await c.inspect()).State.Status;
      } catch (err) {
        return out('failed', a.state, (await dockerFailure(err, await remote.dockerConn(a.server!))).message);
      }
      await writeAudit(trx, o.actor, { action: 'servers.reconcile', target_type: 'instance', target_id: a.instance_id!, reason: o.reason,
        before: { server: a.server_name, container: a.container, state: a.state, drift: a.drift }, after: { action: a.action, container: a.container, state } });
      return out(a.action === 'start' ? 'started' : 'stopped', state, null);
    });
  });
  return res.map((r) => (r.ok ? r.value : { server_name: r.item.server_name, instance_id: r.item.instance_id, container: r.item.container, action: r.item.action,
    result: o.interrupt?.aborted && r.ms === 0 ? 'not-started' as const : 'failed' as const, state: r.item.state, error: o.interrupt?.aborted && r.ms === 0 ? 'not started: interrupted' : r.error.message }));
}
