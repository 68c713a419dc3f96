// Gateway probes: GET /healthz (live) and /readyz (ready) on an OpenClaw gateway, judged by the
// body, not the status code (an image older than 2026.3 answers 200 HTML on every path). Over
// http or https, directly at the gateway URL or through the server's SSH connection (a forwarded
// TCP channel to the port as the server sees it: no tools needed on the server). The gateway
// token goes along as a Bearer header only where the channel is safe, for the detailed body.
// The one probe implementation: `instances health` and readiness gates (waitReady) call it.
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SshConn } from './ssh.js';

/** What one probe found. healthy: live and ready; not_ready: live, /readyz says not (reason
 * lists what is failing); no_probe: /healthz answers something that is not the probe (an old
 * image's web UI); unhealthy: /healthz answered, but not {"ok":true}; unreachable: no answer. */
export type GatewayState = 'healthy' | 'not_ready' | 'no_probe' | 'unhealthy' | 'unreachable';

export const NO_PROBE_REASON = 'gateway has no health endpoint: image older than 2026.3?';

export interface HttpResult {
  path: string;
  http_status: number | null;
  latency_ms: number;
  /** transport failure (refused, timeout, TLS); null when an answer came */
  error: string | null;
  body: string;
  content_type: string | null;
}

export interface GatewayTarget {
  /** http(s)://host:port of the gateway, as the connection's opener sees it */
  base: string;
  /** opens the TCP connection (through SSH); absent = directly */
  stream?: () => Promise<Duplex>;
  /** the gateway token: sent only where bearerAllowed() says the channel is safe */
  token?: string | null;
  /** extra trusted CA certificates (PEM) for https, beside the default ones */
  ca?: string | null;
  /** where SSL_CERT_FILE / NODE_EXTRA_CA_CERTS are read (the run's environment; default process.env) */
  env?: Record<string, string | undefined>;
}

export interface GatewayHealth {
  state: GatewayState;
  live: boolean | null;
  ready: boolean | null;
  /** why it is not healthy: /readyz's failing list, the HTTP status, the transport error */
  reason: string | null;
  /** /readyz's failing list when the gateway gave it */
  failing: string[] | null;
  /** the status of the answer that decided the state */
  http_status: number | null;
  latency_ms: number | null;
  /** whether the token was sent (https, or through SSH to the server's loopback) */
  token_sent: boolean;
}

const BODY_LIMIT = 65536;
const MIN_PROBE_MS = 250;

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * The token only travels where nobody between can read it: https (checked certificate), or an
 * SSH channel whose far end is the server's own loopback. Never plain http across a network.
 */
export function bearerAllowed(base: string, throughSsh: boolean): boolean {
  const u = new URL(base);
  if (u.protocol === 'https:') return true;
  return throughSsh && isLoopbackHost(u.hostname);
}

const PEM_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle file; none when it cannot be read. */
function pemFile(file: string | undefined, readFileSync: typeof import('node:fs').readFileSync): string[] {
  if (!file) return [];
  try { return readFileSync(file, 'utf8').match(PEM_RE) ?? []; } catch { return []; }
}

/**
 * The CAs an https gateway is checked against, on every Node version: Node's bundled roots,
 * NODE_EXTRA_CA_CERTS, and the operating system's store (Node >= 22.15 reads it itself; on every
 * version also the bundle OpenSSL uses, $SSL_CERT_FILE or Debian's /etc/ssl/certs/ca-certificates.crt,
 * which is where an internal CA installed with update-ca-certificates lands).
 */
export async function defaultCas(env: Record<string, string | undefined> = process.env): Promise<string[]> {
  const [tls, { readFileSync }] = await Promise.all([import('node:tls'), import('node:fs')]);
  const get = (tls as unknown as { getCACertificates?: (k: string) => string[] }).getCACertificates;
  const out = get ? [...get('default')] : [...tls.rootCertificates, ...pemFile(env.NODE_EXTRA_CA_CERTS, readFileSync)];
  if (get) { try { out.push(...get('system')); } catch { /* not available here */ } }
  out.push(...pemFile(env.SSL_CERT_FILE || '/etc/ssl/certs/ca-certificates.crt', readFileSync));
  return [...new Set(out)];
}

/** One TLS context per CA file for the whole run (parsing ~150 roots per request would cost milliseconds each). */
const secureContexts = new Map<string, Promise<import('node:tls').SecureContext>>();
function secureContextFor(extraCa: string | null | undefined, env: Record<string, string | undefined>): Promise<import('node:tls').SecureContext> {
  const key = `${extraCa ?? ''}\0${env.SSL_CERT_FILE ?? ''}\0${env.NODE_EXTRA_CA_CERTS ?? ''}`;
  let p = secureContexts.get(key);
  if (!p) {
    p = (async () => (await import('node:tls')).createSecureContext({ ca: [...await defaultCas(env), ...(extraCa ? [extraCa] : [])] }))();
    secureContexts.set(key, p);
  }
  return p;
}

/** One GET with a timeout; never throws (a transport failure is in the result). */
export async function httpGet(url: string, timeoutMs: number, opts: {
  stream?: () => Promise<Duplex>; signal?: AbortSignal; headers?: Record<string, string>; ca?: string | null;
  env?: Record<string, string | undefined>;
} = {}): Promise<HttpResult> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const request = (https ? (await import('node:https')).request : (await import('node:http')).request) as typeof import('node:https').request;
  const secureContext = https ? await secureContextFor(opts.ca, opts.env ?? process.env) : undefined;
  const t0 = performance.now();
  const path = u.pathname;
  return new Promise<HttpResult>((resolve) => {
    let settled = false;
    const done = (r: Omit<HttpResult, 'path' | 'latency_ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ path, latency_ms: Math.round(performance.now() - t0), ...r });
    };
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const reqOpts: import('node:https').RequestOptions = {
      host, port: u.port || (https ? 443 : 80), path: `${u.pathname}${u.search}`, method: 'GET',
      headers: { connection: 'close', 'user-agent': 'sayclaw', accept: 'application/json', ...opts.headers },
      servername: https && !isIP(host) ? host : undefined,
      // handed on to tls.connect (the typings of https.request leave it out)
      ...({ secureContext } as object),
    };
    if (opts.stream) {
      // no agent: node then opens the connection with createConnection (an agent ignores it)
      const mk = opts.stream;
      reqOpts.createConnection = ((_o: unknown, cb: (e: Error | null, s?: Duplex) => void) => {
        mk().then(async (s) => {
          if (!https) { cb(null, s); return; }
          const tls = await import('node:tls');
          // host: the name the certificate is checked against (an IP is never sent as SNI)
          cb(null, tls.connect({ socket: s as import('node:net').Socket, host, servername: reqOpts.servername, secureContext }));
        }, (e: Error) => cb(e));
        return undefined;
      }) as unknown as typeof reqOpts.createConnection;
    } else {
      reqOpts.agent = false;
    }
    const req = request(reqOpts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < BODY_LIMIT) body += d; });
      const answer = { http_status: res.statusCode ?? null, content_type: res.headers['content-type'] ?? null };
      res.on('end', () => done({ ...answer, error: null, body }));
      res.on('error', (e) => done({ ...answer, error: e.message, body }));
    });
    const timer = setTimeout(() => { req.destroy(); done({ http_status: null, content_type: null, error: `timed out after ${timeoutMs} ms`, body: '' }); }, timeoutMs);
    const onAbort = () => { req.destroy(); done({ http_status: null, content_type: null, error: 'interrupted', body: '' }); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => done({ http_status: null, content_type: null, error: e.code ? `${e.code}${e.code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED/.test(e.code) ? `: ${e.message}` : ''}` : e.message, body: '' }));
    req.end();
  });
}

function jsonObject(body: string): Record<string, unknown> | null {
  const t = body.trim();
  if (!t.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
  } catch { return null; }
}

/** A short, printable description of an answer that is not the probe's JSON. */
function describe(r: HttpResult): string {
  const kind = /html/i.test(r.content_type ?? '') || /^\s*</.test(r.body) ? 'HTML' : r.body.trim() ? 'a body that is not probe JSON' : 'an empty body';
  return `HTTP ${r.http_status} with ${kind}`;
}

/** Judge the two answers (pure: unit-tested against the real gateway's bodies). */
export function judgeProbes(h: HttpResult, r: HttpResult, tokenSent: boolean): GatewayHealth {
  const base = { failing: null, token_sent: tokenSent, latency_ms: h.latency_ms };
  if (h.error !== null) return { ...base, token_sent: false, state: 'unreachable', live: null, ready: null, reason: `healthz: ${h.error}`, http_status: null };
  const hj = jsonObject(h.body);
  if (!hj) {
    // an old image's Control UI: 200 HTML on every path, so a 200 alone proves nothing
    if (h.http_status === 200) return { ...base, state: 'no_probe', live: false, ready: null, reason: NO_PROBE_REASON, http_status: 200 };
    return { ...base, state: 'unhealthy', live: false, ready: null, reason: `healthz: ${describe(h)}`, http_status: h.http_status };
  }
  if (hj.ok !== true) return { ...base, state: 'unhealthy', live: false, ready: null, reason: `healthz: HTTP ${h.http_status}, ok is not true`, http_status: h.http_status };
  if (r.error !== null) return { ...base, state: 'not_ready', live: true, ready: null, reason: `readyz: ${r.error}`, http_status: null };
  const rj = jsonObject(r.body);
  if (!rj || typeof rj.ready !== 'boolean') return { ...base, state: 'not_ready', live: true, ready: false, reason: `readyz: ${describe(r)}`, http_status: r.http_status };
  if (rj.ready === true && r.http_status === 200) return { ...base, state: 'healthy', live: true, ready: true, reason: null, http_status: 200 };
  const failing = Array.isArray(rj.failing) ? rj.failing.filter((x): x is string => typeof x === 'string') : null;
  const reason = failing?.length ? failing.join(', ')
    : failing ? `not ready (HTTP ${r.http_status})`
      : tokenSent ? `not ready (HTTP ${r.http_status}; the gateway gave no details: is the token right?)`
        : `not ready (HTTP ${r.http_status}; details need the token, sent only over https or --via ssh)`;
  return { ...base, failing, state: 'not_ready', live: true, ready: false, reason, http_status: r.http_status };
}

/** Probe /healthz and /readyz once (in parallel). Never throws. */
export async function probeGateway(t: GatewayTarget, timeoutMs: number, signal?: AbortSignal): Promise<GatewayHealth> {
  const base = t.base.replace(/\/+$/, '');
  const tokenSent = !!t.token && bearerAllowed(base, !!t.stream);
  const headers: Record<string, string> = tokenSent ? { authorization: `Bearer ${t.token}` } : {};
  const o = { stream: t.stream, signal, headers, ca: t.ca, env: t.env };
  const [h, r] = await Promise.all([httpGet(`${base}/healthz`, timeoutMs, o), httpGet(`${base}/readyz`, timeoutMs, o)]);
  return judgeProbes(h, r, tokenSent);
}

/**
 * Poll until the gateway is healthy (live and /readyz says ready), the time is up or the signal
 * fires; returns the last result either way (the caller decides: its state is 'healthy' or not).
 * A last probe that only timed out because the wait itself ran out (its timeout cut short to the
 * time left) says nothing about the gateway: then the answer before it is returned (a gateway
 * seen not ready for minutes is reported as not ready, not as unreachable or "readyz: timed out"
 * after a 600 ms probe).
 * onProgress sees every result whose state or reason changed.
 */
export async function waitReady(t: GatewayTarget, timeoutMs: number, signal?: AbortSignal,
  onProgress?: (h: GatewayHealth, elapsedMs: number) => void, opts: { intervalMs?: number; probeTimeoutMs?: number } = {}): Promise<GatewayHealth> {
  const t0 = performance.now();
  const interval = opts.intervalMs ?? 500;
  let last: GatewayHealth | null = null;
  for (;;) {
    const left = timeoutMs - (performance.now() - t0);
    const full = opts.probeTimeoutMs ?? 5000;
    const h = await probeGateway(t, Math.max(1, Math.round(Math.min(full, left))), signal);
    if (last && left < full && h.state !== 'healthy' && /timed out after/.test(h.reason ?? '')) return last;
    if (!last || last.state !== h.state || last.reason !== h.reason) onProgress?.(h, Math.round(performance.now() - t0));
    last = h;
    if (h.state === 'healthy' || signal?.aborted) return h;
    // another probe only when it still has time to get an answer
    const remaining = timeoutMs - (performance.now() - t0);
    const wait = Math.min(interval, remaining);
    if (remaining - wait < MIN_PROBE_MS) return h;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { signal?.removeEventListener('abort', stop); resolve(); }, wait);
      const stop = () => { clearTimeout(timer); resolve(); };
      signal?.addEventListener('abort', stop, { once: true });
    });
    if (signal?.aborted) return h;
  }
}

/** Probe a gateway URL through conn: the TCP connection is opened by the server. */
export function viaSsh(conn: SshConn, url: string, signal?: AbortSignal): () => Promise<Duplex> {
  const u = new URL(url);
  return () => conn.openStream({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) }, signal);
}
