// Gateway probes: GET /healthz and /readyz on an OpenClaw gateway, either directly (its
// gateway_url) or through the server's SSH connection (a forwarded TCP channel to the port as
// the server sees it: no tools needed on the server).
import type { Duplex } from 'node:stream';
import type { SshConn } from './ssh.js';

export interface ProbeResult {
  path: string;
  ok: boolean;
  http_status: number | null;
  latency_ms: number;
  error: string | null;
  body: string;
}

/** One GET with a timeout; never throws (the error is in the result). */
export async function httpGet(url: string, timeoutMs: number, opts: { stream?: () => Promise<Duplex>; signal?: AbortSignal } = {}): Promise<ProbeResult> {
  const http = await import('node:http');
  const u = new URL(url);
  const t0 = performance.now();
  const path = u.pathname;
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const done = (r: Omit<ProbeResult, 'path' | 'latency_ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ path, latency_ms: Math.round(performance.now() - t0), ...r });
    };
    const reqOpts: import('node:http').RequestOptions = {
      host: u.hostname, port: u.port || 80, path: `${u.pathname}${u.search}`, method: 'GET',
      headers: { connection: 'close', 'user-agent': 'sayclaw' }, agent: false,
    };
    if (opts.stream) {
      const mk = opts.stream;
      reqOpts.createConnection = ((_o: unknown, cb: (e: Error | null, s?: Duplex) => void) => {
        mk().then((s) => cb(null, s), (e: Error) => cb(e));
        return undefined;
      }) as unknown as typeof reqOpts.createConnection;
    }
    const req = http.request(reqOpts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 4096) body += d; });
      res.on('end', () => done({ ok: res.statusCode === 200, http_status: res.statusCode ?? null, error: res.statusCode === 200 ? null : `HTTP ${res.statusCode}`, body }));
      res.on('error', (e) => done({ ok: false, http_status: res.statusCode ?? null, error: e.message, body }));
    });
    const timer = setTimeout(() => { req.destroy(); done({ ok: false, http_status: null, error: `timed out after ${timeoutMs} ms`, body: '' }); }, timeoutMs);
    const onAbort = () => { req.destroy(); done({ ok: false, http_status: null, error: 'interrupted', body: '' }); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, http_status: null, error: e.code ? `${e.code}` : e.message, body: '' }));
    req.end();
  });
}

/** Probe a gateway URL through conn: the TCP connection is opened by the server. */
export function viaSsh(conn: SshConn, url: string, signal?: AbortSignal): () => Promise<Duplex> {
  const u = new URL(url);
  return () => conn.openStream({ host: u.hostname, port: Number(u.port || 80) }, signal);
}
