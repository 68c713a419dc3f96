// servers check: per server, in parallel over the one SSH connection each: reachability and
// latency, Docker engine version, disk and memory free, and container drift against the
// database (unknown containers, missing/stopped containers of alive instances, containers
// still running for soft-deleted instances).
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import type { ServerRow } from './registry.js';
import type { RemoteSession } from './remote.js';
import type { Outcome } from '../../remote/fanout.js';
import type { EngineClient } from '../../remote/docker.js';

export interface DriftItem {
  server_name: string;
  kind: 'unknown_container' | 'missing_container' | 'stopped_container' | 'running_for_deleted';
  instance_id: string | null;
  container: string | null;
  state: string | null;
  detail: string;
}

export interface ServerCheck {
  server_name: string;
  ip: string | null;
  status: 'ok' | 'drift' | 'failed';
  ssh_ms: number | null;
  docker_version: string | null;
  containers_running: number | null;
  containers_total: number | null;
  disk_free_gb: string | null;
  disk_used_pct: number | null;
  mem_free_mb: number | null;
  mem_total_mb: number | null;
  drift: number;
  /** How the Docker API was reached: streamlocal (the socket over SSH), dial-stdio (the docker CLI over SSH), tls. */
  docker_via: 'streamlocal' | 'dial-stdio' | 'tls' | null;
  error: string | null;
}

export interface CheckReport { servers: ServerCheck[]; drift: DriftItem[]; failed: number; drifted: number }

interface InstanceOnServer { id: string; container_id: string | null; deleted_at: Date | null }
interface ContainerInfo { id: string; name: string; state: string }

export const DEFAULT_INSTANCE_PATTERN = '^oc-';

/** Pure drift computation (unit-testable): DB rows of one server against its containers. */
export function computeDrift(serverName: string, rows: InstanceOnServer[], containers: ContainerInfo[], namePattern: RegExp, knownElsewhere: Set<string>): DriftItem[] {
  const out: DriftItem[] = [];
  const matches = (r: InstanceOnServer, c: ContainerInfo) =>
    c.name === r.id || (!!r.container_id && r.container_id.length >= 12 && c.id.startsWith(r.container_id));
  const claimed = new Set<string>();
  for (const r of rows) {
    const c = containers.find((x) => matches(r, x));
    if (c) claimed.add(c.id);
    if (r.deleted_at === null) {
      if (!c) out.push({ server_name: serverName, kind: 'missing_container', instance_id: r.id, container: r.container_id, state: null, detail: 'alive instance has no container' });
      else if (c.state !== 'running') out.push({ server_name: serverName, kind: 'stopped_container', instance_id: r.id, container: c.name, state: c.state, detail: `container is ${c.state}` });
    } else if (c && c.state === 'running') {
      out.push({ server_name: serverName, kind: 'running_for_deleted', instance_id: r.id, container: c.name, state: c.state, detail: 'container still running for a soft-deleted instance' });
    }
  }
  // the containers `instances upgrade` keeps beside an instance's own (ID.prev for rollback, and
  // ID.prev-old / ID.next while a swap is in flight) belong to that instance: not strangers
  const keptFor = new Set(rows.flatMap((r) => [`${r.id}.prev`, `${r.id}.prev-old`, `${r.id}.next`]));
  for (const c of containers) {
    if (claimed.has(c.id) || keptFor.has(c.name) || !namePattern.test(c.name)) continue;
    const elsewhere = knownElsewhere.has(c.name);
    out.push({ server_name: serverName, kind: 'unknown_container', instance_id: null, container: c.name, state: c.state,
      detail: elsewhere ? 'the database places this instance on another server' : 'no instance with this name in the database' });
  }
  return out;
}

function parseDf(text: string): { free_gb: string; used_pct: number } | null {
  const line = text.split('\n').find((l) => /^\S+\s+\d+\s+\d+\s+\d+\s+\d+%/.test(l));
  if (!line) return null;
  const f = line.split(/\s+/);
  return { free_gb: (Number(f[3]) / 1024 / 1024).toFixed(1), used_pct: Number(f[4]!.replace('%', '')) };
}

function parseMeminfo(text: string): { free_mb: number; total_mb: number } | null {
  const get = (k: string) => { const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text); return m ? Number(m[1]) : null; };
  const total = get('MemTotal');
  const avail = get('MemAvailable') ?? get('MemFree');
  if (total === null || avail === null) return null;
  return { free_mb: Math.round(avail / 1024), total_mb: Math.round(total / 1024) };
}

export async function checkServers(db: Kysely<MysqlDB>, remote: RemoteSession, servers: ServerRow[],
  opts: { namePattern?: string; debug?: (msg: string) => void; onDone?: (o: Outcome<ServerRow, unknown>, done: number, total: number) => void }): Promise<CheckReport> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { dockerFailure, dockerHostIn, dockerRouteOf, engineVersionOf, PRINT_DOCKER_HOST } = await import('../../remote/docker.js');
  const pattern = new RegExp(opts.namePattern ?? DEFAULT_INSTANCE_PATTERN);
  const ids = servers.map((s) => s.id);
  // the instance rows come while the SSH handshakes are in flight (a failed query is thrown
  // after the fan-out, as the run's error)
  const byServerP = (async () => {
    const rows = ids.length
      ? await db.selectFrom('admin.oc_instances').select(['id', 'container_id', 'deleted_at', 'server_id']).where('server_id', 'in', ids).execute()
      : [];
    const byServer = new Map<string, InstanceOnServer[]>();
    for (const r of rows) {
      const list = byServer.get(r.server_id!) ?? [];
      list.push(r);
      byServer.set(r.server_id!, list);
    }
    return byServer;
  })();
  byServerP.catch(() => undefined);
  const drift: DriftItem[] = [];
  const results = await fanOut(servers, { concurrency: remote.concurrency, signal: remote.ctx.signal, onDone: opts.onDone }, async (s) => {
    const name = s.name ?? s.id;
    const rep: ServerCheck = {
      server_name: name, ip: s.ip, status: 'ok', ssh_ms: null, docker_version: null, containers_running: null, containers_total: null,
      disk_free_gb: null, disk_used_pct: null, mem_free_mb: null, mem_total_mb: null, drift: 0, docker_via: null, error: null,
    };
    const t0 = performance.now();
    const dbg = (m: string) => opts.debug?.(`${name}: ${m} at ${Math.round(performance.now() - t0)} ms`);
    let conn;
    try {
      conn = await remote.conn(s);
      rep.ssh_ms = conn.connectMs;
      dbg('ssh ready');
    } catch (err) {
      rep.status = 'failed';
      rep.error = `ssh: ${(err as Error).message}`;
      return rep;
    }
    // the facts: one cheap shell per server (no docker CLI), beside the Docker API calls on the
    // same connection; it first prints the session's DOCKER_HOST, which says where the
    // engine's socket is unless the config does (no exec of its own to learn it)
    // (shell builtins but df, which the shell becomes: one process on the server, like `true`)
    const FACTS = `${PRINT_DOCKER_HOST}; while read -r k v _; do case $k in MemTotal:|MemAvailable:|MemFree:) echo "$k $v";; esac; done < /proc/meminfo; exec df -Pk / 2>/dev/null`;
    const applyFacts = (text: string) => {
      const df = parseDf(text);
      const mem = parseMeminfo(text);
      rep.disk_free_gb = df?.free_gb ?? null;
      rep.disk_used_pct = df?.used_pct ?? null;
      rep.mem_free_mb = mem?.free_mb ?? null;
      rep.mem_total_mb = mem?.total_mb ?? null;
    };
    let factsText = '';
    let hostLine: (v: string) => void = () => undefined;
    let hostFailed: (e: Error) => void = () => undefined;
    const dockerHost = new Promise<string>((res, rej) => { hostLine = res; hostFailed = rej; });
    dockerHost.catch(() => undefined);
    // the Docker calls wait only for that line, not for df
    let head: string | null = '';
    const onStdout = (d: string) => {
      if (head === null) return;
      head += d;
      const v = dockerHostIn(head);
      if (v !== null || head.length > 65536) { hostLine(v ?? ''); head = null; }
    };
    const sysP = conn.exec(FACTS, { onStdout }).then((sys) => {
      factsText = sys.stdout;
      hostLine(dockerHostIn(sys.stdout) ?? '');
    }, (err: Error) => { rep.error = `ssh exec: ${err.message}`; hostFailed(err); });
    let engine: EngineClient | undefined;
    try {
      engine = await remote.engineForCheck(s, dockerHost);
      // one request: the engine's version is in the Server header of every answer (GET /version
      // would have the engine run `runc --version` and `docker-init --version`, ~7 ms of CPU each time)
      const { body: list, server } = await engine.get<Array<{ Id: string; Names?: string[]; State: string }>>('/containers/json?all=1');
      rep.docker_version = engineVersionOf(server) ?? (await engine.get<{ Version?: string }>('/version')).body.Version ?? null;
      dbg('docker calls done');
      const containers = list.map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, ''), state: c.State }));
      rep.containers_total = containers.length;
      rep.containers_running = containers.filter((c) => c.state === 'running').length;
      const byServer = await byServerP.catch(() => new Map<string, InstanceOnServer[]>());
      const d = computeDrift(name, byServer.get(s.id) ?? [], containers, pattern, new Set());
      rep.drift = d.length;
      drift.push(...d);
      if (d.length) rep.status = 'drift';
    } catch (err) {
      rep.status = 'failed';
      rep.error = (await dockerFailure(err, await remote.dockerConn(s))).message;
    } finally {
      // keep-alive channels would hold sessions of the connection for as long as it lives: a
      // long run (sayclaw top) checks again and again
      engine?.close();
    }
    rep.docker_via = remote.dockerOverSsh ? (dockerRouteOf(conn)?.via ?? null) : 'tls';
    await sysP;
    applyFacts(factsText);
    if (rep.error && rep.status !== 'failed') rep.status = 'failed';
    return rep;
  });
  await byServerP;
  const checks = results.map((o) => (o.ok ? o.value : {
    server_name: o.item.name ?? o.item.id, ip: o.item.ip, status: 'failed' as const, ssh_ms: null, docker_version: null, containers_running: null,
    containers_total: null, disk_free_gb: null, disk_used_pct: null, mem_free_mb: null, mem_total_mb: null, drift: 0, docker_via: null, error: o.error.message,
  }));
  // an "unknown" container whose name is an instance the database places on another server
  const allIds = new Set((await unknownNamesKnown(db, drift.filter((d) => d.kind === 'unknown_container').map((d) => d.container!))));
  for (const d of drift) if (d.kind === 'unknown_container' && allIds.has(d.container!)) d.detail = 'the database places this instance on another server';
  return { servers: checks, drift, failed: checks.filter((c) => c.status === 'failed').length, drifted: checks.filter((c) => c.status === 'drift').length };
}

async function unknownNamesKnown(db: Kysely<MysqlDB>, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  return (await db.selectFrom('admin.oc_instances').select('id').where('id', 'in', names).execute()).map((r) => r.id);
}
