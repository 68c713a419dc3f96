// The remote side of the lifecycle verbs (create, decommission, recommission): one SSH
// connection per server and a dockerode over it, like RemoteSession, but NOT torn down by
// Ctrl-C. A lifecycle verb must still undo what it did after an interruption (remove the
// container it created, start nothing half-way), so it watches the run's signal itself and
// keeps its connections until the Context closes.
import type Dockerode from 'dockerode';
import type { Context } from '../../context.js';
import type { SshConn, SshPool } from '../../remote/ssh.js';
import type { Config } from '../../config/schema.js';
import { dockerSshOptions, sshTargetOf, type ServerRef } from '../servers/remote.js';
import type { GatewayTarget } from '../../remote/probe.js';

export class LifecycleRemote {
  private dockers = new Map<string, Promise<Dockerode>>();
  constructor(readonly ctx: Context, readonly pool: SshPool, readonly cfg: Config) {}

  conn(s: ServerRef): Promise<SshConn> { return this.pool.get(sshTargetOf(s, this.cfg, this.ctx.io.env.HOME)); }

  docker(s: ServerRef): Promise<Dockerode> {
    let d = this.dockers.get(s.id);
    if (!d) {
      d = (async () => {
        const { dockerOverSsh, dockerOverTls } = await import('../../remote/docker.js');
        if (this.cfg.docker.transport === 'tls') return dockerOverTls(s.ip ?? '', s.docker_port ?? 2376, this.cfg.docker.tls, this.cfg.ssh.commandTimeoutMs);
        // no signal: calls made while undoing after Ctrl-C must still go through
        return dockerOverSsh(await this.conn(s), this.cfg.ssh.commandTimeoutMs, dockerSshOptions(s, this.cfg, (m) => this.ctx.debug(m)));
      })();
      d.catch(() => this.dockers.delete(s.id));
      this.dockers.set(s.id, d);
    }
    return d;
  }

  /** Why a docker call failed, in one line (the remote docker CLI's stderr when the channel died). */
  async failure(err: unknown, s: ServerRef): Promise<Error> {
    const { dockerFailure } = await import('../../remote/docker.js');
    let conn: SshConn | undefined;
    if (this.cfg.docker.transport !== 'tls') { try { conn = await this.conn(s); } catch { /* none */ } }
    return dockerFailure(err, conn);
  }

  /**
   * The gateway as the server sees it: through the SSH connection to the server's loopback (the
   * token may travel there), or directly at gateway_url with docker over TLS.
   */
  async gateway(s: ServerRef, port: number, gatewayUrl: string, token: string): Promise<GatewayTarget> {
    if (this.cfg.docker.transport === 'tls') return { base: gatewayUrl, token };
    const { viaSsh } = await import('../../remote/probe.js');
    const conn = await this.conn(s);
    const base = `http://127.0.0.1:${port}`;
    return { base, stream: viaSsh(conn, base), token };
  }
}

export async function openLifecycleRemote(ctx: Context): Promise<LifecycleRemote> {
  const { openSshPool } = await import('../servers/remote.js');
  // no signal: the connections outlive Ctrl-C, for the undo (see the top of this file)
  return new LifecycleRemote(ctx, await openSshPool(ctx, undefined), ctx.config());
}
