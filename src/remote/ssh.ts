// SSH pool: one ssh2 connection per server per command run, reused for every exec, every
// Docker API call (direct-streamlocal channels to the engine's socket, or dial-stdio exec
// channels) and every forwarded TCP probe on that server.
// Channels on one connection are bounded (below OpenSSH's MaxSessions); host keys are checked
// against a known-hosts file (strict / accept-new / off); connect and command timeouts; both
// stdout and stderr are always drained. ssh2 is imported lazily (only verbs that reach servers).
import { readFileSync, appendFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Client, ClientChannel } from 'ssh2';
import type { Duplex } from 'node:stream';
import { Semaphore } from './semaphore.js';
import { ExitCode, SayclawError } from '../errors.js';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface SshTarget {
  /** Pool key (server id). */
  key: string;
  /** Shown in messages. */
  name: string;
  host: string;
  port: number;
  user: string;
  keyPath: string;
}

export interface SshPoolOptions {
  knownHostsFile: string;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  sessionsPerConnection: number;
  signal?: AbortSignal;
}

type RemoteErrorKind = 'connect' | 'hostkey' | 'auth' | 'timeout' | 'exec' | 'docker' | 'aborted' | 'probe';
/** Exit codes (src/errors.ts) when one reaches the top, e.g. `instances logs` on one server:
 * the host could not be reached or logged into (a missing key file too) is 5, as for a database. */
const EXIT_BY_KIND: Record<RemoteErrorKind, number> = {
  connect: ExitCode.CONFIG, hostkey: ExitCode.CONFIG, auth: ExitCode.CONFIG, timeout: ExitCode.RUNTIME,
  exec: ExitCode.RUNTIME, docker: ExitCode.RUNTIME, probe: ExitCode.RUNTIME, aborted: ExitCode.INTERRUPTED,
};

/** A remote failure with a one-line reason meant for the per-server report. */
export class RemoteError extends SayclawError {
  readonly kind: RemoteErrorKind;
  readonly fingerprint?: string;
  constructor(kind: RemoteErrorKind, message: string, extra: { fingerprint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, extra.exitCode ?? EXIT_BY_KIND[kind], { cause: extra.cause });
    this.name = 'RemoteError';
    this.kind = kind;
    this.fingerprint = extra.fingerprint;
  }
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Streamed output (the result still carries the whole text unless keep is false). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Keep the output in the result (default true). */
  keep?: boolean;
  stdin?: string;
  signal?: AbortSignal;
}

/** One word for a POSIX shell on the server: left bare when plainly safe, else single-quoted. */
export function shellQuote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** SHA256:base64 of the key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function keyType(blob: Buffer): string {
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** OpenSSH host pattern for a host and port: `host` for 22, else `[host]:port`. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Known hosts in OpenSSH's file format (plain host patterns; hashed lines are ignored). */
export class KnownHosts {
  private entries = new Map<string, Set<string>>();
  constructor(readonly file: string) {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#') || t.startsWith('|') || t.startsWith('@')) continue;
      const [hosts, type, b64] = t.split(/\s+/);
      if (!hosts || !type || !b64) continue;
      for (const h of hosts.split(',')) {
        const set = this.entries.get(h) ?? new Set<string>();
        set.add(b64);
        this.entries.set(h, set);
      }
    }
  }
  /** 'known' | 'unknown' | 'changed' */
  check(pattern: string, blob: Buffer): 'known' | 'unknown' | 'changed' {
    const set = this.entries.get(pattern);
    if (!set) return 'unknown';
    return set.has(blob.toString('base64')) ? 'known' : 'changed';
  }
  add(pattern: string, blob: Buffer): void {
    const b64 = blob.toString('base64');
    const set = this.entries.get(pattern) ?? new Set<string>();
    if (set.has(b64)) return;
    set.add(b64);
    this.entries.set(pattern, set);
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, `${pattern} ${keyType(blob)} ${b64}\n`, { mode: 0o600 });
  }
}

/** One live connection and its channel budget. */
export class SshConn {
  readonly sessions: Semaphore;
  private closed = false;
  /** stderr of the last failed docker dial-stdio (for error messages). */
  lastDialError = '';
  constructor(readonly target: SshTarget, readonly client: Client, private opts: SshPoolOptions, readonly connectMs: number) {
    this.sessions = new Semaphore(opts.sessionsPerConnection);
    client.on('close', () => { this.closed = true; });
  }

  get isClosed(): boolean { return this.closed; }

  private where(): string { return `${this.target.name} (${this.target.host}:${this.target.port})`; }

  /** Run a command; rejects only when the channel cannot be opened, times out or is aborted. */
  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    const release = await this.sessions.acquire(o.signal ?? this.opts.signal);
    const t0 = performance.now();
    const timeoutMs = o.timeoutMs ?? this.opts.commandTimeoutMs;
    const keep = o.keep !== false;
    try {
      return await new Promise<ExecResult>((resolve, reject) => {
        if (this.closed) { reject(new RemoteError('connect', `connection to ${this.where()} is closed`)); return; }
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        let sig: string | null = null;
        let ch: ClientChannel | undefined;
        let done = false;
        const finish = (err?: Error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', onAbort);
          if (err) { try { ch?.close(); } catch { /* already closed */ } reject(err); return; }
          resolve({ code, signal: sig, stdout, stderr, ms: Math.round(performance.now() - t0) });
        };
        const timer = setTimeout(() => finish(new RemoteError('timeout', `command timed out after ${timeoutMs} ms`)), timeoutMs);
        const onAbort = () => finish(new RemoteError('aborted', 'interrupted'));
        o.signal?.addEventListener('abort', onAbort, { once: true });
        this.client.exec(command, (err, channel) => {
          if (err) { finish(new RemoteError('exec', `cannot start command on ${this.where()}: ${err.message}`, { cause: err })); return; }
          ch = channel;
          if (done) { channel.close(); return; }
          channel.setEncoding('utf8');
          channel.stderr.setEncoding('utf8');
          channel.on('data', (d: string) => { if (keep) stdout += d; o.onStdout?.(d); });
          channel.stderr.on('data', (d: string) => { if (keep) stderr += d; o.onStderr?.(d); });
          channel.on('exit', (c: number | null, s?: string) => { code = c; sig = s ?? null; });
          channel.on('close', () => finish());
          if (o.stdin !== undefined) channel.end(o.stdin); else channel.end();
        });
      });
    } finally {
      release();
    }
  }

  /**
   * A raw byte stream on this connection: an exec channel (`docker system dial-stdio`), a
   * forwarded TCP connection to host:port as seen from the server, or a connection to a unix
   * socket on the server (OpenSSH direct-streamlocal: no remote process). The channel slot is
   * released when the stream closes.
   */
  async openStream(spec: { exec: string; onStderr?: (s: string) => void } | { host: string; port: number } | { socketPath: string }, signal?: AbortSignal): Promise<Duplex> {
    const release = await this.sessions.acquire(signal ?? this.opts.signal);
    return new Promise<Duplex>((resolve, reject) => {
      if (this.closed) { release(); reject(new RemoteError('connect', `connection to ${this.where()} is closed`)); return; }
      const cb = (err: Error | undefined, ch: ClientChannel) => {
        if (err) { release(); reject(new RemoteError('exec', err.message, { cause: err })); return; }
        let released = false;
        const rel = () => { if (!released) { released = true; release(); } };
        ch.on('close', rel);
        if ('exec' in spec) {
          let errText = '';
          let errEnded = false;
          ch.stderr.on('data', (d: Buffer) => { const x = d.toString('utf8'); errText += x; spec.onStderr?.(x); });
          ch.stderr.once('end', () => { errEnded = true; });
          ch.on('exit', (c: number | null) => {
            if (!c) return;
            // the remote docker CLI says why (engine down, no docker): surface that, not "socket
            // hang up". sshd can send the exit status before the last of the command's stderr
            // (CI, Node 24 pass: "exited 1" without the CLI's reason), so wait for stderr's end
            // (or the channel's close; 500 ms at most) before taking the reason
            let told = false;
            const tell = () => {
              if (told) return;
              told = true;
              this.lastDialError = errText.trim().split('\n').pop() || `${spec.exec} exited ${c}`;
              // by now the HTTP client may have seen the channel end and let go of it (then
              // dockerFailure reads lastDialError); an 'error' nobody listens to would be thrown
              if (ch.listenerCount('error') > 0) ch.emit('error', new RemoteError('docker', `docker: ${this.lastDialError}`));
              ch.destroy();
            };
            if (errEnded) { tell(); return; }
            ch.stderr.once('end', tell);
            ch.once('close', tell);
            setTimeout(tell, 500).unref();
          });
        }
        // node's http client expects a few net.Socket methods
        const s = ch as unknown as Record<string, unknown>;
        for (const m of ['setNoDelay', 'setKeepAlive', 'setTimeout', 'ref', 'unref']) {
          if (typeof s[m] !== 'function') s[m] = () => ch;
        }
        resolve(ch);
      };
      if ('exec' in spec) this.client.exec(spec.exec, (e, ch) => cb(e, ch));
      else if ('socketPath' in spec) this.client.openssh_forwardOutStreamLocal(spec.socketPath, (e, ch) => cb(e, ch));
      else this.client.forwardOut('127.0.0.1', 0, spec.host, spec.port, (e, ch) => cb(e, ch));
    });
  }

  close(): void {
    if (!this.closed) { this.closed = true; this.client.end(); }
  }
}

/** Connections keyed by server, opened on first use and kept for the whole run. */
export class SshPool {
  private conns = new Map<string, Promise<SshConn>>();
  private live = new Set<SshConn>();
  private known?: KnownHosts;
  /** Handshakes made (one per server is the goal). */
  handshakes = 0;

  constructor(private opts: SshPoolOptions) {
    // every channel and connect listens to the run's signal: many listeners are expected
    if (opts.signal) setMaxListeners(0, opts.signal);
    opts.signal?.addEventListener('abort', () => this.closeAll(), { once: true });
  }

  get options(): SshPoolOptions { return this.opts; }

  private knownHosts(): KnownHosts {
    this.known ??= new KnownHosts(this.opts.knownHostsFile);
    return this.known;
  }

  get(t: SshTarget): Promise<SshConn> {
    let p = this.conns.get(t.key);
    if (!p) {
      p = this.connect(t);
      this.conns.set(t.key, p);
      // a failed connection is not retried within the run (the reason is reported once)
    }
    return p;
  }

  private async connect(t: SshTarget): Promise<SshConn> {
    if (this.opts.signal?.aborted) throw new RemoteError('aborted', 'interrupted');
    let privateKey: Buffer;
    try { privateKey = readFileSync(t.keyPath); } catch (err) {
      throw new RemoteError('auth', `cannot read ssh key ${t.keyPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const { Client } = (await import('ssh2')).default as typeof import('ssh2');
    const client = new Client();
    const pattern = hostPattern(t.host, t.port);
    let hostKeyProblem: RemoteError | undefined;
    const t0 = performance.now();
    return new Promise<SshConn>((resolve, reject) => {
      let settled = false;
      const fail = (e: RemoteError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.opts.signal?.removeEventListener('abort', onAbort);
        client.end();
        client.destroy?.();
        reject(e);
      };
      // readyTimeout covers the handshake; this timer also covers a TCP connect that hangs
      const timer = setTimeout(() => fail(new RemoteError('timeout', `connect timed out after ${this.opts.connectTimeoutMs} ms`, { exitCode: ExitCode.CONFIG })), this.opts.connectTimeoutMs);
      const onAbort = () => fail(new RemoteError('aborted', 'interrupted'));
      this.opts.signal?.addEventListener('abort', onAbort, { once: true });
      client.on('ready', () => {
        if (settled) { client.end(); return; }
        settled = true;
        clearTimeout(timer);
        this.opts.signal?.removeEventListener('abort', onAbort);
        this.handshakes++;
        const conn = new SshConn(t, client, this.opts, Math.round(performance.now() - t0));
        this.live.add(conn);
        client.on('close', () => this.live.delete(conn));
        resolve(conn);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (hostKeyProblem) { fail(hostKeyProblem); return; }
        const msg = err.message || err.code || 'ssh error';
        const kind = err.level === 'client-authentication' ? 'auth' : /timed out/i.test(msg) ? 'timeout' : 'connect';
        fail(new RemoteError(kind, kind === 'auth' ? `authentication failed for ${t.user} with key ${t.keyPath}` : msg, { cause: err, exitCode: ExitCode.CONFIG }));
      });
      client.on('close', () => fail(hostKeyProblem ?? new RemoteError('connect', 'connection closed during handshake')));
      client.connect({
        host: t.host,
        port: t.port,
        username: t.user,
        privateKey,
        readyTimeout: this.opts.connectTimeoutMs,
        keepaliveInterval: 15000,
        hostVerifier: (key: Buffer) => {
          if (this.opts.hostKeyPolicy === 'off') return true;
          const fp = fingerprintOf(key);
          const kh = this.knownHosts();
          const state = kh.check(pattern, key);
          if (state === 'known') return true;
          if (state === 'changed') {
            hostKeyProblem = new RemoteError('hostkey', `host key for ${pattern} CHANGED (now ${fp}); refusing to connect`, { fingerprint: fp });
            return false;
          }
          if (this.opts.hostKeyPolicy === 'accept-new') { kh.add(pattern, key); return true; }
          hostKeyProblem = new RemoteError('hostkey', `unknown host key for ${pattern} (${fp}); refused by hostKeyPolicy strict`, { fingerprint: fp });
          return false;
        },
      });
      // TCP_NODELAY, as mysql2 and pg set on theirs. Without ssh2's native crypto binding (not
      // built: no compiler at install, or Node upgraded since) ssh2 writes each packet as three
      // writes (length, ciphertext, MAC); with Nagle's algorithm the second waits for the ACK of
      // the first, which the server delays ~40 ms: every round trip of the handshake and of each
      // channel then took ~40 ms more (measured: `servers check` of one server 460 ms vs 280 ms,
      // of 24 servers 740 ms vs 590 ms, on Node 24 where the binding built for Node 20 fails to
      // load). ssh2 creates its socket inside connect(); before it connects, Node keeps the
      // setting and applies it once connected.
      client.setNoDelay(true);
    });
  }

  /**
   * Forget one server's connection (closing it if it is open), so the next get() connects again.
   * For long runs (`sayclaw top`) that reconnect after a failure or a dropped connection.
   */
  forget(key: string): void {
    const p = this.conns.get(key);
    this.conns.delete(key);
    p?.then((c) => { c.close(); this.live.delete(c); }, () => undefined);
  }

  /** The server's connection if one was made and is still open (no new handshake). */
  async openConn(key: string): Promise<SshConn | null> {
    const p = this.conns.get(key);
    if (!p) return null;
    try { const c = await p; return c.isClosed ? null : c; } catch { return null; }
  }

  /** Close every connection (on abort and at the end of the run). */
  closeAll(): void {
    for (const c of this.live) c.close();
    this.live.clear();
  }
}
