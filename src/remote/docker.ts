// dockerode for one server: its HTTP requests travel over `docker system dial-stdio` exec
// channels on the server's pooled SSH connection (no extra handshakes), or over TCP+TLS on
// docker_port when docker.transport is tls. dockerode is imported lazily.
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import type Dockerode from 'dockerode';
import type { SshConn } from './ssh.js';
import { RemoteError } from './ssh.js';

export interface DockerTls { caFile: string | null; certFile: string | null; keyFile: string | null }

/**
 * An http.Agent whose sockets are dial-stdio channels on conn. Keep-alive: consecutive API calls
 * reuse one channel (one remote `docker` process), at most two channels per server so the
 * connection keeps room for exec sessions.
 */
export interface DialOptions {
  /**
   * Shell commands run before `exec docker system dial-stdio` on the same channel, their
   * output sent to stderr (stdout must stay the HTTP stream): `servers check` gets its system
   * facts this way without paying for a second remote shell.
   */
  preamble?: string;
  onStderr?: (s: string) => void;
}

export async function dialStdioAgent(conn: SshConn, signal?: AbortSignal, o: DialOptions = {}): Promise<Agent> {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2, maxFreeSockets: 2 });
  (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, cb: (err: Error | null, s?: unknown) => void) => {
    const exec = o.preamble ? `{ ${o.preamble}; } >&2; exec docker system dial-stdio` : 'docker system dial-stdio';
    conn.openStream({ exec, onStderr: o.onStderr }, signal).then((s) => cb(null, s), (e: Error) => cb(e));
    return undefined;
  };
  return agent;
}

export async function dockerOverSsh(conn: SshConn, timeoutMs: number, signal?: AbortSignal, o: DialOptions = {}): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  const agent = await dialStdioAgent(conn, signal, o);
  return new Docker({ protocol: 'http', host: 'docker', port: 2375, agent, ...(timeoutMs ? { timeout: timeoutMs } : {}) } as Dockerode.DockerOptions);
}

export async function dockerOverTls(host: string, port: number, tls: DockerTls, timeoutMs: number): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  const read = (f: string | null) => (f ? readFileSync(f) : undefined);
  return new Docker({ protocol: 'https', host, port, ca: read(tls.caFile), cert: read(tls.certFile), key: read(tls.keyFile), ...(timeoutMs ? { timeout: timeoutMs } : {}) });
}

/**
 * One-line reason for a failed Docker API call. When the HTTP side only saw the channel close
 * ("socket hang up"), the remote docker CLI's stderr says why; it can arrive a moment later.
 */
export async function dockerFailure(err: unknown, conn?: SshConn): Promise<RemoteError> {
  if (err instanceof RemoteError) return err;
  const e = err as { message?: string; code?: string; statusCode?: number; json?: { message?: string } };
  const hangUp = /socket hang up|ECONNRESET|EPIPE/i.test(`${e.message ?? ''} ${e.code ?? ''}`);
  for (let i = 0; hangUp && conn && !conn.lastDialError && i < 20; i++) await new Promise((r) => setTimeout(r, 25));
  const dial = conn?.lastDialError;
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
