// The Docker API of one server, as dockerode or as a bare client for a few GETs (servers check):
// its HTTP requests travel over the server's pooled SSH connection to the engine's unix socket
// (OpenSSH direct-streamlocal channels: no remote process at all), or over `docker system
// dial-stdio` exec channels where the sshd refuses that (decided once per connection), or over
// TCP+TLS on docker_port when docker.transport is tls. dockerode is imported lazily.
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { SshConn } from './ssh.js';
import { RemoteError, shellQuote } from './ssh.js';

export interface DockerTls { caFile: string | null; certFile: string | null; keyFile: string | null }

/** Where a server's engine listens when nothing says otherwise (Docker's own default). */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export type DockerSshChannel = 'auto' | 'dial-stdio';

/** How Docker API calls reach one server's engine over its SSH connection. */
export interface DockerSshOptions {
  /**
   * The engine's socket on the server (config docker.sockets.<server>, else docker.socket);
   * null: DOCKER_HOST as the server's SSH session sees it when it is unix://PATH, else
   * DEFAULT_DOCKER_SOCKET.
   */
  socket: string | null;
  /** Where `socket` comes from, for messages (e.g. docker.sockets.jp-2-srv-01). */
  socketFrom?: string;
  /** auto: direct-streamlocal to the socket, dial-stdio when the sshd refuses it; dial-stdio: always the docker CLI. */
  channel: DockerSshChannel;
  /** For messages and the config hint (docker.sockets.<name>). */
  serverName: string;
  /**
   * The session's DOCKER_HOST when the caller learns it anyway (servers check prints it in its
   * facts shell); without it, and with socket null, one `printf` exec learns it.
   */
  dockerHost?: Promise<string>;
  /** One line per connection saying which channel Docker calls take and why (--debug). */
  debug?: (msg: string) => void;
}

/** The channel chosen for one connection, kept for the connection's life. */
export interface DockerRoute {
  via: 'streamlocal' | 'dial-stdio';
  /** The socket used (dial-stdio is told it too); null when DOCKER_HOST is not unix:// or dial-stdio is configured without a socket: the docker CLI decides. */
  socket: string | null;
  /** Why this route (for --debug and failure messages). */
  why: string;
  /** dial-stdio because direct-streamlocal to `socket` was refused (not because config or DOCKER_HOST said so). */
  fallback: boolean;
  /** What the sshd answered to direct-streamlocal, when it refused. */
  refused?: string;
}

interface Decision { route: DockerRoute; first?: Duplex }

/** Per connection (so per server and run): the route decision, made by the first Docker call. */
const routes = new WeakMap<SshConn, Promise<Decision>>();

/** The route Docker calls on this connection took, once decided (for reports). */
const decided = new WeakMap<SshConn, DockerRoute>();
export function dockerRouteOf(conn: SshConn): DockerRoute | undefined { return decided.get(conn); }

/**
 * DOCKER_HOST from the output of PRINT_DOCKER_HOST ('' when unset): its value on the first whole
 * line `DOCKER_HOST=...` (a login banner or a profile's echo may come before); null if none yet.
 */
export const PRINT_DOCKER_HOST = `printf 'DOCKER_HOST=%s\\n' "$DOCKER_HOST"`;
export function dockerHostIn(text: string): string | null {
  const m = /^DOCKER_HOST=(.*)\r?\n/m.exec(text);
  return m ? m[1]!.trim() : null;
}

async function learnDockerHost(conn: SshConn, signal?: AbortSignal): Promise<string> {
  const r = await conn.exec(PRINT_DOCKER_HOST, { signal });
  const v = dockerHostIn(r.stdout);
  if (r.code !== 0 || v === null) throw new RemoteError('docker', `docker: cannot learn DOCKER_HOST on ${conn.target.name}: \`${PRINT_DOCKER_HOST}\` exited ${r.code ?? r.signal}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`);
  return v;
}

async function socketOf(conn: SshConn, o: DockerSshOptions, signal?: AbortSignal): Promise<{ socket: string | null; from: string }> {
  if (o.socket) return { socket: o.socket, from: o.socketFrom ?? 'the config' };
  const host = await (o.dockerHost ?? learnDockerHost(conn, signal));
  if (!host) return { socket: DEFAULT_DOCKER_SOCKET, from: 'the default; DOCKER_HOST is not set there' };
  if (host.startsWith('unix://')) return { socket: host.slice('unix://'.length), from: "the session's DOCKER_HOST" };
  return { socket: null, from: `DOCKER_HOST=${host} there` };
}

function isStreamlocalRefusal(err: unknown): boolean {
  // OpenSSH answers "open failed" both when forwarding is not allowed and when it cannot connect
  // to the socket; a server that is not OpenSSH is refused by ssh2 itself (strictVendor)
  return /Channel open failure|strictVendor|not OpenSSH/i.test((err as Error).message ?? '');
}

const sshReason = (err: unknown) => ((err as Error).message ?? String(err)).replace(/^\(SSH\) (Channel open failure: )?/, '');

/** The one-line failure naming the socket and how to fix it. */
function unreachableSocket(conn: SshConn, socket: string, why: string, extra: { cause?: unknown } = {}): RemoteError {
  const name = conn.target.name;
  return new RemoteError('docker', `docker: cannot reach the Docker engine socket ${socket} on ${name} (${why}); `
    + `start dockerd there, or set docker.socket (docker.sockets.${name} for this server alone) to the engine's socket`, extra);
}

async function decide(conn: SshConn, o: DockerSshOptions, signal?: AbortSignal): Promise<Decision> {
  if (o.channel === 'dial-stdio') {
    return { route: { via: 'dial-stdio', socket: o.socket, why: `docker.sshChannel is dial-stdio${o.socket ? `; socket ${o.socket} from ${o.socketFrom ?? 'the config'}` : ''}`, fallback: false } };
  }
  const { socket, from } = await socketOf(conn, o, signal);
  if (!socket) return { route: { via: 'dial-stdio', socket: null, why: `${from}, which only the docker CLI follows`, fallback: false } };
  try {
    const first = await conn.openStream({ socketPath: socket }, signal);
    return { route: { via: 'streamlocal', socket, why: `socket from ${from}`, fallback: false }, first };
  } catch (err) {
    if (!isStreamlocalRefusal(err)) throw err;
    const refused = sshReason(err);
    return { route: { via: 'dial-stdio', socket, fallback: true, refused,
      why: `the sshd refused direct-streamlocal to ${socket} (socket from ${from}): ${refused}; forwarding is not allowed there, or the socket is missing or closed to ${conn.target.user}` } };
  }
}

/** One byte stream to the server's engine: the route is decided by the first call on a connection. */
export async function openDockerStream(conn: SshConn, o: DockerSshOptions, signal?: AbortSignal): Promise<Duplex> {
  let p = routes.get(conn);
  if (!p) {
    p = decide(conn, o, signal);
    routes.set(conn, p);
    p.then((d) => {
      decided.set(conn, d.route);
      o.debug?.(`${o.serverName}: Docker API over ${d.route.via === 'streamlocal' ? `direct-streamlocal to ${d.route.socket}` : 'docker system dial-stdio'}: ${d.route.why}`);
    }, () => routes.delete(conn));
  }
  const d = await p;
  if (d.first) { const s = d.first; d.first = undefined; return s; }
  const r = d.route;
  if (r.via === 'streamlocal') {
    try { return await conn.openStream({ socketPath: r.socket! }, signal); } catch (err) {
      if (!isStreamlocalRefusal(err)) throw err;
      throw unreachableSocket(conn, r.socket!, `direct-streamlocal: ${sshReason(err)}`, { cause: err });
    }
  }
  // the same engine either way: the socket (when known) is named to the docker CLI too
  const s = await conn.openStream({ exec: r.socket ? `docker -H ${shellQuote(`unix://${r.socket}`)} system dial-stdio` : 'docker system dial-stdio' }, signal);
  // a fallback that does not work either is not kept: the next call decides again (an engine
  // that was down when the run started, in a long `sayclaw top`); dockerRouteOf still says what
  // was tried, for the failure message
  if (r.fallback) s.once('exit', (c: number | null) => { if (c && routes.get(conn) === p) routes.delete(conn); });
  return s;
}

/**
 * An http.Agent whose sockets are channels to the server's engine on conn. Keep-alive:
 * consecutive API calls reuse a channel, at most two per server so the connection keeps room
 * for exec sessions.
 */
export async function dockerAgent(conn: SshConn, o: DockerSshOptions, signal?: AbortSignal): Promise<Agent> {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2, maxFreeSockets: 2 });
  (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, cb: (err: Error | null, s?: unknown) => void) => {
    openDockerStream(conn, o, signal).then((s) => cb(null, s), (e: Error) => cb(e));
    return undefined;
  };
  return agent;
}

export async function dockerOverSsh(conn: SshConn, timeoutMs: number, o: DockerSshOptions, signal?: AbortSignal): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  const agent = await dockerAgent(conn, o, signal);
  return new Docker({ protocol: 'http', host: 'docker', port: 2375, agent, ...(timeoutMs ? { timeout: timeoutMs } : {}) } as Dockerode.DockerOptions);
}

const tlsFiles = (tls: DockerTls) => {
  const read = (f: string | null) => (f ? readFileSync(f) : undefined);
  return { ca: read(tls.caFile), cert: read(tls.certFile), key: read(tls.keyFile) };
};

export async function dockerOverTls(host: string, port: number, tls: DockerTls, timeoutMs: number): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  return new Docker({ protocol: 'https', host, port, ...tlsFiles(tls), ...(timeoutMs ? { timeout: timeoutMs } : {}) });
}

/**
 * A bare client for a few JSON GETs on the engine API over the same channels as dockerode
 * (the SSH route above, or TLS), for `servers check`: importing dockerode costs ~160 ms of CPU
 * (it brings gRPC and protobuf along), more than all of check's requests on 24 servers.
 */
export interface EngineClient {
  /** GET a JSON document; `server` is the engine's Server header ("Docker/29.1.3 (linux)"). */
  get<T>(path: string): Promise<{ body: T; server: string | null }>;
  /** Close the keep-alive channels. */
  close(): void;
}

type Requester = (o: import('node:http').RequestOptions, cb: (res: import('node:http').IncomingMessage) => void) => import('node:http').ClientRequest;

function engineClient(request: Requester, close: () => void, timeoutMs: number): EngineClient {
  const get = <T>(path: string) => new Promise<{ body: T; server: string | null }>((resolve, reject) => {
    const req = request({ method: 'GET', path, headers: { Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON: kept as text */ }
        const status = res.statusCode ?? 0;
        const server = res.headers.server;
        if (status >= 200 && status < 300) { resolve({ body: body as T, server: typeof server === 'string' ? server : null }); return; }
        // the shape dockerode gives its errors, so dockerFailure reads both alike
        const json = body && typeof body === 'object' ? body as { message?: string } : undefined;
        fail(Object.assign(new Error(`(HTTP code ${status}) ${json?.message ?? text}`), { statusCode: status, json }));
      });
    });
    // the SSH channels have no socket timeouts of their own: a timer ends a request that hangs
    const timer = timeoutMs ? setTimeout(() => req.destroy(new Error(`docker API ${path} timed out after ${timeoutMs} ms`)), timeoutMs) : undefined;
    function fail(e: Error) { clearTimeout(timer); reject(e); }
    req.on('error', fail);
    req.end();
  });
  return { get, close };
}

export async function engineOverSsh(conn: SshConn, timeoutMs: number, o: DockerSshOptions, signal?: AbortSignal): Promise<EngineClient> {
  const http = await import('node:http');
  const agent = await dockerAgent(conn, o, signal);
  // servername given: else the agent asks net.isIP() of the host, whose first call compiles a
  // large regular expression (~10-30 ms of CPU)
  return engineClient((opts, cb) => {
    const o2: import('node:http').RequestOptions & { servername: string } = { ...opts, host: 'docker', servername: 'docker', agent };
    return http.request(o2, cb);
  }, () => agent.destroy(), timeoutMs);
}

export async function engineOverTls(host: string, port: number, tls: DockerTls, timeoutMs: number): Promise<EngineClient> {
  const https = await import('node:https');
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2, ...tlsFiles(tls) });
  return engineClient((opts, cb) => https.request({ ...opts, host, port, agent }, cb), () => agent.destroy(), timeoutMs);
}

/** The engine version from its Server header ("Docker/20.10.24+dfsg1 (linux)"), set on every API answer. */
export function engineVersionOf(server: string | null): string | null {
  return /^Docker\/(\S+)/.exec(server ?? '')?.[1] ?? null;
}

/**
 * One-line reason for a failed Docker API call. When the HTTP side only saw the channel close
 * ("socket hang up"), the remote docker CLI's stderr says why; it can arrive a moment later.
 * When dial-stdio was the fallback for a refused direct-streamlocal, the socket is named too.
 */
export async function dockerFailure(err: unknown, conn?: SshConn): Promise<RemoteError> {
  const route = conn ? decided.get(conn) : undefined;
  const named = !!(route?.fallback && route.socket);
  if (err instanceof RemoteError && !(named && err.kind === 'docker' && conn?.lastDialError)) return err;
  const e = err as { message?: string; code?: string; statusCode?: number; json?: { message?: string } };
  const hangUp = /socket hang up|ECONNRESET|EPIPE/i.test(`${e.message ?? ''} ${e.code ?? ''}`);
  for (let i = 0; hangUp && conn && !conn.lastDialError && i < 20; i++) await new Promise((r) => setTimeout(r, 25));
  const dial = conn?.lastDialError.replace(/\s+/g, ' ').trim();
  if (dial && named) return unreachableSocket(conn!, route!.socket!, `direct-streamlocal: ${route!.refused}; docker system dial-stdio: ${dial}`, { cause: err });
  const msg = dial ? dial : e.json?.message ?? e.message ?? String(err);
  return new RemoteError('docker', `docker: ${msg.replace(/\s+/g, ' ').trim()}`, { cause: err });
}

/** Demultiplex a non-TTY docker log/exec stream buffer into stdout and stderr text. */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let i = 0;
  // if it does not look multiplexed (TTY container), it is plain stdout
  if (buf.length < 8 || buf[0]! > 2 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0) return { stdout: buf.toString('utf8'), stderr: '' };
  while (i + 8 <= buf.length) {
    const type = buf[i]!;
    const n = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + n).toString('utf8');
    if (type === 2) stderr += chunk; else stdout += chunk;
    i += 8 + n;
  }
  return { stdout, stderr };
}
