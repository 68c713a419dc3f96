// judgeProbes on the bodies the real gateway sends (src/gateway/server-http-probes.ts of
// openclaw 2026.9.6: with and without details), an old image's HTML, and transport failures.
import { createServer, type Server } from 'node:http';
import { bearerAllowed, judgeProbes, NO_PROBE_REASON, waitReady, type HttpResult } from '../../src/remote/probe.js';

const ans = (path: string, http_status: number | null, body: string, content_type: string | null = 'application/json; charset=utf-8', error: string | null = null): HttpResult =>
  ({ path, http_status, body, content_type, error, latency_ms: 3 });
const LIVE = ans('/healthz', 200, '{"ok":true,"status":"live"}');
const HTML = '<!doctype html>\n<html data-openclaw-control-ui-base-path=""><head><title>OpenClaw</title></head></html>';

test('live and ready: healthy', () => {
  const h = judgeProbes(LIVE, ans('/readyz', 200, '{"ready":true,"failing":[],"uptimeMs":20117,"eventLoop":{"degraded":false}}'), false);
  expect(h).toMatchObject({ state: 'healthy', live: true, ready: true, reason: null, http_status: 200 });
  // the body without details (remote, no token) is enough to be ready
  expect(judgeProbes(LIVE, ans('/readyz', 200, '{"ready":true}'), false).state).toBe('healthy');
});

test('503 with the failing list: not_ready with that list as the reason', () => {
  const h = judgeProbes(LIVE, ans('/readyz', 503, '{"ready":false,"failing":["startup-sidecars"],"uptimeMs":5001}'), true);
  expect(h).toMatchObject({ state: 'not_ready', live: true, ready: false, reason: 'startup-sidecars', failing: ['startup-sidecars'], http_status: 503 });
  expect(judgeProbes(LIVE, ans('/readyz', 503, '{"ready":false,"failing":["telegram","agent-database:main"]}'), true).reason).toBe('telegram, agent-database:main');
  expect(judgeProbes(LIVE, ans('/readyz', 503, '{"ready":false,"failing":["gateway-draining"]}'), true).reason).toBe('gateway-draining');
});

test('503 without details says how to get them', () => {
  expect(judgeProbes(LIVE, ans('/readyz', 503, '{"ready":false}'), false).reason).toMatch(/details need the token, sent only over https or --via ssh/);
  expect(judgeProbes(LIVE, ans('/readyz', 503, '{"ready":false}'), true).reason).toMatch(/is the token right/);
});

test('an old image: 200 HTML on /healthz is no_probe, never healthy', () => {
  const h = judgeProbes(ans('/healthz', 200, HTML, 'text/html'), ans('/readyz', 200, HTML, 'text/html'), false);
  expect(h).toMatchObject({ state: 'no_probe', live: false, reason: NO_PROBE_REASON });
  // without a content type too
  expect(judgeProbes(ans('/healthz', 200, HTML, null), ans('/readyz', 200, HTML, null), false).state).toBe('no_probe');
  expect(judgeProbes(ans('/healthz', 200, 'OK', 'text/plain'), ans('/readyz', 200, 'OK', 'text/plain'), false).state).toBe('no_probe');
});

test('/healthz that answers but not {"ok":true}: unhealthy with the status', () => {
  expect(judgeProbes(ans('/healthz', 404, 'Not Found', 'text/plain'), LIVE, false)).toMatchObject({ state: 'unhealthy', reason: 'healthz: HTTP 404 with a body that is not probe JSON' });
  expect(judgeProbes(ans('/healthz', 500, '', null), LIVE, false).reason).toBe('healthz: HTTP 500 with an empty body');
  expect(judgeProbes(ans('/healthz', 200, '{"ok":false}'), LIVE, false)).toMatchObject({ state: 'unhealthy', reason: 'healthz: HTTP 200, ok is not true' });
});

test('live but /readyz is HTML or missing: not ready, never healthy', () => {
  expect(judgeProbes(LIVE, ans('/readyz', 200, HTML, 'text/html'), false)).toMatchObject({ state: 'not_ready', reason: 'readyz: HTTP 200 with HTML' });
  expect(judgeProbes(LIVE, ans('/readyz', null, '', null, 'timed out after 5000 ms'), false)).toMatchObject({ state: 'not_ready', reason: 'readyz: timed out after 5000 ms' });
});

test('no answer: unreachable, and the token was not sent', () => {
  const h = judgeProbes(ans('/healthz', null, '', null, 'ECONNREFUSED'), ans('/readyz', null, '', null, 'ECONNREFUSED'), true);
  expect(h).toMatchObject({ state: 'unreachable', live: null, ready: null, reason: 'healthz: ECONNREFUSED', token_sent: false });
});

test('the token only over https or SSH to the loopback', () => {
  expect(bearerAllowed('https://gw.example.test:443', false)).toBe(true);
  expect(bearerAllowed('http://10.0.2.4:18789', false)).toBe(false);
  expect(bearerAllowed('http://127.0.0.1:18789', false)).toBe(false);
  expect(bearerAllowed('http://127.0.0.1:18789', true)).toBe(true);
  expect(bearerAllowed('http://localhost:18789', true)).toBe(true);
  expect(bearerAllowed('http://[::1]:18789', true)).toBe(true);
  // through SSH, but the server then crosses a network in plain http
  expect(bearerAllowed('http://10.0.2.9:18789', true)).toBe(false);
  expect(bearerAllowed('https://10.0.2.9:18789', true)).toBe(true);
});

describe('waitReady against a gateway on 127.0.0.1 that answers not ready, then stops answering', () => {
  let server: Server;
  let port = 0;
  let answered = 0;
  let answerUpTo = 0;
  let hangReadyOnly = false;
  beforeAll(async () => {
    server = createServer((req, res) => {
      // one probe = /healthz + /readyz; after answerUpTo probes the gateway hangs (no answer at all)
      // hangReadyOnly: after answerUpTo probes /healthz still answers, /readyz hangs
      if (answered >= answerUpTo * 2 && !(hangReadyOnly && req.url === '/healthz')) return;
      answered++;
      if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"status":"live"}');
      else res.writeHead(503, { 'content-type': 'application/json' }).end('{"ready":false,"failing":["startup-sidecars"]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

  test('a last probe cut short by the end of the wait is not the verdict: the answer before it is', async () => {
    answered = 0; answerUpTo = 2;
    const seen: string[] = [];
    const h = await waitReady({ base: `http://127.0.0.1:${port}` }, 1500, undefined, (x) => seen.push(x.state), { intervalMs: 200 });
    expect(h).toMatchObject({ state: 'not_ready', reason: 'startup-sidecars' });
    // the cut probe is not reported as progress either
    expect(seen).toEqual(['not_ready']);
  });

  test('the same when only /readyz stops answering: not "readyz: timed out", the answer before', async () => {
    answered = 0; answerUpTo = 2; hangReadyOnly = true;
    const h = await waitReady({ base: `http://127.0.0.1:${port}` }, 1500, undefined, undefined, { intervalMs: 200 });
    hangReadyOnly = false;
    expect(h).toMatchObject({ state: 'not_ready', reason: 'startup-sidecars' });
  });

  test('a probe that timed out with its whole own timeout still counts: unreachable', async () => {
    answered = 0; answerUpTo = 1;
    const h = await waitReady({ base: `http://127.0.0.1:${port}` }, 3000, undefined, undefined, { intervalMs: 100, probeTimeoutMs: 400 });
    expect(h.state).toBe('unreachable');
    expect(h.reason).toMatch(/timed out after 400 ms/);
  });
});
