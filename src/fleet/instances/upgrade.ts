// instances upgrade | rollback: health-gated rolling image swaps, one container per server at a
// time (unless --per-server), in batches. Per instance: stop the old container, rename it
// ID.prev, create the new one with every setting but the image (container-spec.ts), start it,
// wait until /readyz says ready. A failure anywhere in a batch rolls the whole batch back (new
// container removed, ID.prev renamed back and started, ready again) and stops the rollout.
// The previous container stays, stopped, as ID.prev for `instances rollback` until the next
// upgrade (or --prune). One audit row per instance that was touched.
import type { Kysely } from 'kysely';
import type Dockerode from 'dockerode';
import type { MysqlDB } from '../../db/types.js';
import type { InstanceTarget } from './targets.js';
import type { RemoteSession } from '../servers/remote.js';
import type { GatewayHealth } from '../../remote/probe.js';
import { serverOf, findContainer } from './containers.js';
import { createOptionsFrom, type ImageDefaults } from './container-spec.js';
import { probeBase, type Via } from './health.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { inTransaction } from '../../db/transaction.js';
import { NotFoundError } from '../../errors.js';

/** The previous container of instance ID, kept for rollback. */
export const prevName = (id: string) => `${id}.prev`;
/** The container that was ID.prev while an upgrade is in flight (restored if it rolls back). */
export const prevOldName = (id: string) => `${id}.prev-old`;
/** The current container while a rollback is in flight. */
export const nextName = (id: string) => `${id}.next`;

/** What `skipped` means for the exit code: 'done' (already on the image) or 'left' (needs a person). */
export interface UpgradeSkip { id: string; result: string; reason: string; left: boolean }

export interface UpgradeTarget {
  id: string;
  server_name: string | null;
  batch: number;
  from_image: string;
  to_image: string;
  /** the image is not on the server yet: pulled before the first batch (--pull) */
  pull: boolean;
  /** the current container's name (normally the instance id) */
  container: string;
  /** an ID.prev from an earlier upgrade exists: replaced when this upgrade succeeds */
  replaces_prev: boolean;
  /** for apply */
  t: InstanceTarget;
  from_image_id: string;
  container_full_id: string;
  inspect: Dockerode.ContainerInspectInfo;
  old_image: ImageDefaults;
}

export type UpgradeResultKind = 'upgraded' | 'rolled-back' | 'rollback-failed' | 'not-started' | 'skipped';
export interface UpgradeResult {
  id: string;
  server_name: string | null;
  batch: number;
  from_image: string;
  to_image: string;
  result: UpgradeResultKind;
  container: string | null;
  ready_ms: number | null;
  error: string | null;
}

type DockerErr = { statusCode?: number };
const is404 = (e: unknown) => (e as DockerErr)?.statusCode === 404;

async function inspectOrNull(docker: Dockerode, ref: string): Promise<Dockerode.ContainerInspectInfo | null> {
  try { return await docker.getContainer(ref).inspect(); } catch (e) { if (is404(e)) return null; throw e; }
}

async function imageOrNull(docker: Dockerode, ref: string): Promise<Dockerode.ImageInspectInfo | null> {
  try { return await docker.getImage(ref).inspect(); } catch (e) { if (is404(e)) return null; throw e; }
}

function imageDefaults(img: Dockerode.ImageInspectInfo | null): ImageDefaults {
  return ((img?.Config ?? {}) as unknown as ImageDefaults);
}

/** Order targets into batches of `size`, at most `perServer` of one server per batch, keeping the id order. */
export function formBatches<T extends { server: string }>(items: T[], size: number, perServer: number): T[][] {
  const left = [...items];
  const out: T[][] = [];
  while (left.length) {
    const batch: T[] = [];
    const per = new Map<string, number>();
    for (let i = 0; i < left.length && batch.length < size;) {
      const it = left[i]!;
      const n = per.get(it.server) ?? 0;
      if (n < perServer) {
        batch.push(it);
        per.set(it.server, n + 1);
        left.splice(i, 1);
      } else i++;
    }
    out.push(batch);
  }
  return out;
}

export interface PlanOptions { image: string; pull: boolean; batch: number; perServer: number }

/**
 * Look at each instance's container and the image on its server (servers in parallel, one
 * SSH connection each): what will be swapped, in which batch, and what is skipped and why.
 */
export async function planUpgrade(remote: RemoteSession, targets: InstanceTarget[], o: PlanOptions): Promise<{ targets: UpgradeTarget[]; skipped: UpgradeSkip[] }> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { dockerFailure } = await import('../../remote/docker.js');
  const images = new Map<string, Promise<Dockerode.ImageInspectInfo | null>>();
  const oldImages = new Map<string, Promise<Dockerode.ImageInspectInfo | null>>();
  type Found = { kind: 'target'; v: Omit<UpgradeTarget, 'batch'> } | { kind: 'skip'; v: UpgradeSkip };
  const skip = (t: InstanceTarget, result: string, reason: string, left = true): Found => ({ kind: 'skip', v: { id: t.id, result, reason, left } });
  const res = await fanOut(targets, { concurrency: remote.concurrency, signal: remote.signal }, async (t): Promise<Found> => {
    if (!t.server_id || !t.server_ip) return skip(t, 'no-server', 'has no server (or the server has no ip)');
    const s = serverOf(t);
    try {
      const docker = await remote.docker(s);
      let found;
      try { found = await findContainer(docker, t); } catch (e) {
        if (e instanceof NotFoundError) return skip(t, 'no-container', `no container on ${t.server_name}: see sayclaw servers reconcile ${t.server_name}`);
        throw e;
      }
      const { info } = found;
      const name = info.Name.replace(/^\//, '');
      if (name === prevName(t.id) || name === nextName(t.id)) return skip(t, 'in-flight', `its container is named ${name}: an earlier upgrade or rollback did not finish; check with sayclaw servers exec ${t.server_name} -- docker ps -a`);
      let img = images.get(s.id);
      if (!img) { img = imageOrNull(docker, o.image); images.set(s.id, img); }
      const newImage = await img;
      if (newImage && info.Image === newImage.Id) return skip(t, 'already-on-image', `already on ${o.image}`, false);
      if (!newImage && !o.pull) return skip(t, 'image-missing', `image ${o.image} is not on ${t.server_name}: add --pull, or load it there`);
      if (!info.State.Running) return skip(t, 'not-running', `container ${name} is ${info.State.Status}: start it first (sayclaw instances start ${t.id})`);
      const leftover = await inspectOrNull(docker, prevOldName(t.id));
      if (leftover) return skip(t, 'in-flight', `a container ${prevOldName(t.id)} is left from an interrupted upgrade; check it and remove it`);
      const prev = await inspectOrNull(docker, prevName(t.id));
      if (prev?.State.Running) return skip(t, 'prev-running', `${prevName(t.id)} is running: stop or remove it first`);
      const key = `${s.id}:${info.Image}`;
      let oi = oldImages.get(key);
      if (!oi) { oi = imageOrNull(docker, info.Image); oldImages.set(key, oi); }
      const oldImage = await oi;
      return { kind: 'target', v: {
        id: t.id, server_name: t.server_name, from_image: info.Config.Image, to_image: o.image, pull: !newImage, container: name,
        replaces_prev: !!prev, t, from_image_id: info.Image, container_full_id: info.Id, inspect: info, old_image: imageDefaults(oldImage),
      } };
    } catch (err) {
      const e = await dockerFailure(err, await remote.dockerConn(s));
      return skip(t, 'unreachable', `${t.server_name}: ${e.message}`);
    }
  });
  const found = res.map((r) => (r.ok ? r.value : skip(r.item, 'failed', r.error.message)));
  const skipped = found.filter((f): f is Extract<Found, { kind: 'skip' }> => f.kind === 'skip').map((f) => f.v);
  const ts = found.filter((f): f is Extract<Found, { kind: 'target' }> => f.kind === 'target').map((f) => f.v);
  const batches = formBatches(ts.map((x) => ({ ...x, server: x.t.server_id! })), o.batch, o.perServer);
  const out: UpgradeTarget[] = [];
  batches.forEach((b, i) => { for (const x of b) { const { server: _s, ...rest } = x; out.push({ ...rest, batch: i + 1 }); } });
  return { targets: out, skipped };
}

export interface GateOptions {
  healthTimeoutMs: number;
  via: Via;
  tokens: Map<string, string | null>;
  ca: string | null;
  /** Ctrl-C: stops a readiness wait of the new containers (the batch then rolls back) */
  interrupt: AbortSignal;
}

/**
 * A container being restored (rollback) has run before: it gets at least this long to be ready
 * again, whatever --health-timeout says (a short timeout is for judging the new image).
 */
export const RESTORE_TIMEOUT_MS = 300_000;

/** Wait until the instance's gateway says ready (through its server's SSH connection, or directly). */
async function gate(remote: RemoteSession, t: InstanceTarget, g: GateOptions, signal?: AbortSignal, restore = false): Promise<GatewayHealth & { ms: number }> {
  const { waitReady, viaSsh } = await import('../../remote/probe.js');
  const base = probeBase(t, g.via);
  const t0 = performance.now();
  if (!base) return { state: 'unreachable', live: null, ready: null, reason: 'no gateway_url or gateway_port to probe', failing: null, http_status: null, latency_ms: null, token_sent: false, ms: 0 };
  const stream = g.via === 'ssh' ? viaSsh(await remote.conn(serverOf(t)), base, remote.signal) : undefined;
  const h = await waitReady({ base, stream, token: g.tokens.get(t.id) ?? null, ca: g.ca }, restore ? Math.max(g.healthTimeoutMs, RESTORE_TIMEOUT_MS) : g.healthTimeoutMs, signal);
  return { ...h, ms: Math.round(performance.now() - t0) };
}

const why = (h: GatewayHealth, timeoutMs: number, interrupted: boolean) =>
  interrupted ? 'interrupted before it was ready' : `not ready within ${Math.round(timeoutMs / 1000)} s: ${h.state}${h.reason ? ` (${h.reason})` : ''}`;

/** One instance's swap, step by step, so a rollback undoes exactly what was done. */
interface Swap {
  u: UpgradeTarget;
  docker: Dockerode;
  old: Dockerode.Container;
  stopped: boolean;
  prevMoved: boolean;
  renamed: boolean;
  created: Dockerode.Container | null;
  newId: string | null;
  error: string | null;
  readyMs: number | null;
}

async function step<T>(what: string, f: () => Promise<T>): Promise<T> {
  try { return await f(); } catch (err) {
    const { dockerFailure } = await import('../../remote/docker.js');
    throw new Error(`${what}: ${(await dockerFailure(err)).message.replace(/^docker: /, '')}`, { cause: err });
  }
}

async function swapOne(s: Swap, stopTimeoutSec: number): Promise<void> {
  const { u, docker, old } = s;
  const now = await step('inspect', () => old.inspect());
  if (now.Image !== u.from_image_id || !now.State.Running) throw new Error(`the container changed since the plan (now ${now.State.Status}, image ${now.Config.Image}); nothing done`);
  await step('stop', async () => { try { await old.stop({ t: stopTimeoutSec }); } catch (e) { if ((e as DockerErr).statusCode !== 304) throw e; } });
  s.stopped = true;
  if (u.replaces_prev) {
    await step(`rename ${prevName(u.id)}`, () => docker.getContainer(prevName(u.id)).rename({ name: prevOldName(u.id) }));
    s.prevMoved = true;
  }
  await step('rename', () => old.rename({ name: prevName(u.id) }));
  s.renamed = true;
  const opts = createOptionsFrom(u.inspect, u.old_image, u.to_image, u.container);
  s.created = await step('create', () => docker.createContainer(opts));
  s.newId = s.created.id;
  await step('start', () => s.created!.start());
}

/** Undo what swapOne did; then the old container runs again and must be ready. */
async function undoSwap(remote: RemoteSession, s: Swap, g: GateOptions): Promise<string | null> {
  const { u, docker, old } = s;
  const errors: string[] = [];
  const attempt = async (what: string, f: () => Promise<unknown>) => { try { await step(what, f); } catch (e) { errors.push((e as Error).message); } };
  if (s.created) await attempt('remove the new container', () => s.created!.remove({ force: true }));
  if (s.renamed) await attempt(`rename ${prevName(u.id)} back`, () => old.rename({ name: u.container }));
  if (s.prevMoved) await attempt(`rename ${prevOldName(u.id)} back`, () => docker.getContainer(prevOldName(u.id)).rename({ name: prevName(u.id) }));
  if (s.stopped) {
    await attempt('start the old container', async () => { try { await old.start(); } catch (e) { if ((e as DockerErr).statusCode !== 304) throw e; } });
    if (!errors.length) {
      const h = await gate(remote, u.t, g, undefined, true);
      if (h.state !== 'healthy') errors.push(`the old container is ${why(h, Math.max(g.healthTimeoutMs, RESTORE_TIMEOUT_MS), false)}`);
    }
  }
  return errors.length ? errors.join('; ') : null;
}

export interface ApplyOptions extends GateOptions {
  stopTimeoutSec: number;
  prune: boolean;
  actor: Actor;
  reason: string | null;
  /** after each instance settles (progress) */
  onSettled?: (r: UpgradeResult) => void;
  /** before each batch */
  onBatch?: (n: number, of: number, ids: string[]) => void;
}

/**
 * Pull where needed, then the batches in order. Ctrl-C (g.interrupt) lets the batch in flight
 * finish its docker steps, then rolls it back unless every instance in it was already ready;
 * later batches are not started. Never throws for an instance: the results say what happened.
 */
export async function applyUpgrade(db: Kysely<MysqlDB>, remote: RemoteSession, targets: UpgradeTarget[], o: ApplyOptions): Promise<UpgradeResult[]> {
  const results = new Map<string, UpgradeResult>();
  const base = (u: UpgradeTarget): UpgradeResult => ({ id: u.id, server_name: u.server_name, batch: u.batch, from_image: u.from_image, to_image: u.to_image,
    result: 'not-started', container: null, ready_ms: null, error: null });
  for (const u of targets) results.set(u.id, base(u));
  const settle = (r: UpgradeResult) => { results.set(r.id, r); o.onSettled?.(r); };
  let stopped: string | null = null;

  // pull the image once per server that lacks it; a failed pull stops the rollout before any swap
  const toPull = new Map<string, UpgradeTarget>();
  for (const u of targets) if (u.pull && !toPull.has(u.t.server_id!)) toPull.set(u.t.server_id!, u);
  const pullErrors = new Map<string, string>();
  await Promise.all([...toPull.values()].map(async (u) => {
    try {
      const docker = await remote.docker(serverOf(u.t), { timeoutMs: 0 });
      await step(`pull ${u.to_image}`, async () => {
        const stream = await docker.pull(u.to_image);
        await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
      });
      const img = await docker.getImage(u.to_image).inspect();
      for (const x of targets) if (x.t.server_id === u.t.server_id && x.from_image_id === img.Id) settle({ ...base(x), result: 'skipped', error: `already on ${u.to_image} (after the pull)` });
    } catch (e) { pullErrors.set(u.t.server_id!, (e as Error).message); }
  }));
  if (pullErrors.size) {
    for (const u of targets) {
      const err = pullErrors.get(u.t.server_id!);
      results.set(u.id, { ...results.get(u.id)!, error: err ? `${err}; nothing changed` : `not started: the pull failed on another server` });
    }
    return [...results.values()];
  }

  const nBatches = Math.max(0, ...targets.map((u) => u.batch));
  for (let b = 1; b <= nBatches; b++) {
    const batch = targets.filter((u) => u.batch === b && results.get(u.id)!.result === 'not-started');
    if (!batch.length) continue;
    if (o.interrupt.aborted) { stopped = 'interrupted'; break; }
    o.onBatch?.(b, nBatches, batch.map((u) => u.id));
    const swaps: Swap[] = [];
    for (const u of batch) {
      // a stop may take --stop-timeout: the request must be allowed to wait that long
      const docker = await remote.docker(serverOf(u.t), { timeoutMs: Math.max(remote.commandTimeoutMs, (o.stopTimeoutSec + 30) * 1000) });
      swaps.push({ u, docker, old: docker.getContainer(u.container_full_id), stopped: false, prevMoved: false, renamed: false, created: null, newId: null, error: null, readyMs: null });
    }
    // docker steps of the batch in parallel (different servers, or --per-server), then the gates
    await Promise.all(swaps.map(async (s) => {
      try { await swapOne(s, o.stopTimeoutSec); } catch (e) { s.error = (e as Error).message; }
    }));
    await Promise.all(swaps.filter((s) => !s.error).map(async (s) => {
      // a failed sibling does not cut the others' waits short: each instance's own outcome is reported
      const h = await gate(remote, s.u.t, o, o.interrupt);
      if (h.state === 'healthy') s.readyMs = h.ms;
      else s.error = `new container ${why(h, o.healthTimeoutMs, o.interrupt.aborted)}`;
    }));
    const failed = swaps.filter((s) => s.error);
    if (failed.length) {
      const cause = failed.map((s) => `${s.u.id}: ${s.error}`).join('; ');
      await Promise.all(swaps.map(async (s) => {
        const undoErr = await undoSwap(remote, s, o);
        const own = s.error ?? `rolled back with its batch (${cause})`;
        settle({ ...base(s.u), result: undoErr ? 'rollback-failed' : 'rolled-back', container: s.u.container_full_id.slice(0, 12),
          error: undoErr ? `${own}; rollback: ${undoErr}; look with: sayclaw servers exec ${s.u.server_name} -- docker ps -a --filter name=${s.u.id}, then sayclaw instances rollback ${s.u.id}` : own });
      }));
      stopped = o.interrupt.aborted ? 'interrupted' : `batch ${b} failed`;
    } else {
      await Promise.all(swaps.map(async (s) => {
        // the swap stands: the ID.prev it replaced goes, and with --prune the new ID.prev too
        const notes: string[] = [];
        if (s.prevMoved) await step(`remove ${prevOldName(s.u.id)}`, () => s.docker.getContainer(prevOldName(s.u.id)).remove({ force: true })).catch((e: Error) => notes.push(e.message));
        if (o.prune) await step(`remove ${prevName(s.u.id)}`, () => s.old.remove({ force: true })).catch((e: Error) => notes.push(e.message));
        settle({ ...base(s.u), result: 'upgraded', container: s.newId!.slice(0, 12), ready_ms: s.readyMs, error: notes.length ? `upgraded; ${notes.join('; ')}` : null });
      }));
    }
    await auditUpgrades(db, o.actor, swaps, [...results.values()], o.reason, o.prune);
    if (stopped) break;
  }
  if (stopped) {
    for (const r of results.values()) if (r.result === 'not-started') r.error = stopped === 'interrupted' ? 'not started: interrupted' : `not started: ${stopped}, rollout stopped`;
  }
  return [...results.values()];
}

/** One transaction per touched instance: its audit row, and the row's container_id when it named the old container. */
async function auditUpgrades(db: Kysely<MysqlDB>, actor: Actor, swaps: Swap[], results: UpgradeResult[], reason: string | null, prune: boolean): Promise<void> {
  for (const s of swaps) {
    const r = results.find((x) => x.id === s.u.id)!;
    if (r.result === 'not-started') continue;
    await inTransaction(db, async (trx) => {
      const row = await trx.selectFrom('admin.oc_instances').select(['container_id']).where('id', '=', s.u.id).forUpdate().executeTakeFirst();
      let containerId = row?.container_id ?? null;
      if (r.result === 'upgraded' && s.newId && containerId && s.u.container_full_id.startsWith(containerId)) {
        containerId = s.newId.slice(0, Math.max(12, containerId.length));
        await trx.updateTable('admin.oc_instances').set({ container_id: containerId }).where('id', '=', s.u.id).execute();
      }
      await writeAudit(trx, actor, { action: 'instances.upgrade', target_type: 'instance', target_id: s.u.id, reason,
        before: { image: s.u.from_image, image_id: s.u.from_image_id, container: s.u.container_full_id.slice(0, 12), container_id: row?.container_id ?? null },
        after: { image: r.result === 'upgraded' ? s.u.to_image : s.u.from_image, result: r.result, to_image: s.u.to_image, batch: s.u.batch,
          container: r.result === 'upgraded' ? s.newId!.slice(0, 12) : s.u.container_full_id.slice(0, 12), container_id: containerId,
          previous_container: r.result === 'upgraded' && !prune ? prevName(s.u.id) : null, error: r.error } });
    });
  }
}

// ---- rollback and prune ----

export interface RollbackTarget {
  id: string;
  server_name: string | null;
  /** current container and image */
  container: string;
  image: string;
  /** the previous container and its image */
  previous: string;
  previous_image: string;
  t: InstanceTarget;
  current_full_id: string;
  previous_full_id: string;
  current_running: boolean;
  previous_running: boolean;
}

/** Per instance: its current container and its ID.prev (skipped when there is none). */
export async function planRollback(remote: RemoteSession, targets: InstanceTarget[]): Promise<{ targets: RollbackTarget[]; skipped: UpgradeSkip[] }> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { dockerFailure } = await import('../../remote/docker.js');
  const res = await fanOut(targets, { concurrency: remote.concurrency, signal: remote.signal }, async (t): Promise<RollbackTarget | UpgradeSkip> => {
    const sk = (result: string, reason: string): UpgradeSkip => ({ id: t.id, result, reason, left: true });
    if (!t.server_id || !t.server_ip) return sk('no-server', 'has no server (or the server has no ip)');
    const s = serverOf(t);
    try {
      const docker = await remote.docker(s);
      const prev = await inspectOrNull(docker, prevName(t.id));
      if (!prev) return sk('no-previous', `no previous container ${prevName(t.id)} on ${t.server_name} (pruned, or never upgraded)`);
      let cur;
      try { cur = (await findContainer(docker, t)).info; } catch (e) { if (e instanceof NotFoundError) return sk('no-container', e.message); throw e; }
      if (cur.Id === prev.Id) return sk('in-flight', `its container is ${prevName(t.id)}: an upgrade did not finish; check with sayclaw servers exec ${t.server_name} -- docker ps -a`);
      if (await inspectOrNull(docker, nextName(t.id))) return sk('in-flight', `a container ${nextName(t.id)} is left from an interrupted rollback; check it and remove it`);
      return { id: t.id, server_name: t.server_name, container: cur.Name.replace(/^\//, ''), image: cur.Config.Image, previous: prevName(t.id), previous_image: prev.Config.Image,
        t, current_full_id: cur.Id, previous_full_id: prev.Id, current_running: cur.State.Running, previous_running: prev.State.Running };
    } catch (err) {
      return sk('unreachable', `${t.server_name}: ${(await dockerFailure(err, await remote.dockerConn(s))).message}`);
    }
  });
  const all = res.map((r) => (r.ok ? r.value : { id: r.item.id, result: 'failed', reason: r.error.message, left: true }));
  return { targets: all.filter((x): x is RollbackTarget => 'previous' in x), skipped: all.filter((x): x is UpgradeSkip => !('previous' in x)) };
}

export interface RollbackResult { id: string; server_name: string | null; action: 'rollback' | 'prune'; result: 'rolled-back' | 'pruned' | 'failed' | 'restore-failed' | 'not-started'; image: string | null; container: string | null; ready_ms: number | null; error: string | null }

/**
 * Swap back to ID.prev: stop the current container, rename it ID.next, rename ID.prev to the
 * instance's name, start it, wait until ready; then the container it replaced becomes ID.prev
 * (a second rollback swaps forward again). Not ready: undone the same way. One server's
 * instances one at a time, servers in parallel.
 */
export async function applyRollback(db: Kysely<MysqlDB>, remote: RemoteSession, targets: RollbackTarget[], o: GateOptions & { stopTimeoutSec: number; actor: Actor; reason: string | null }): Promise<RollbackResult[]> {
  const byServer = new Map<string, RollbackTarget[]>();
  for (const r of targets) byServer.set(r.t.server_id!, [...(byServer.get(r.t.server_id!) ?? []), r]);
  const out = new Map<string, RollbackResult>();
  for (const r of targets) out.set(r.id, { id: r.id, server_name: r.server_name, action: 'rollback', result: 'not-started', image: r.image, container: null, ready_ms: null, error: 'not started: interrupted' });
  await Promise.all([...byServer.values()].map(async (list) => {
    for (const r of list) {
      if (o.interrupt.aborted) return;
      const docker = await remote.docker(serverOf(r.t), { timeoutMs: Math.max(remote.commandTimeoutMs, (o.stopTimeoutSec + 30) * 1000) });
      const cur = docker.getContainer(r.current_full_id);
      const prev = docker.getContainer(r.previous_full_id);
      const done: string[] = [];
      let error: string | null = null;
      let readyMs: number | null = null;
      try {
        await step('stop', async () => { try { await cur.stop({ t: o.stopTimeoutSec }); } catch (e) { if ((e as DockerErr).statusCode !== 304) throw e; } });
        done.push('stopped');
        await step('rename', () => cur.rename({ name: nextName(r.id) }));
        done.push('renamed');
        await step(`rename ${r.previous}`, () => prev.rename({ name: r.container }));
        done.push('prev-renamed');
        await step('start', async () => { try { await prev.start(); } catch (e) { if ((e as DockerErr).statusCode !== 304) throw e; } });
        done.push('started');
        const h = await gate(remote, r.t, o, o.interrupt);
        if (h.state !== 'healthy') throw new Error(`previous container ${why(h, o.healthTimeoutMs, o.interrupt.aborted)}`);
        readyMs = h.ms;
        await step(`rename ${nextName(r.id)}`, () => cur.rename({ name: prevName(r.id) }));
      } catch (e) {
        error = (e as Error).message;
      }
      let result: RollbackResult['result'] = 'rolled-back';
      if (error) {
        // undo: the current container back under its name, running and ready
        const errs: string[] = [];
        const attempt = async (what: string, f: () => Promise<unknown>) => { try { await step(what, f); } catch (x) { errs.push((x as Error).message); } };
        if (done.includes('started')) await attempt('stop the previous container', async () => { try { await prev.stop({ t: o.stopTimeoutSec }); } catch (x) { if ((x as DockerErr).statusCode !== 304) throw x; } });
        if (done.includes('prev-renamed')) await attempt(`rename back to ${r.previous}`, () => prev.rename({ name: r.previous }));
        if (done.includes('renamed')) await attempt('rename back', () => cur.rename({ name: r.container }));
        if (done.includes('stopped') && r.current_running) {
          await attempt('start', async () => { try { await cur.start(); } catch (x) { if ((x as DockerErr).statusCode !== 304) throw x; } });
          if (!errs.length) { const h = await gate(remote, r.t, o, undefined, true); if (h.state !== 'healthy') errs.push(`the current container is ${why(h, Math.max(o.healthTimeoutMs, RESTORE_TIMEOUT_MS), false)}`); }
        }
        result = errs.length ? 'restore-failed' : 'failed';
        if (errs.length) error = `${error}; restoring: ${errs.join('; ')}`;
      }
      const res: RollbackResult = { id: r.id, server_name: r.server_name, action: 'rollback', result, image: result === 'rolled-back' ? r.previous_image : r.image,
        container: (result === 'rolled-back' ? r.previous_full_id : r.current_full_id).slice(0, 12), ready_ms: readyMs, error };
      out.set(r.id, res);
      if (done.length) {
        await inTransaction(db, async (trx) => {
          const row = await trx.selectFrom('admin.oc_instances').select(['container_id']).where('id', '=', r.id).forUpdate().executeTakeFirst();
          let containerId = row?.container_id ?? null;
          if (result === 'rolled-back' && containerId && r.current_full_id.startsWith(containerId)) {
            containerId = r.previous_full_id.slice(0, Math.max(12, containerId.length));
            await trx.updateTable('admin.oc_instances').set({ container_id: containerId }).where('id', '=', r.id).execute();
          }
          await writeAudit(trx, o.actor, { action: 'instances.rollback', target_type: 'instance', target_id: r.id, reason: o.reason,
            before: { image: r.image, container: r.current_full_id.slice(0, 12), previous_image: r.previous_image, container_id: row?.container_id ?? null },
            after: { image: res.image, container: res.container, result, container_id: containerId, error } });
        });
      }
    }
  }));
  return [...out.values()];
}

/** Remove the stopped ID.prev containers (a running one is left alone and reported). */
export async function applyPrune(db: Kysely<MysqlDB>, remote: RemoteSession, targets: RollbackTarget[], o: { actor: Actor; reason: string | null }): Promise<RollbackResult[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const res = await fanOut(targets, { concurrency: remote.concurrency, signal: remote.signal }, async (r) => {
    if (r.previous_running) throw new Error(`${r.previous} is running; stop it first`);
    const docker = await remote.docker(serverOf(r.t));
    await step(`remove ${r.previous}`, () => docker.getContainer(r.previous_full_id).remove({ force: false }));
    await inTransaction(db, async (trx) => {
      await writeAudit(trx, o.actor, { action: 'instances.prune', target_type: 'instance', target_id: r.id, reason: o.reason,
        before: { previous: r.previous, previous_image: r.previous_image, container: r.previous_full_id.slice(0, 12) }, after: { previous: null } });
    });
  });
  return res.map((x) => ({ id: x.item.id, server_name: x.item.server_name, action: 'prune' as const, result: x.ok ? 'pruned' as const : 'failed' as const,
    image: x.item.previous_image, container: x.item.previous_full_id.slice(0, 12), ready_ms: null, error: x.ok ? null : x.error.message }));
}
