// sayclaw instances create: plan (ids, server, port, secrets) -> container over the server's
// SSH connection -> readiness gate (/readyz ready: true) -> ONE transaction (One API token,
// oc_api_keys mapping, oc_instances row, assignment, audit row). Any failure undoes what was
// done, in reverse: the container and the volume it created are removed, nothing is committed.
//
// Ports: a gateway port is chosen under a MySQL named lock per server address
// (GET_LOCK('sayclaw:<admin db>:ports:<ip>')), held only while the port is picked and the
// container is created: the created container carries the label sayclaw.port=P, and every
// later pick reads those labels (on every engine behind that address), the alive rows and the
// soft-deleted rows whose container still exists, and the host's listening sockets. So two
// sayclaw processes creating on one server never pick the same port, without holding the lock
// through the gateway's ~10 s start.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type Dockerode from 'dockerode';
import type { MysqlDB } from '../../db/types.js';
import { eqExact, likePrefix, naturalCompare } from '../../db/sql-helpers.js';
import { ExitCode, InterruptedError, NotFoundError, SayclawError, UsageError, firstLine } from '../../errors.js';
import { inTransaction } from '../../db/transaction.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { findTemplate, type Template } from '../templates/registry.js';
import { findServer, listServers, type ServerRow } from '../servers/registry.js';
import { assignInTrx, portalUser, type PortalUserRef } from './assignment.js';
import type { LifecycleRemote } from './lifecycle-remote.js';
import type { GatewayHealth } from '../../remote/probe.js';

export const DEFAULT_WAIT_MS = 120_000;
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const VOLUME_SUFFIX = '-state';
export const STATE_DIR = '/home/node/.openclaw';

export interface CreateRequest {
  id?: string;
  template: string;
  server?: string;
  region?: string;
  user?: string;
  prefix?: string;
  count: number;
}

export interface PlannedInstance {
  id: string;
  server: ServerRow;
  server_name: string;
  /** the port the database alone leaves free (the real pick happens under the lock) */
  port_hint: number | null;
  alive_on_server: number;
  free_mem_mb: number | null;
}

export interface CreatePlan {
  template: Template;
  user: PortalUserRef | null;
  items: PlannedInstance[];
  /** One API users.id that owns the new tokens */
  oneapiUserId: string;
  oneApiBaseUrl: string | null;
}

export type CreateStep = 'port' | 'container' | 'start' | 'ready' | 'commit';

export interface CreateResult {
  id: string;
  server_name: string;
  gateway_port: number | null;
  gateway_url: string | null;
  container_id: string | null;
  result: 'created' | 'failed' | 'unknown';
  step: CreateStep | null;
  error: string | null;
  ms: number;
}

/** A failure at one step; `undone` says what was removed again. */
export class CreateStepError extends SayclawError {
  constructor(readonly step: CreateStep, message: string, exitCode: number, readonly undone: string[], opts: { hint?: string; cause?: unknown } = {}) {
    super(message, exitCode, opts);
  }
}

// ---- planning --------------------------------------------------------------------------

/** 48 characters of [A-Za-z0-9], uniformly (One API's key shape, stored without sk-). */
export function newOneApiKey(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 48; i++) out += abc[randomInt(abc.length)];
  return out;
}

export function newGatewayToken(): string { return randomBytes(24).toString('hex'); }

/** The next `count` ids after the highest number used under prefix (any row, deleted too: ids are never reused). */
export function nextIds(prefix: string, existing: string[], count: number): string[] {
  let max = 0;
  for (const id of existing) {
    if (!id.startsWith(prefix)) continue;
    const rest = id.slice(prefix.length);
    if (/^\d+$/.test(rest)) max = Math.max(max, Number(rest));
  }
  return Array.from({ length: count }, (_, i) => `${prefix}${String(max + 1 + i).padStart(2, '0')}`);
}

async function oneApiOwner(db: Kysely<MysqlDB>): Promise<string> {
  try {
    const r = await sql<{ id: string | number }>`SELECT id FROM ${sql.table('oneapi.users')} WHERE role >= 100 ORDER BY id LIMIT 1`.execute(db);
    if (r.rows[0]) return String(r.rows[0].id);
  } catch { /* no users table (a logs-only copy): the root user's id */ }
  return '1';
}

/** MemAvailable of each server in MB, null when it cannot be read (unreachable: still a candidate). */
async function freeMemory(remote: LifecycleRemote, servers: ServerRow[]): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  await Promise.all(servers.map(async (s) => {
    try {
      const conn = await remote.conn(s);
      const r = await conn.exec("awk '/^MemAvailable:/ {print $2}' /proc/meminfo", { timeoutMs: 5000 });
      const kb = Number(r.stdout.trim());
      out.set(s.id, r.code === 0 && Number.isFinite(kb) && kb > 0 ? Math.floor(kb / 1024) : null);
    } catch { out.set(s.id, null); }
  }));
  return out;
}

/** Ports the database says are taken on servers at this address (all rows; deleted ones are filtered later). */
async function dbPorts(db: Kysely<MysqlDB>, ip: string): Promise<Array<{ id: string; container_id: string | null; port: number; deleted: boolean }>> {
  const rows = await db.selectFrom('admin.oc_instances as i').innerJoin('admin.servers as s', 's.id', 'i.server_id')
    .select(['i.id', 'i.container_id', 'i.gateway_port', 'i.deleted_at']).where(eqExact('s.ip', ip)).where('i.gateway_port', 'is not', null).execute();
  return rows.map((r) => ({ id: r.id, container_id: r.container_id, port: Number(r.gateway_port), deleted: r.deleted_at !== null }));
}

export async function planCreate(db: Kysely<MysqlDB>, remote: LifecycleRemote | null, req: CreateRequest, oneApiBaseUrl: string | null): Promise<CreatePlan> {
  if (req.server && req.region) throw new UsageError('give --server or --region, not both');
  if (req.id && req.prefix) throw new UsageError('give an instance id or --prefix, not both');
  if (!req.id && !req.prefix) throw new UsageError('name the new instance: an id, or --prefix P [--count N]', { hint: 'e.g. sayclaw instances create oc-ai-jp-2-12 --template standard --region jp-2' });
  if (req.id && req.count !== 1) throw new UsageError('--count needs --prefix (the ids are numbered after it)');
  if (req.id && !ID_RE.test(req.id)) throw new UsageError(`invalid instance id "${req.id}"`, { hint: 'letters, digits, dot, dash and underscore, starting with a letter or digit (it is also the container name)' });
  if (req.prefix && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,90}$/.test(req.prefix)) throw new UsageError(`invalid --prefix "${req.prefix}"`, { hint: 'e.g. --prefix oc-ai-jp-2-' });
  const template = await findTemplate(db, req.template);
  const user = req.user ? await portalUser(db, req.user) : null;
  if (user && req.count > 1) throw new UsageError('--user assigns one instance; create one at a time with --user, or assign afterwards');
  if (user && user.status === 'revoked') throw new UsageError(`user ${user.email} is revoked; nothing changed`, { hint: `restore the user first: sayclaw users restore ${user.email}` });

  let ids: string[];
  if (req.id) {
    const hit = await db.selectFrom('admin.oc_instances').select(['id', 'deleted_at']).where(eqExact('id', req.id)).executeTakeFirst();
    if (hit) {
      throw new UsageError(`instance ${req.id} already exists${hit.deleted_at ? ' (soft-deleted)' : ''}; nothing changed`, {
        hint: hit.deleted_at ? `bring it back with: sayclaw instances recommission ${req.id}` : 'choose another id, or --prefix P for the next free number' });
    }
    ids = [req.id];
  } else {
    const existing = await db.selectFrom('admin.oc_instances').select('id').where(likePrefix('id', req.prefix!)).execute();
    ids = nextIds(req.prefix!, existing.map((r) => r.id), req.count);
  }

  // the servers: the one named, or the alive active ones of the region (or of the fleet)
  let candidates: ServerRow[];
  if (req.server) {
    const s = await findServer(db, req.server, false);
    if (s.status !== 'active') throw new UsageError(`server ${s.name ?? s.id} is ${s.status}, not active; nothing changed`, { hint: `sayclaw servers update ${s.name ?? s.id} --status active, or choose another` });
    candidates = [s];
  } else {
    const rows = await listServers(db, { region: req.region, state: 'alive' });
    if (req.region && !rows.length) throw new NotFoundError(`no alive servers in region ${req.region}`, { hint: 'list them with: sayclaw servers ls' });
    candidates = rows.filter((r) => r.status === 'active' && r.ip);
    if (!candidates.length) throw new SayclawError(`no capacity: no alive active server${req.region ? ` in region ${req.region}` : ''}; nothing changed`, ExitCode.RUNTIME, { hint: 'sayclaw servers ls' });
  }
  for (const s of candidates) if (!s.ip) throw new UsageError(`server ${s.name ?? s.id} has no ip`);
  const counts = new Map<string, number>();
  for (const s of candidates) {
    const n = await db.selectFrom('admin.oc_instances').select(sql<number>`COUNT(*)`.as('n')).where('server_id', '=', s.id).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    counts.set(s.id, Number(n.n));
  }
  const mem = remote && candidates.length > 1 ? await freeMemory(remote, candidates) : new Map<string, number | null>();
  const need = template.memory_mb ?? 0;
  const fits = candidates.filter((s) => { const m = mem.get(s.id); return m === null || m === undefined || m >= need; });
  if (!fits.length) {
    throw new SayclawError(`no capacity: every candidate server has less than ${need} MB of memory free; nothing changed`, ExitCode.RUNTIME, {
      hint: 'sayclaw servers check --all shows free memory; lower the template\'s --memory-mb or add a server' });
  }
  // fewest alive instances per GB first (planned ones count), then most free memory (unknown last)
  const perGb = (s: ServerRow) => (counts.get(s.id) ?? 0) / Math.max(1, s.memory_gb ?? 1);
  const items: PlannedInstance[] = [];
  const hints = new Map<string, Set<number>>();
  for (const id of ids) {
    const s = [...fits].sort((a, b) => perGb(a) - perGb(b) || ((mem.get(b.id) ?? -1) - (mem.get(a.id) ?? -1)) || naturalCompare(a.name ?? a.id, b.name ?? b.id))[0]!;
    counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
    const taken = hints.get(s.ip!) ?? new Set((await dbPorts(db, s.ip!)).filter((p) => !p.deleted).map((p) => p.port));
    hints.set(s.ip!, taken);
    const hint = pickPort(template.port_min, template.port_max, taken, new Set(), template.network);
    if (hint !== null) taken.add(hint);
    items.push({ id, server: s, server_name: s.name ?? s.id, port_hint: hint, alive_on_server: (counts.get(s.id) ?? 1) - 1, free_mem_mb: mem.get(s.id) ?? null });
  }
  return { template, user, items, oneapiUserId: await oneApiOwner(db), oneApiBaseUrl };
}

// ---- the port pick under the lock ------------------------------------------------------

/**
 * On the host network a gateway also listens on ports derived from its own (browser control
 * base+2, canvas base+4, browser CDP ports above): OpenClaw's docs/gateway/multiple-gateways.md
 * asks for at least 20 ports between base ports. With bridge networking only the published port
 * is on the host.
 */
export const HOST_PORT_SPACING = 20;

/** The lowest port of [min, max] clear of the gateways' ports (spaced on the host network) and of listeners. */
export function pickPort(min: number, max: number, gateways: Set<number>, listening: Set<number>, network: 'host' | 'bridge'): number | null {
  const spacing = network === 'host' ? HOST_PORT_SPACING : 1;
  const gw = [...gateways];
  for (let p = min; p <= max; p++) {
    if (gw.some((q) => Math.abs(p - q) < spacing)) continue;
    let busy = false;
    for (let d = 0; d < spacing && !busy; d++) if (listening.has(p + d)) busy = true;
    if (!busy) return p;
  }
  return null;
}

function lockName(adminDb: string, ip: string): string {
  const n = `sayclaw:${adminDb}:ports:${ip}`;
  return n.length <= 64 ? n : `sayclaw:ports:${createHash('sha256').update(n).digest('hex').slice(0, 40)}`;
}

/** Listening TCP ports of the host (/proc/net/tcp and tcp6: state 0A). */
export function listeningPorts(procNetTcp: string): Set<number> {
  const out = new Set<number>();
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== '0A') continue;
    const m = /:([0-9A-Fa-f]{4})$/.exec(f[1] ?? '');
    if (m) out.add(parseInt(m[1]!, 16));
  }
  return out;
}

/** Ports in use by containers of an engine: sayclaw.port labels and published host ports. */
function containerPorts(list: Dockerode.ContainerInfo[]): { ports: Set<number>; names: Set<string>; ids: string[] } {
  const ports = new Set<number>();
  const names = new Set<string>();
  const ids: string[] = [];
  for (const c of list) {
    const p = Number(c.Labels?.['sayclaw.port']);
    if (Number.isInteger(p) && p > 0) ports.add(p);
    for (const b of c.Ports ?? []) if (b.PublicPort) ports.add(b.PublicPort);
    for (const n of c.Names ?? []) names.add(n.replace(/^\//, ''));
    ids.push(c.Id);
  }
  return { ports, names, ids };
}

export interface PortPick { port: number; taken: number }

/**
 * Pick the lowest free port of the range on this server's address and create the container
 * while the named lock is held (see the top of this file). `make` creates the container with
 * the label sayclaw.port; what it returns is returned.
 */
async function withPortLock<T>(db: Kysely<MysqlDB>, remote: LifecycleRemote, adminDb: string, s: ServerRow, tpl: Template,
  make: (port: number) => Promise<T>, signal: AbortSignal): Promise<T> {
  const name = lockName(adminDb, s.ip!);
  // every query below runs on this one connection: waiters hold theirs, so the holder must not need another
  return db.connection().execute(async (conn) => {
    // wait for the lock in short rounds, so Ctrl-C is noticed
    for (let waited = 0; ; waited += 2) {
      if (signal.aborted) throw new InterruptedError();
      const r = await sql<{ got: number | string | null }>`SELECT GET_LOCK(${name}, 2) AS got`.execute(conn);
      if (Number(r.rows[0]?.got) === 1) break;
      if (waited >= 60) throw new SayclawError(`another sayclaw has held the port lock of ${s.ip} for over a minute`, ExitCode.LOCKED, { hint: `see who: SELECT IS_USED_LOCK('${name}')` });
    }
    try {
      const peers = (await listServers(conn, { state: 'alive' })).filter((x) => x.ip === s.ip);
      if (!peers.some((p) => p.id === s.id)) peers.push({ ...s, alive_instances: 0 });
      const taken = new Set<number>();
      const listen = new Set<number>();
      const names = new Set<string>();
      const containerIds: string[] = [];
      for (const peer of peers) {
        try {
          const d = await remote.docker(peer);
          const c = containerPorts(await d.listContainers({ all: true }));
          c.ports.forEach((p) => taken.add(p));
          c.names.forEach((n) => names.add(n));
          containerIds.push(...c.ids);
        } catch (err) {
          // the server we create on must answer; a peer at the same address that does not is left out (its rows still count)
          if (peer.id === s.id) throw await remote.failure(err, peer);
        }
      }
      for (const r of await dbPorts(conn, s.ip!)) {
        const exists = names.has(r.id) || (!!r.container_id && r.container_id.length >= 12 && containerIds.some((i) => i.startsWith(r.container_id!)));
        if (!r.deleted || exists) taken.add(r.port);
      }
      const conn2 = remote.cfg.docker.transport === 'tls' ? null : await remote.conn(s);
      if (conn2) {
        const r = await conn2.exec('cat /proc/net/tcp /proc/net/tcp6 2>/dev/null', { timeoutMs: 10000 });
        listeningPorts(r.stdout).forEach((p) => listen.add(p));
      }
      const port = pickPort(tpl.port_min, tpl.port_max, taken, listen, tpl.network);
      if (port === null) {
        throw new SayclawError(`no free port in ${tpl.port_min}-${tpl.port_max} on ${s.name ?? s.id}`, ExitCode.RUNTIME, {
          hint: `widen the template's range: sayclaw templates update ${tpl.name} --port-range A-B` });
      }
      return await make(port);
    } finally {
      await sql`SELECT RELEASE_LOCK(${name})`.execute(conn).catch(() => undefined);
    }
  });
}

// ---- one instance ----------------------------------------------------------------------

export interface CreateDeps {
  db: Kysely<MysqlDB>;
  remote: LifecycleRemote;
  actor: Actor;
  adminDb: string;
  signal: AbortSignal;
  waitMs: number;
  reason: string | null;
  onWait?: (id: string, h: GatewayHealth, elapsedMs: number) => void;
}

function gatewayUrlOf(s: ServerRow, port: number): string {
  const host = s.ip!.includes(':') ? `[${s.ip}]` : s.ip!;
  return `http://${host}:${port}`;
}

/** The config the gateway is given (as environment variables), as recorded in config_json. */
function gatewayConfig(tpl: Template, port: number, token: string, key: string, baseUrl: string | null): Record<string, unknown> {
  return {
    gateway: { port: tpl.network === 'bridge' ? tpl.container_port : port, auth: { mode: 'token', token } },
    ...(tpl.network === 'bridge' ? { published_port: port } : {}),
    model: tpl.model,
    provider: { name: 'oneapi', baseUrl, apiKey: `sk-${key}` },
    template: tpl.name,
  };
}

/** Create one instance; throws CreateStepError after undoing what it did. */
export async function createInstance(deps: CreateDeps, plan: CreatePlan, item: PlannedInstance): Promise<CreateResult> {
  const t0 = performance.now();
  const { db, remote, signal } = deps;
  const tpl = plan.template;
  const s = item.server;
  const token = newGatewayToken();
  const key = newOneApiKey();
  const volume = `${item.id}${VOLUME_SUFFIX}`;
  const undo: Array<{ what: string; run: () => Promise<void> }> = [];
  let step: CreateStep = 'port';
  let port: number | null = null;
  let container: Dockerode.Container | null = null;
  let containerId: string | null = null;

  const fail = async (err: unknown): Promise<never> => {
    const undone: string[] = [];
    const notUndone: string[] = [];
    for (const u of undo.reverse()) {
      try { await u.run(); undone.push(u.what); } catch (e) { notUndone.push(`${u.what} (${firstLine((e as Error).message)})`); }
    }
    const interrupted = err instanceof InterruptedError || (signal.aborted && !(err instanceof SayclawError && err.exitCode !== ExitCode.INTERRUPTED));
    const cause = interrupted ? 'interrupted (Ctrl-C)' : firstLine((err as Error).message);
    const tail = [undone.length ? `undone: ${undone.join(', ')}` : 'nothing to undo',
      ...(notUndone.length ? [`NOT undone: ${notUndone.join(', ')}`] : []), 'nothing committed'].join('; ');
    const code = interrupted ? ExitCode.INTERRUPTED : err instanceof SayclawError ? err.exitCode : ExitCode.RUNTIME;
    throw new CreateStepError(step, `${item.id}: ${step} failed on ${item.server_name}: ${cause}; ${tail}`, code, undone, {
      hint: notUndone.length ? `remove it by hand: sayclaw servers exec ${item.server_name} -- docker rm -f ${item.id}` : (err as SayclawError).hint, cause: err });
  };
  const checkAbort = () => { if (signal.aborted) throw new InterruptedError(); };

  try {
    checkAbort();
    const docker = await remote.docker(s).catch(async (e) => { throw await remote.failure(e, s); });
    // port + container, under the server address's lock
    await withPortLock(db, remote, deps.adminDb, s, tpl, async (p) => {
      port = p;
      step = 'container';
      checkAbort();
      try {
        await docker.getVolume(volume).inspect();
        throw new UsageError(`volume ${volume} already exists on ${item.server_name} (left from an earlier container?)`, {
          hint: `look at it: sayclaw servers exec ${item.server_name} -- docker volume inspect ${volume}` });
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e instanceof SayclawError ? e : await remote.failure(e, s);
      }
      try {
        await docker.createVolume({ Name: volume, Labels: { 'sayclaw.instance': item.id } });
      } catch (e) { throw await remote.failure(e, s); }
      undo.push({ what: `volume ${volume}`, run: async () => { await docker.getVolume(volume).remove(); } });
      const inPort = tpl.network === 'bridge' ? tpl.container_port : p;
      const env = [...Object.entries(tpl.env).map(([k, v]) => `${k}=${v}`), `OPENCLAW_GATEWAY_PORT=${inPort}`, `OPENCLAW_GATEWAY_TOKEN=${token}`,
        `OPENAI_API_KEY=sk-${key}`, ...(plan.oneApiBaseUrl ? [`OPENAI_BASE_URL=${plan.oneApiBaseUrl}`] : [])];
      const spec: Dockerode.ContainerCreateOptions = {
        name: item.id, Image: tpl.image, Env: env,
        ...(tpl.command ? { Cmd: tpl.command } : {}),
        Labels: { 'sayclaw.instance': item.id, 'sayclaw.port': String(p), 'sayclaw.template': tpl.name },
        ...(tpl.network === 'bridge' ? { ExposedPorts: { [`${inPort}/tcp`]: {} } } : {}),
        HostConfig: {
          NetworkMode: tpl.network,
          RestartPolicy: { Name: 'unless-stopped' },
          Binds: [`${volume}:${STATE_DIR}`],
          ...(tpl.memory_mb ? { Memory: tpl.memory_mb * 1024 * 1024 } : {}),
          ...(tpl.network === 'bridge' ? { PortBindings: { [`${inPort}/tcp`]: [{ HostPort: String(p) }] } } : {}),
        },
      };
      try {
        container = await docker.createContainer(spec);
      } catch (e) {
        const sc = (e as { statusCode?: number }).statusCode;
        if (sc === 404) throw new SayclawError(`image ${tpl.image} is not on ${item.server_name}`, ExitCode.RUNTIME, { hint: `load it there first (docker pull/load), or change the template: sayclaw templates update ${tpl.name} --image ...`, cause: e });
        if (sc === 409) throw new SayclawError(`a container named ${item.id} already exists on ${item.server_name}`, ExitCode.RUNTIME, { hint: `look at it: sayclaw servers exec ${item.server_name} -- docker ps -a --filter name=${item.id}`, cause: e });
        throw await remote.failure(e, s);
      }
      containerId = container!.id;
      const c = container!;
      // removed before its volume (undo runs in reverse)
      undo.push({ what: `container ${item.id}`, run: async () => { await c.remove({ force: true }); } });
    }, signal);

    step = 'start';
    checkAbort();
    try { await container!.start(); } catch (e) { throw await remote.failure(e, s); }

    step = 'ready';
    checkAbort();
    const url = gatewayUrlOf(s, port!);
    const { waitReady } = await import('../../remote/probe.js');
    const target = await remote.gateway(s, port!, url, token);
    const h = await waitReady(target, deps.waitMs, signal, (x, ms) => deps.onWait?.(item.id, x, ms), { intervalMs: 250 });
    checkAbort();
    if (h.state !== 'healthy') {
      let state = '';
      try { state = (await container!.inspect()).State.Status; } catch { /* keep the probe's reason */ }
      throw new SayclawError(`gateway not ready within ${Math.round(deps.waitMs / 1000)} s (${h.state}: ${h.reason ?? 'no reason given'}${state && state !== 'running' ? `; container ${state}` : ''})`, ExitCode.RUNTIME, {
        hint: `look at its log before re-running: the container is removed (raise --wait if the gateway is only slow)` });
    }

    step = 'commit';
    const config = gatewayConfig(tpl, port!, token, key, plan.oneApiBaseUrl);
    await commitCreate(deps, plan, item, { port: port!, url, token, key, containerId: containerId!, config });
    return { id: item.id, server_name: item.server_name, gateway_port: port, gateway_url: url, container_id: containerId!.slice(0, 12), result: 'created', step: null, error: null, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    // a COMMIT whose outcome is unknown: the row may exist, so the container stays
    if (step === 'commit' && /outcome unknown/.test((err as Error).message)) {
      throw new CreateStepError('commit', `${item.id}: ${(err as Error).message}; the container ${item.id} on ${item.server_name} was kept (it is labelled sayclaw.instance=${item.id})`,
        (err as SayclawError).exitCode ?? ExitCode.CONFIG, [], { hint: (err as SayclawError).hint, cause: err });
    }
    return fail(err);
  }
}

interface Made { port: number; url: string; token: string; key: string; containerId: string; config: Record<string, unknown> }

async function commitCreate(deps: CreateDeps, plan: CreatePlan, item: PlannedInstance, m: Made): Promise<void> {
  const tpl = plan.template;
  await inTransaction(deps.db, async (trx) => {
    const clash = await trx.selectFrom('admin.oc_instances').select('id').where('id', '=', item.id).forUpdate().executeTakeFirst();
    if (clash) throw new UsageError(`instance ${item.id} was created by someone else meanwhile`, { hint: 'choose another id (or --prefix) and re-run' });
    const now = Math.floor(Date.now() / 1000);
    const unlimited = tpl.quota === 'unlimited';
    const ins = await trx.insertInto('oneapi.tokens').values({
      user_id: plan.oneapiUserId, key: m.key, status: 1, name: item.id, created_time: now, accessed_time: now, expired_time: -1,
      remain_quota: unlimited ? 0 : tpl.quota, unlimited_quota: unlimited ? 1 : 0, used_quota: 0,
    }).executeTakeFirst();
    const tokenId = String(ins.insertId);
    const { markerId } = await import('../../db/transaction.js');
    await trx.insertInto('admin.oc_api_keys').values({ id: markerId(trx, 'admin.oc_api_keys'), instance_id: item.id, oneapi_token_id: tokenId,
      oneapi_token_name: item.id, key_hint: `sk-...${m.key.slice(-4)}`, status: 'active' }).execute();
    await trx.insertInto('admin.oc_instances').values({
      id: item.id, container_id: m.containerId.slice(0, 12), server_id: item.server.id, name: item.id, gateway_port: m.port, gateway_url: m.url,
      gateway_token: m.token, model: tpl.model, health_status: 'healthy', health_fail_count: 0, last_health_at: sql<Date>`NOW(3)` as never,
      config_json: JSON.stringify(m.config),
    }).execute();
    if (plan.user) {
      await assignInTrx(trx, deps.actor, item.id, plan.user.id, { reassign: false, reason: deps.reason });
      await trx.updateTable('portal.user_instances').set({ setup_status: 'ready' }).where('user_id', '=', plan.user.id).where('instance_id', '=', item.id).execute();
    }
    await writeAudit(trx, deps.actor, { action: 'instances.create', target_type: 'instance', target_id: item.id, reason: deps.reason,
      after: { template: tpl.name, image: tpl.image, server: item.server_name, server_id: item.server.id, gateway_port: m.port, gateway_url: m.url,
        container_id: m.containerId.slice(0, 12), model: tpl.model, oneapi_token_id: tokenId, quota: tpl.quota, assigned_email: plan.user?.email ?? null } });
  });
}

/** A failure as a result row (for --count tables). */
export function failedRow(item: PlannedInstance, err: unknown, ms: number): CreateResult {
  const e = err as CreateStepError;
  return { id: item.id, server_name: item.server_name, gateway_port: null, gateway_url: null, container_id: null,
    result: e.step === 'commit' && /outcome unknown/.test(e.message) ? 'unknown' : 'failed', step: e.step ?? null, error: firstLine(e.message).replace(`${item.id}: `, ''), ms };
}
