// sayclaw instances decommission | recommission: the end of an instance's life and its undo.
// decommission: stop the container (kept, with its volume), then ONE transaction: the One API
// token disabled (status 2), the oc_api_keys mapping inactive, the assignment released (binding
// rows kept as history), the row soft-deleted, an audit row. recommission: start the container,
// the readiness gate, then ONE transaction: row restored, token re-enabled, mapping active,
// audit row; the assignment is not restored. Both race-safe like rm (the UPDATE names the state
// it expects), and a transaction that fails puts the container back as it was.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { ExitCode, InterruptedError, NotFoundError, SayclawError, firstLine } from '../../errors.js';
import { inTransaction } from '../../db/transaction.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { unassignInTrx } from './assignment.js';
import { findContainer, serverOf } from './containers.js';
import type { InstanceTarget } from './targets.js';
import type { LifecycleRemote } from './lifecycle-remote.js';
import type { GatewayHealth } from '../../remote/probe.js';

export interface LifecycleRow {
  id: string;
  server_name: string | null;
  result: string;
  container: string | null;
  token: string | null;
  note: string | null;
  error: string | null;
}

export interface LifecycleDeps {
  db: Kysely<MysqlDB>;
  remote: LifecycleRemote;
  actor: Actor;
  signal: AbortSignal;
  reason: string | null;
  concurrency: number;
  waitMs: number;
  /** seconds the gateway gets to shut down after SIGTERM before docker kills it */
  stopTimeoutSec?: number;
  onWait?: (id: string, h: GatewayHealth, elapsedMs: number) => void;
}

/** docker stop's grace period for a gateway (its own shutdown budget is minutes; idle it exits in seconds). */
export const DEFAULT_STOP_SEC = 60;
const TOKEN_DISABLED = 2;
const TOKEN_ENABLED = 1;

interface KeyRow { id: string; oneapi_token_id: string | null; oneapi_token_name: string | null; status: string }

async function keysOf(trx: Transaction<MysqlDB>, id: string, status: 'active' | 'inactive'): Promise<KeyRow[]> {
  return (await trx.selectFrom('admin.oc_api_keys').select(['id', 'oneapi_token_id', 'oneapi_token_name', 'status'])
    .where('instance_id', '=', id).where('status', '=', status).where('deleted_at', 'is', null).forUpdate().execute()) as KeyRow[];
}

/** Set the One API tokens of these mappings to a status; returns their ids. */
async function setTokens(trx: Transaction<MysqlDB>, keys: KeyRow[], status: number): Promise<string[]> {
  const ids: string[] = [];
  for (const k of keys) {
    let q = trx.updateTable('oneapi.tokens').set({ status });
    if (k.oneapi_token_id !== null) q = q.where('id', '=', k.oneapi_token_id);
    else if (k.oneapi_token_name) q = q.where('name', '=', k.oneapi_token_name);
    else continue;
    await q.execute();
    const t = k.oneapi_token_id !== null ? [{ id: k.oneapi_token_id }]
      : await trx.selectFrom('oneapi.tokens').select('id').where('name', '=', k.oneapi_token_name!).execute();
    ids.push(...t.map((x) => String(x.id)));
  }
  return ids;
}

async function fan<T>(deps: LifecycleDeps, targets: InstanceTarget[], one: (t: InstanceTarget) => Promise<LifecycleRow>): Promise<LifecycleRow[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const res = await fanOut(targets, { concurrency: deps.concurrency }, async (t) => {
    if (deps.signal.aborted) return { id: t.id, server_name: t.server_name, result: 'not-started', container: null, token: null, note: 'interrupted before it started', error: null };
    return one(t);
  });
  return res.map((o) => (o.ok ? o.value : { id: o.item.id, server_name: o.item.server_name, result: 'failed', container: null, token: null, note: null, error: firstLine(o.error.message) }));
}

/** Stop, then the one transaction; a failed transaction starts the container again. */
export async function decommission(deps: LifecycleDeps, targets: InstanceTarget[]): Promise<LifecycleRow[]> {
  return fan(deps, targets, async (t) => {
    const base = { id: t.id, server_name: t.server_name, token: null as string | null, note: null as string | null, error: null as string | null };
    const s = serverOf(t);
    const docker = await deps.remote.docker(s).catch(async (e) => { throw await deps.remote.failure(e, s); });
    let c: Awaited<ReturnType<typeof findContainer>>['c'] | null = null;
    let wasRunning = false;
    try {
      const f = await findContainer(docker, t);
      c = f.c;
      wasRunning = f.info.State.Running;
      if (wasRunning) {
        // the gateway drains and releases its state lease on SIGTERM; killed half-way, the lease
        // stays recorded in the volume and the next start (recommission) fails on it
        try { await c.stop({ t: deps.stopTimeoutSec ?? DEFAULT_STOP_SEC }); } catch (e) { if ((e as { statusCode?: number }).statusCode !== 304) throw e; }
        const after = await c.inspect();
        if (after.State.ExitCode === 137) base.note = `killed after ${deps.stopTimeoutSec ?? DEFAULT_STOP_SEC} s (did not shut down in time)`;
      }
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw new SayclawError(`stop failed: ${firstLine((await deps.remote.failure(e, s)).message)}; nothing changed`, ExitCode.RUNTIME);
      base.note = 'no container found (nothing to stop)';
    }
    try {
      const out = await inTransaction(deps.db, async (trx) => {
        const before = await trx.selectFrom('admin.oc_instances').select(['id', 'deleted_at', 'assigned_user_id', 'server_id', 'container_id'])
          .where('id', '=', t.id).forUpdate().executeTakeFirst();
        if (!before || before.deleted_at !== null) return { result: 'already-deleted', token: null };
        const keys = await keysOf(trx, t.id, 'active');
        const tokens = await setTokens(trx, keys, TOKEN_DISABLED);
        if (keys.length) await trx.updateTable('admin.oc_api_keys').set({ status: 'inactive' }).where('id', 'in', keys.map((k) => k.id)).execute();
        const un = await unassignInTrx(trx, deps.actor, t.id, { reason: deps.reason });
        const res = await trx.updateTable('admin.oc_instances').set({ deleted_at: sql<Date>`NOW(3)` as never, health_status: 'unknown' })
          .where('id', '=', t.id).where('deleted_at', 'is', null).executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) return { result: 'already-deleted', token: null };
        await writeAudit(trx, deps.actor, { action: 'instances.decommission', target_type: 'instance', target_id: t.id, reason: deps.reason,
          before: { deleted_at: null, assigned_user_id: before.assigned_user_id, assigned_email: un.from, container: wasRunning ? 'running' : c ? 'stopped' : 'missing', key_ids: keys.map((k) => k.id), token_status: 'enabled' },
          after: { deleted: true, assigned_user_id: null, container: c ? 'stopped' : 'missing', key_status: 'inactive', token_ids: tokens, token_status: 'disabled' } });
        return { result: 'decommissioned', token: tokens.length ? `disabled ${tokens.join(',')}` : 'none mapped' };
      });
      if (out.result !== 'decommissioned' && wasRunning && c) {
        // someone else decommissioned it meanwhile: the container is stopped as that run wanted
        base.note = 'soft-deleted by someone else meanwhile';
      }
      return { ...base, result: out.result, container: c ? 'stopped' : null, token: out.token };
    } catch (e) {
      if (/outcome unknown/.test((e as Error).message)) throw e;
      // nothing committed: put the container back as it was
      let back = '';
      if (wasRunning && c) { try { await c.start(); back = '; the container was started again'; } catch { back = '; the container could NOT be started again (it stays stopped)'; } }
      throw new SayclawError(`${firstLine((e as Error).message)}${back}`, (e as SayclawError).exitCode ?? ExitCode.RUNTIME, { cause: e });
    }
  });
}

/** Start, wait until ready, then the one transaction; any failure stops the container again. */
export async function recommission(deps: LifecycleDeps, targets: InstanceTarget[]): Promise<LifecycleRow[]> {
  return fan(deps, targets, async (t) => {
    const base = { id: t.id, server_name: t.server_name, token: null as string | null, note: 'assignment not restored' as string | null, error: null as string | null };
    const s = serverOf(t);
    const docker = await deps.remote.docker(s).catch(async (e) => { throw await deps.remote.failure(e, s); });
    const f = await findContainer(docker, t).catch(async (e) => {
      if (e instanceof NotFoundError) throw new SayclawError(`${e.message}: nothing to start; nothing changed`, ExitCode.RUNTIME, { hint: `create a new instance instead: sayclaw instances create --template NAME --server ${t.server_name}` });
      throw await deps.remote.failure(e, s);
    });
    const row = await deps.db.selectFrom('admin.oc_instances').select(['gateway_token', 'gateway_port', 'gateway_url']).where('id', '=', t.id).executeTakeFirstOrThrow();
    const wasRunning = f.info.State.Running;
    const stopAgain = async () => { if (!wasRunning) await f.c.stop({ t: 5 }).catch(() => undefined); };
    try {
      if (!wasRunning) await f.c.start().catch(async (e) => { if ((e as { statusCode?: number }).statusCode !== 304) throw await deps.remote.failure(e, s); });
      if (row.gateway_port) {
        const { waitReady } = await import('../../remote/probe.js');
        const target = await deps.remote.gateway(s, row.gateway_port, row.gateway_url ?? `http://${s.ip}:${row.gateway_port}`, row.gateway_token ?? '');
        const h = await waitReady(target, deps.waitMs, deps.signal, (x, ms) => deps.onWait?.(t.id, x, ms), { intervalMs: 250 });
        if (deps.signal.aborted) throw new InterruptedError();
        if (h.state !== 'healthy') throw new SayclawError(`gateway not ready within ${Math.round(deps.waitMs / 1000)} s (${h.state}: ${h.reason ?? 'no reason given'})`, ExitCode.RUNTIME);
      }
      const out = await inTransaction(deps.db, async (trx) => {
        const res = await trx.updateTable('admin.oc_instances').set({ deleted_at: null, health_status: 'healthy', last_health_at: sql<Date>`NOW(3)` as never })
          .where('id', '=', t.id).where('deleted_at', 'is not', null).executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) return { result: 'not-deleted', token: null };
        const keys = await keysOf(trx, t.id, 'inactive');
        const tokens = await setTokens(trx, keys, TOKEN_ENABLED);
        if (keys.length) await trx.updateTable('admin.oc_api_keys').set({ status: 'active' }).where('id', 'in', keys.map((k) => k.id)).execute();
        await writeAudit(trx, deps.actor, { action: 'instances.recommission', target_type: 'instance', target_id: t.id, reason: deps.reason,
          before: { deleted: true, container: wasRunning ? 'running' : 'stopped', key_status: 'inactive' },
          after: { deleted_at: null, container: 'running', key_ids: keys.map((k) => k.id), token_ids: tokens, token_status: 'enabled', assignment: 'not restored' } });
        return { result: 'recommissioned', token: tokens.length ? `enabled ${tokens.join(',')}` : 'none mapped' };
      });
      if (out.result !== 'recommissioned') base.note = 'restored by someone else meanwhile';
      return { ...base, result: out.result, container: 'running', token: out.token };
    } catch (e) {
      if (/outcome unknown/.test((e as Error).message)) throw e;
      await stopAgain();
      const why = e instanceof InterruptedError || deps.signal.aborted ? 'interrupted (Ctrl-C)' : firstLine((e as Error).message);
      throw new SayclawError(`${why}; ${wasRunning ? 'nothing changed' : 'the container was stopped again; nothing changed'}`, e instanceof InterruptedError ? ExitCode.INTERRUPTED : (e as SayclawError).exitCode ?? ExitCode.RUNTIME, { cause: e });
    }
  });
}
