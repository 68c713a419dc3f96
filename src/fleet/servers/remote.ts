// One remote session per command run: the SSH pool built from config, server rows turned into
// SSH targets (user/port/key from the row unless config overrides), and a dockerode per server
// over that server's pooled connection (or TLS). Closed with the Context.
import type Dockerode from 'dockerode';
import type { Context } from '../../context.js';
import type { SshConn, SshPool, SshTarget } from '../../remote/ssh.js';
import type { DockerSshOptions, EngineClient } from '../../remote/docker.js';
import type { Config } from '../../config/schema.js';
import { expandHome } from '../../config/load.js';

export interface ServerRef {
  id: string;
  name: string | null;
  ip: string | null;
  ssh_user: string | null;
  ssh_port: number | null;
  ssh_key_path: string | null;
  docker_port: number | null;
}


export function sshTargetOf(s: ServerRef, cfg: Config, home: string | undefined): SshTarget {
  if (!s.ip) throw new Error(`server ${s.name ?? s.id} has no ip`);
  return {
    key: s.id,
    name: s.name ?? s.id,
    host: s.ip,
    port: s.ssh_port ?? 22,
    user: cfg.ssh.user ?? s.ssh_user ?? 'root',
    keyPath: expandHome(cfg.ssh.keyPath ?? s.ssh_key_path ?? '~/.ssh/id_ed25519', { HOME: home }),
  };
}

/**
 * How Docker calls reach server s over SSH, from the docker.* config: its socket
 * (docker.sockets.<name or id>, else docker.socket, else learned from the session's DOCKER_HOST)
 * and the channel. The one place both remote sessions (RemoteSession, LifecycleRemote) take it from.
 */
export function dockerSshOptions(s: ServerRef, cfg: Config, debug: (m: string) => void, dockerHost?: Promise<string>): DockerSshOptions {
  const d = cfg.docker;
  const key = [s.name, s.id].find((k) => k !== null && d.sockets[k] !== undefined);
  const socket = key ? d.sockets[key]! : d.socket;
  const socketFrom = key ? `docker.sockets.${key}` : 'docker.socket';
  return { socket, socketFrom, channel: d.sshChannel, serverName: s.name ?? s.id, debug, ...(dockerHost ? { dockerHost } : {}) };
}

export class RemoteSession {
  private dockers = new Map<string, Promise<Dockerode>>();
  /** What aborts this session's channels: the run's Ctrl-C, unless openRemote was given another. */
  readonly signal: AbortSignal;
  constructor(readonly ctx: Context, readonly pool: SshPool, readonly cfg: Config, signal?: AbortSignal) {
    this.signal = signal ?? ctx.signal;
  }

  get concurrency(): number { return this.cfg.ssh.concurrency; }
  get commandTimeoutMs(): number { return this.cfg.ssh.commandTimeoutMs; }

  conn(s: ServerRef): Promise<SshConn> {
    return this.pool.get(sshTargetOf(s, this.cfg, this.ctx.io.env.HOME));
  }

  /** dockerode for a server; over SSH its requests reuse the server's one connection. */
  docker(s: ServerRef, o: { timeoutMs?: number } = {}): Promise<Dockerode> {
    // timeoutMs 0: no idle timeout (logs -f, exec); the connection is the same either way
    const timeoutMs = o.timeoutMs ?? this.commandTimeoutMs;
    const key = `${s.id}:${timeoutMs}`;
    let d = this.dockers.get(key);
    if (!d) {
      d = (async () => {
        const { dockerOverSsh, dockerOverTls } = await import('../../remote/docker.js');
        if (this.cfg.docker.transport === 'tls') {
          return dockerOverTls(s.ip ?? '', s.docker_port ?? 2376, this.cfg.docker.tls, timeoutMs);
        }
        return dockerOverSsh(await this.conn(s), timeoutMs, dockerSshOptions(s, this.cfg, (m) => this.ctx.debug(m)), this.signal);
      })();
      this.dockers.set(key, d);
    }
    return d;
  }

  /** Drop a server's connection and its dockerodes: the next call connects again (top's reconnects). */
  forget(serverId: string): void {
    this.pool.forget(serverId);
    for (const k of [...this.dockers.keys()]) if (k.startsWith(`${serverId}:`)) this.dockers.delete(k);
  }

  get dockerOverSsh(): boolean { return this.cfg.docker.transport !== 'tls'; }

  /**
   * An engine client (not cached: the caller closes it) for `servers check`, which learns the
   * session's DOCKER_HOST in its facts shell anyway and hands it over (no exec of its own for it).
   */
  async engineForCheck(s: ServerRef, dockerHost: Promise<string>): Promise<EngineClient> {
    const { engineOverSsh, engineOverTls } = await import('../../remote/docker.js');
    if (this.cfg.docker.transport === 'tls') return engineOverTls(s.ip ?? '', s.docker_port ?? 2376, this.cfg.docker.tls, this.commandTimeoutMs);
    return engineOverSsh(await this.conn(s), this.commandTimeoutMs, dockerSshOptions(s, this.cfg, (m) => this.ctx.debug(m), dockerHost), this.signal);
  }

  /** The connection used for Docker calls, when Docker goes over SSH (for error messages). */
  async dockerConn(s: ServerRef): Promise<SshConn | undefined> {
    if (this.cfg.docker.transport === 'tls') return undefined;
    try { return await this.conn(s); } catch { return undefined; }
  }
}

/**
 * The run's remote session. `signal`: what closes its connections instead of the run's Ctrl-C
 * (a rolling upgrade keeps its connections through Ctrl-C to finish or roll back the batch in
 * flight, and closes them itself).
 */
export async function openRemote(ctx: Context, o: { signal?: AbortSignal } = {}): Promise<RemoteSession> {
  return new RemoteSession(ctx, await openSshPool(ctx, o.signal ?? ctx.signal), ctx.config(), o.signal);
}

/**
 * The run's SSH pool from the ssh.* config, closed with the Context. `signal` tears its
 * connections down early (undefined: only the Context's close does, for verbs that must still
 * undo after Ctrl-C).
 */
export async function openSshPool(ctx: Context, signal: AbortSignal | undefined): Promise<SshPool> {
  const cfg = ctx.config();
  const { SshPool } = await import('../../remote/ssh.js');
  const pool = new SshPool({
    knownHostsFile: expandHome(cfg.ssh.knownHostsFile, ctx.io.env),
    hostKeyPolicy: cfg.ssh.hostKeyPolicy,
    connectTimeoutMs: cfg.ssh.connectTimeoutMs,
    commandTimeoutMs: cfg.ssh.commandTimeoutMs,
    sessionsPerConnection: cfg.ssh.sessionsPerConnection,
    ...(signal ? { signal } : {}),
  });
  ctx.onClose(() => pool.closeAll());
  return pool;
}
