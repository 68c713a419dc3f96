// instances health against the real OpenClaw gateway (npm openclaw in an image imported offline
// into a lab engine), the busybox stand-ins (never ready; an old image answering HTML
// everywhere), and node servers on 127.0.0.1 that record the headers they get (plain http, and
// https with a CA generated here). Probes are judged by the body; the token goes only over https
// or through SSH to the server's loopback.
import { createServer as createHttpServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { REAL_LAB_SETUP_MS, startLab, type Lab } from '../support/lab.js';
import { NO_PROBE_REASON, waitReady, type GatewayHealth } from '../../src/remote/probe.js';

let t: TestEnv;
let lab: Lab;
let serverIds: string[];
const TOKEN = 'gwt_real_gateway_token_0123456789';
const REAL = 'oc-gw-real';
const ports: Record<string, number> = {};
const servers: Server[] = [];
let caFile = '';

/** A stand-in that answers like a ready gateway and records each request's headers. */
function recording(): { handler: RequestListener; seen: Array<{ path: string; headers: IncomingHttpHeaders }> } {
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  return {
    seen,
    handler: (req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/healthz' ? '{"ok":true,"status":"live"}' : '{"ready":true,"failing":[]}');
    },
  };
}
const plain = recording();
const tlsRec = recording();

function makeCa(dir: string): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  sh(`openssl req -x509 ${ec} -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=sayclaw-test-gateway-ca`);
  sh(`openssl req ${ec} -keyout key.pem -out server.csr -subj /CN=127.0.0.1`);
  writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sh('openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile ext -out cert.pem');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

beforeAll(async () => {
  // server 2's sshd refuses every forwarded channel: a probe --via ssh through it must fail
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 2, namePrefix: 'gw', realGateways: 1, sshdConfig: (i) => (i === 1 ? ['PermitOpen none'] : []) })]);
  serverIds = await lab.register(t.db);
  const pki = makeCa(join(t.tmp, 'pki'));
  caFile = pki.ca;
  const hs = createHttpsServer({ cert: readFileSync(pki.cert), key: readFileSync(pki.key) }, tlsRec.handler);
  const ps = createHttpServer(plain.handler);
  servers.push(hs, ps);
  ports['oc-gw-tls'] = await listen(hs);
  ports['oc-gw-plain'] = await listen(ps);
  // the real gateway also listens on derived ports (base+2, +4, ...): a block of its own
  ports[REAL] = lab.gatewayPort();
  for (const n of ['oc-gw-old', 'oc-gw-never']) ports[n] = await lab.freePort();
  lab.runGateway(lab.servers[0]!, 'oc-gw-old', ports['oc-gw-old']!, { old: true });
  lab.runGateway(lab.servers[0]!, 'oc-gw-never', ports['oc-gw-never']!, { ready: false });
  const row = (id: string, o: { url?: string | null; server?: number } = {}) => ({
    id, server_id: serverIds[o.server ?? 0]!, name: id, gateway_port: ports[id]!, gateway_token: id === REAL ? TOKEN : `gwt_${id}_secret_0123456789`,
    gateway_url: o.url === undefined ? `http://127.0.0.1:${ports[id]}` : o.url, model: 'gpt-4o', health_status: 'unknown',
  });
  await t.db.insertInto('admin.oc_instances').values([
    row(REAL), row('oc-gw-old'), row('oc-gw-never'), row('oc-gw-plain'),
    row('oc-gw-tls', { url: `https://127.0.0.1:${ports['oc-gw-tls']}` }),
    // same gateway, reached through server 2, whose sshd forwards nothing
    { ...row('oc-gw-plain'), id: 'oc-gw-noforward', name: 'oc-gw-noforward', server_id: serverIds[1]! },
  ]).execute();
  // the real image is imported now (lazily: only this file pays for it)
  await lab.openclawImage(lab.servers[0]!);
}, REAL_LAB_SETUP_MS + 300000);
afterAll(async () => {
  for (const s of servers) s.close();
  await Promise.all([lab?.close(), t?.close()]);
}, 120000);

interface Row { id: string; state: string; status: string; live: boolean | null; ready: boolean | null; reason: string | null; token_sent: boolean; http_status: number | null }
const health = async (args: string[], env?: Record<string, string>) => {
  const r = await t.run(['instances', 'health', ...args, '-o', 'json'], env ? { env } : {});
  return { code: r.code, rows: r.stdout ? JSON.parse(r.stdout) as Row[] : [], stderr: r.stderr };
};

test('the real gateway: not ready (startup-sidecars) while starting, then healthy; recorded with the reason', async () => {
  await lab.runOpenclaw(lab.servers[0]!, REAL, ports[REAL]!, { token: TOKEN });
  const seen: string[] = [];
  // ~15 s on an idle machine; several minutes while other suites load the 2 cores
  const until = Date.now() + 420000;
  let last: Row | undefined;
  while (Date.now() < until) {
    const r = await health([REAL, '--record']);
    last = r.rows[0]!;
    const s = `${last.state}${last.reason && last.state !== 'unreachable' ? ` ${last.reason}` : ''}`;
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (last.state === 'healthy') { expect(r.code).toBe(0); break; }
    expect(r.code).toBe(3);
    await new Promise((res) => setTimeout(res, 250));
  }
  if (last?.state !== 'healthy') {
    // say why: the container's state and its last log lines (a starved host, or a crash)
    const st = lab.docker(lab.servers[0]!, ['inspect', '-f', '{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}', REAL]);
    // its whole output, and the gateway's own log file (it says why it exited when stdout does not)
    const logs = lab.docker(lab.servers[0]!, ['logs', '--tail', '40', REAL]);
    const own = (() => {
      try {
        const dir = join(t.tmp, 'gw-log');
        lab.docker(lab.servers[0]!, ['cp', `${REAL}:/tmp/openclaw/.`, dir]);
        return readdirSync(dir).map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-40).join('\n')}`).join('\n');
      } catch (e) { return `(no gateway log file: ${(e as Error).message.split('\n')[0]})`; }
    })();
    throw new Error(`the real gateway was not healthy within 420 s (states seen: ${seen.join(' -> ')}; container ${st}; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})\n${logs}\n${own}`);
  }
  // connection refused first, then live but not ready because the sidecars still start, then healthy
  expect(seen[0]).toBe('unreachable');
  expect(seen).toContain('not_ready startup-sidecars');
  expect(seen[seen.length - 1]).toBe('healthy');
  // (on a loaded machine a probe may also time out in between: only the order is asserted)
  expect(seen.indexOf('not_ready startup-sidecars')).toBeLessThan(seen.lastIndexOf('healthy'));
  expect(last).toMatchObject({ live: true, ready: true, status: 'healthy', http_status: 200, token_sent: false });
  const logs = await t.db.selectFrom('admin.oc_health_logs').select(['status', 'error', 'live', 'ready', 'http_status'])
    .where('instance_id', '=', REAL).where('status', '=', 'not_ready').execute();
  expect(logs.length).toBeGreaterThan(0);
  expect(logs[0]).toMatchObject({ error: 'startup-sidecars', live: 1, ready: 0, http_status: 503 });
  const inst = await t.db.selectFrom('admin.oc_instances').select(['health_status', 'health_fail_count']).where('id', '=', REAL).executeTakeFirstOrThrow();
  expect(inst).toEqual({ health_status: 'healthy', health_fail_count: 0 });
  // through SSH to the server's loopback the token goes along (the gateway accepts it)
  const v = await health([REAL, '--via', 'ssh']);
  expect(v.rows[0]).toMatchObject({ state: 'healthy', token_sent: true });
  // the readiness gate later verbs will use: already ready, one probe
  const progress: GatewayHealth[] = [];
  const h = await waitReady({ base: `http://127.0.0.1:${ports[REAL]}` }, 5000, undefined, (x) => progress.push(x));
  expect(h.state).toBe('healthy');
  expect(progress.map((p) => p.state)).toEqual(['healthy']);
}, 480000);

// Stand-ins and loopback servers from here: the real-gateway lock goes back (the real one idles).
describe('stand-ins only', () => {
  beforeAll(() => lab.releaseRealGateways());

  test('a gateway that never gets ready: not_ready with its failing list in the table; waitReady gives up with it', async () => {
    const r = await t.run(['instances', 'health', 'oc-gw-never']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/oc-gw-never\s+gw-01\s+not_ready\s+yes\s+no\s+\d+\s+startup-sidecars/);
    expect(r.stderr).toMatch(/1 instance: 1 not_ready/);
    const h = await waitReady({ base: `http://127.0.0.1:${ports['oc-gw-never']}` }, 1200, undefined, undefined, { intervalMs: 200 });
    expect(h).toMatchObject({ state: 'not_ready', failing: ['startup-sidecars'], reason: 'startup-sidecars' });
  });

  test('an old image answering 200 HTML everywhere is no_probe, never healthy', async () => {
    const r = await health(['oc-gw-old', '--record']);
    expect(r.code).toBe(3);
    expect(r.rows[0]).toMatchObject({ state: 'no_probe', status: 'unhealthy', live: false, http_status: 200, reason: NO_PROBE_REASON });
    const log = await t.db.selectFrom('admin.oc_health_logs').select(['status', 'error']).where('instance_id', '=', 'oc-gw-old').executeTakeFirstOrThrow();
    expect(log).toEqual({ status: 'no_probe', error: NO_PROBE_REASON });
    const inst = await t.db.selectFrom('admin.oc_instances').select(['health_status', 'health_fail_count']).where('id', '=', 'oc-gw-old').executeTakeFirstOrThrow();
    expect(inst).toEqual({ health_status: 'unhealthy', health_fail_count: 1 });
    // instances show reports the same state and reason from the history
    const s = await t.run(['instances', 'show', 'oc-gw-old', '-o', 'json']);
    expect(JSON.parse(s.stdout).health_history[0]).toMatchObject({ status: 'no_probe', error: NO_PROBE_REASON });
  });

  test('https: refused without the CA; healthy with gateway.caFile, the token sent; an unreadable caFile is exit 5', async () => {
    tlsRec.seen.length = 0;
    let r = await health(['oc-gw-tls']);
    expect(r.code).toBe(3);
    expect(r.rows[0]).toMatchObject({ state: 'unreachable', live: null });
    expect(r.rows[0]!.reason).toMatch(/^healthz: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    r = await health(['oc-gw-tls', '--set', `gateway.caFile=${caFile}`]);
    expect(r.code).toBe(0);
    expect(r.rows[0]).toMatchObject({ state: 'healthy', token_sent: true });
    expect(tlsRec.seen.map((x) => `${x.path} ${x.headers.authorization}`).sort()).toEqual([
      '/healthz Bearer gwt_oc-gw-tls_secret_0123456789', '/readyz Bearer gwt_oc-gw-tls_secret_0123456789']);
    // the operating system's store: a CA installed into the bundle OpenSSL reads ($SSL_CERT_FILE, else
    // /etc/ssl/certs/ca-certificates.crt) is trusted without gateway.caFile, on every Node version
    r = await health(['oc-gw-tls'], { SSL_CERT_FILE: caFile });
    expect(r.rows[0]).toMatchObject({ state: 'healthy', token_sent: true });
    // https inside the SSH channel: still TLS end to end, the certificate still checked
    r = await health(['oc-gw-tls', '--via', 'ssh', '--set', `gateway.caFile=${caFile}`]);
    expect(r.rows[0]).toMatchObject({ state: 'healthy', token_sent: true });
    r = await health(['oc-gw-tls', '--via', 'ssh']);
    expect(r.rows[0]!.state).toBe('unreachable');
    const bad = await t.run(['instances', 'health', 'oc-gw-tls', '--set', `gateway.caFile=${join(t.tmp, 'missing.pem')}`]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/cannot read gateway.caFile .*missing\.pem: ENOENT/);
    expect(bad.stdout).toBe('');
  });

  test('the token never travels over plain http; through SSH to the loopback it does; the probe really uses the SSH channel', async () => {
    plain.seen.length = 0;
    let r = await health(['oc-gw-plain']);
    expect(r.rows[0]).toMatchObject({ state: 'healthy', token_sent: false });
    expect(plain.seen.length).toBe(2);
    expect(plain.seen.every((x) => x.headers.authorization === undefined)).toBe(true);
    plain.seen.length = 0;
    r = await health(['oc-gw-plain', '--via', 'ssh']);
    expect(r.rows[0]).toMatchObject({ state: 'healthy', token_sent: true, reason: null });
    expect(plain.seen.map((x) => x.headers.authorization)).toEqual(['Bearer gwt_oc-gw-plain_secret_0123456789', 'Bearer gwt_oc-gw-plain_secret_0123456789']);
    // server 2's sshd forwards nothing: the probe fails there (a probe that connected from here
    // instead would have found the gateway and said healthy)
    plain.seen.length = 0;
    r = await health(['oc-gw-noforward', '--via', 'ssh']);
    expect(r.rows[0]).toMatchObject({ state: 'unreachable', token_sent: false });
    expect(r.rows[0]!.reason).toMatch(/prohibited|open failed/i);
    expect(plain.seen.length).toBe(0);
    // and no token or secret in any output
    for (const f of ['table', 'wide', 'json', 'yaml', 'csv']) {
      const o = await t.run(['instances', 'health', '--prefix', 'oc-gw-', '--via', 'ssh', '-o', f]);
      expect(o.stdout + o.stderr).not.toMatch(/gwt_/);
    }
  });
});
