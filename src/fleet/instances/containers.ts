// Container operations on instances (logs, restart/stop/start, exec) through the remote layer:
// the instance's server, its container_id, falling back to the container named like the
// instance id. Each server's calls share its one SSH connection.
import type { Kysely } from 'kysely';
import type Dockerode from 'dockerode';
import type { MysqlDB } from '../../db/types.js';
import type { InstanceTarget } from './targets.js';
import type { RemoteSession, ServerRef } from '../servers/remote.js';
import type { Outcome } from '../../remote/fanout.js';
import { InterruptedError, NotFoundError, UsageError } from '../../errors.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { durationSeconds } from '../duration.js';
import { inTransaction } from '../../db/transaction.js';

export type ContainerAction = 'restart' | 'stop' | 'start';

export function serverOf(t: InstanceTarget): ServerRef {
  if (!t.server_id || !t.server_ip) throw new UsageError(`instance ${t.id} has no server (or the server has no ip)`);
  return { id: t.server_id, name: t.server_name, ip: t.server_ip, ssh_user: t.ssh_user, ssh_port: t.ssh_port, ssh_key_path: t.ssh_key_path, docker_port: t.docker_port };
}

/** The container for an instance: by container_id, else by the name = instance id. */
export async function findContainer(docker: Dockerode, t: InstanceTarget): Promise<{ c: Dockerode.Container; info: Dockerode.ContainerInspectInfo; by: 'container_id' | 'name' }> {
  const refs: Array<['container_id' | 'name', string]> = [];
  if (t.container_id) refs.push(['container_id', t.container_id]);
  refs.push(['name', t.id]);
  let last: unknown;
  for (const [by, ref] of refs) {
    try {
      const c = docker.getContainer(ref);
      const info = await c.inspect();
      return { c, info, by };
    } catch (err) {
      last = err;
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
  // exit 4 when it reaches the top (instances logs/exec): the container is a named thing that does not exist
  throw new NotFoundError(`no container ${t.container_id ? `${t.container_id} or ` : ''}named ${t.id} on ${t.server_name}`, {
    hint: `list them with: sayclaw servers exec ${t.server_name ?? t.server_id} -- docker ps -a`, cause: last });
}

export interface ActionRow { id: string; server_name: string | null; action: ContainerAction; result: 'ok' | 'failed'; state: string | null; container: string | null; ms: number; error: string | null }

export async function containerAction(remote: RemoteSession, targets: InstanceTarget[], action: ContainerAction, opts: {
  timeoutSec?: number; onDone?: (o: Outcome<InstanceTarget, unknown>, done: number, total: number) => void;
}): Promise<ActionRow[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { dockerFailure } = await import('../../remote/docker.js');
  const res = await fanOut(targets, { concurrency: remote.concurrency, signal: remote.ctx.signal, onDone: opts.onDone }, async (t) => {
    const s = serverOf(t);
    const docker = await remote.docker(s);
    try {
      const { c } = await findContainer(docker, t);
      const q = opts.timeoutSec !== undefined ? { t: opts.timeoutSec } : {};
      try {
        if (action === 'restart') await c.restart(q);
        else if (action === 'stop') await c.stop(q);
        else await c.start();
      } catch (err) {
        // 304: already stopped / already started: the wanted state holds
        if ((err as { statusCode?: number }).statusCode !== 304) throw err;
      }
      const after = await c.inspect();
      return { state: after.State.Status, container: after.Name.replace(/^\//, '') };
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      throw await dockerFailure(err, await remote.dockerConn(s));
    }
  });
  return res.map((o) => o.ok
    ? { id: o.item.id, server_name: o.item.server_name, action, result: 'ok', state: o.value.state, container: o.value.container, ms: o.ms, error: null }
    : { id: o.item.id, server_name: o.item.server_name, action, result: 'failed', state: null, container: null, ms: o.ms, error: o.error.message });
}

/** Audit rows for container actions that happened (one transaction). */
export async function auditContainerActions(db: Kysely<MysqlDB>, actor: Actor, rows: ActionRow[], reason: string | null): Promise<void> {
  const done = rows.filter((r) => r.result === 'ok');
  if (!done.length) return;
  await inTransaction(db, async (trx) => {
    for (const r of done) {
      await writeAudit(trx, actor, { action: `instances.${r.action}`, target_type: 'instance', target_id: r.id, after: { container: r.container, state: r.state, server: r.server_name }, reason });
    }
  });
}

export interface LogOptions { tail?: number; since?: string; follow?: boolean; timestamps?: boolean }

/** Docker's `since`: unix seconds, or a duration like 10m / 2h / 1d before now. */
export function parseSince(s: string, now: Date): number {
  const ago = durationSeconds(s);
  if (ago !== null) return Math.floor(now.getTime() / 1000) - ago;
  if (/^\d+$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new UsageError(`--since expects 10m, 2h, 1d, unix seconds or an ISO time, got "${s}"`);
  return Math.floor(t / 1000);
}

/** Stream (follow) or fetch the logs; stdout and stderr chunks go to the callbacks. */
export async function containerLogs(remote: RemoteSession, t: InstanceTarget, o: LogOptions, out: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<void> {
  const { dockerFailure, demux } = await import('../../remote/docker.js');
  const s = serverOf(t);
  try {
    const docker = await remote.docker(s, o.follow ? { timeoutMs: 0 } : {});
    const { c } = await findContainer(docker, t);
    const base = { stdout: true, stderr: true, timestamps: !!o.timestamps, ...(o.tail !== undefined ? { tail: o.tail } : {}), since: o.since ? parseSince(o.since, remote.ctx.clock()) : 0 };
    if (!o.follow) {
      const buf = await c.logs({ ...base, follow: false }) as unknown as Buffer;
      const d = demux(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
      if (d.stdout) out.stdout(d.stdout);
      if (d.stderr) out.stderr(d.stderr);
      return;
    }
    const stream = await c.logs({ ...base, follow: true }) as unknown as import("node:stream").Readable;
    const { Writable } = await import('node:stream');
    const w = (f: (s: string) => void) => new Writable({ write(chunk: Buffer, _e, cb) { f(chunk.toString('utf8')); cb(); } });
    (docker.modem as unknown as { demuxStream(s: unknown, o: unknown, e: unknown): void }).demuxStream(stream, w(out.stdout), w(out.stderr));
    await new Promise<void>((resolve) => {
      const stop = () => { stream.destroy(); resolve(); };
      remote.ctx.signal.addEventListener('abort', stop, { once: true });
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', () => resolve());
    });
  } catch (err) {
    if (err instanceof NotFoundError) throw err;
    // Ctrl-C tears the connection down under a running request: that is the interruption (130), not a docker failure
    if (remote.ctx.signal.aborted) throw new InterruptedError();
    throw await dockerFailure(err, await remote.dockerConn(s));
  }
}

/** Run a command in the instance's container; returns its exit code. */
export async function containerExec(remote: RemoteSession, t: InstanceTarget, cmd: string[], out: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<number> {
  const { dockerFailure } = await import('../../remote/docker.js');
  const s = serverOf(t);
  try {
    const docker = await remote.docker(s, { timeoutMs: 0 });
    const { c } = await findContainer(docker, t);
    const ex = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
    const stream = await ex.start({ hijack: true, stdin: false });
    const { Writable } = await import('node:stream');
    const w = (f: (s: string) => void) => new Writable({ write(chunk: Buffer, _e, cb) { f(chunk.toString('utf8')); cb(); } });
    (docker.modem as unknown as { demuxStream(s: unknown, o: unknown, e: unknown): void }).demuxStream(stream, w(out.stdout), w(out.stderr));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { stream.destroy(); resolve(); }, remote.commandTimeoutMs);
      const stop = () => { clearTimeout(timer); stream.destroy(); resolve(); };
      remote.ctx.signal.addEventListener('abort', stop, { once: true });
      stream.on('end', stop);
      stream.on('close', stop);
      stream.on('error', stop);
    });
    const info = await ex.inspect();
    return info.ExitCode ?? (info.Running ? 124 : 1);
  } catch (err) {
    if (err instanceof NotFoundError) throw err;
    // Ctrl-C tears the connection down under a running request: that is the interruption (130), not a docker failure
    if (remote.ctx.signal.aborted) throw new InterruptedError();
    throw await dockerFailure(err, await remote.dockerConn(s));
  }
}
