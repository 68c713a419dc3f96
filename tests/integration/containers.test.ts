// Container operations and health probes on instances, against the real lab (two sshd, each
// with its own dockerd, gateway containers made from the offline busybox image).
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, type Lab } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
const port: Record<string, number> = {};

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 2, namePrefix: 'ct' })]);
  const ids = await lab.register(t.db);
  for (const n of ['oc-ct-01', 'oc-ct-02', 'oc-ct-03']) port[n] = await lab.freePort();
  const c1 = lab.runGateway(lab.servers[0]!, 'oc-ct-01', port['oc-ct-01']!);
  lab.runGateway(lab.servers[0]!, 'oc-ct-02', port['oc-ct-02']!, { ready: false });
  lab.runGateway(lab.servers[1]!, 'oc-ct-03', port['oc-ct-03']!);
  const row = (id: string, srv: string, container: string | null, url: boolean) => ({
    id, server_id: srv, container_id: container, name: id, gateway_port: port[id]!,
    gateway_url: url ? `http://127.0.0.1:${port[id]}` : null, gateway_token: 'gwt_0123456789abcdef', model: 'gpt-4o',
    health_status: 'unknown', health_fail_count: 2,
  });
  await t.db.insertInto('admin.oc_instances').values([
    // oc-ct-01 by container_id; the others have none (found by the name = instance id)
    row('oc-ct-01', ids[0]!, c1.slice(0, 12), true), row('oc-ct-02', ids[0]!, null, true), row('oc-ct-03', ids[1]!, null, false),
  ]).execute();
  // wait until the gateways answer
  for (const p of Object.values(port)) {
    for (let i = 0; i < 40; i++) {
      const ok = await fetch(`http://127.0.0.1:${p}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}, 120000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 60000);

test('logs: stdout and stderr, --tail', async () => {
  const r = await t.run(['instances', 'logs', 'oc-ct-01']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/gateway .* listening on 127\.0\.0\.1:\d+ \(live=1 ready=1\)/);
  expect(r.stderr).toMatch(/starting channels/);
  // --tail 1: exactly one line of the log (stdout and stderr together), and one the full log has
  const full = await t.run(['instances', 'logs', 'oc-ct-03']);
  const fullLines = [...full.stdout.split('\n'), ...full.stderr.split('\n')].filter(Boolean);
  expect(fullLines.length).toBeGreaterThan(1);
  const r2 = await t.run(['instances', 'logs', 'oc-ct-03', '--tail', '1']);
  expect(r2.code).toBe(0);
  const tail = [...r2.stdout.split('\n'), ...r2.stderr.split('\n')].filter(Boolean);
  expect(tail).toHaveLength(1);
  expect(fullLines).toContain(tail[0]);
});

test('logs -f streams until Ctrl-C (abort)', async () => {
  const ac = new AbortController();
  let out = '';
  let err = '';
  // act on what the stream shows, not after fixed sleeps (at load 10 the follow had printed
  // nothing 1.3 s after the start)
  const until = async (what: string, ok: () => boolean) => {
    for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() - t0 > 30000) throw new Error(`logs -f: no ${what} within 30 s (stdout ${JSON.stringify(out)})`);
    }
  };
  const p = t.run(['instances', 'logs', 'oc-ct-01', '-f'], {
    signal: ac.signal, onOutput: (s, x) => { if (s === 'stdout') out += x; else err += x; },
  });
  const served = () => (err.match(/response:200/g) ?? []).length;
  // the log so far: the start line and beforeAll's request
  await until('log so far', () => /listening/.test(out) && served() >= 1);
  const before = served();
  await fetch(`http://127.0.0.1:${port['oc-ct-01']}/healthz`);
  // the request made while following reaches the stream
  await until('line for the new request', () => served() > before);
  ac.abort();
  const r = await p;
  expect({ code: r.code, stderr: r.code === 130 ? '' : r.stderr }).toEqual({ code: 130, stderr: '' });
  expect(r.stdout).toMatch(/listening/);
  // the stand-in logs each request: the one from beforeAll and the one made while following
  expect(r.stderr.match(/response:200/g)!.length).toBeGreaterThanOrEqual(2);
});

test('exec runs in the container and passes the exit code through', async () => {
  let r = await t.run(['instances', 'exec', 'oc-ct-02', '--', 'cat', '/tmp/www/healthz']);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('{"ok":true,"status":"live"}\n');
  r = await t.run(['instances', 'exec', 'oc-ct-02', '--', 'sh', '-c', 'echo oops >&2; exit 5']);
  expect(r.code).toBe(5);
  expect(r.stderr).toMatch(/oops/);
});

test('restart needs confirmation for more than one; audited; state reported', async () => {
  let r = await t.run(['instances', 'restart', '--prefix', 'oc-ct-']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/refusing to restart 3 instances without confirmation/);
  r = await t.run(['instances', 'restart', 'oc-ct-01', 'oc-ct-03', '--time', '1', '-o', 'json'], { tty: true, answers: ['2'] });
  expect(r.code).toBe(0);
  const rows = JSON.parse(r.stdout);
  expect(rows.map((x: { id: string; result: string; state: string }) => `${x.id} ${x.result} ${x.state}`)).toEqual(['oc-ct-01 ok running', 'oc-ct-03 ok running']);
  const audit = await t.db.selectFrom('admin.admin_logs').select(['action', 'target_id']).where('action', '=', 'instances.restart').execute();
  expect(audit.map((a) => a.target_id).sort()).toEqual(['oc-ct-01', 'oc-ct-03']);
});

test('stop and start one container (no prompt for one)', async () => {
  let r = await t.run(['instances', 'stop', 'oc-ct-03', '--time', '1']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/oc-ct-03\s+ct-02\s+stop\s+ok\s+exited/);
  r = await t.run(['instances', 'start', 'oc-ct-03']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/start\s+ok\s+running/);
});

test('a missing container is reported per instance (exit 3)', async () => {
  await t.db.insertInto('admin.oc_instances').values({ id: 'oc-ct-09', server_id: lab.servers[1]!.id!, name: 'oc-ct-09', gateway_port: 1 }).execute();
  const r = await t.run(['instances', 'restart', 'oc-ct-09']);
  expect(r.code).toBe(3);
  expect(r.stdout).toMatch(/oc-ct-09 .*failed.*no container named oc-ct-09 on ct-02/);
  // one instance named on the command line: a missing container is "not found" (exit 4), in one line
  const l = await t.run(['instances', 'logs', 'oc-ct-09']);
  expect(l.code).toBe(4);
  expect(l.stderr).toMatch(/^error: no container named oc-ct-09 on ct-02 \(list them with: sayclaw servers exec ct-02 -- docker ps -a\)\n$/);
  await t.db.updateTable('admin.oc_instances').set({ deleted_at: new Date() }).where('id', '=', 'oc-ct-09').execute();
});

test('exit codes of one-instance verbs: an unreadable SSH key is 5 (config/connection), an unknown id 4', async () => {
  const s = lab.servers[1]!;
  const srv = (await t.db.selectFrom('admin.servers').selectAll().where('id', '=', s.id!).executeTakeFirstOrThrow());
  await t.db.insertInto('admin.servers').values({ ...srv, id: 'srv-nokey', name: 'ct-nokey', ssh_key_path: '/nonexistent/id_ed25519' } as never).execute();
  await t.db.insertInto('admin.oc_instances').values({ id: 'oc-ct-nokey', server_id: 'srv-nokey', name: 'oc-ct-nokey', gateway_port: 1 }).execute();
  for (const argv of [['instances', 'logs', 'oc-ct-nokey'], ['instances', 'exec', 'oc-ct-nokey', '--', 'true']]) {
    const r = await t.run(argv);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: cannot read ssh key \/nonexistent\/id_ed25519: ENOENT\n$/);
  }
  const u = await t.run(['instances', 'logs', 'OC-CT-01']);
  expect(u.code).toBe(4);
  expect(u.stderr).toMatch(/^error: no such instance: OC-CT-01 \(closest: oc-ct-01/);
  await t.db.updateTable('admin.oc_instances').set({ deleted_at: new Date() }).where('id', '=', 'oc-ct-nokey').execute();
});

test('health direct and via ssh, with --record', async () => {
  // gateways were restarted above: wait until they answer again
  for (const p of Object.values(port)) {
    for (let i = 0; i < 60; i++) {
      if (await fetch(`http://127.0.0.1:${p}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let r = await t.run(['instances', 'health', 'oc-ct-01', 'oc-ct-02', '-o', 'json']);
  expect(r.code).toBe(3);
  let rows = JSON.parse(r.stdout);
  expect(rows[0]).toMatchObject({ id: 'oc-ct-01', status: 'healthy', live: true, ready: true, via: 'http' });
  expect(rows[1]).toMatchObject({ id: 'oc-ct-02', state: 'not_ready', status: 'unhealthy', live: true, ready: false, http_status: 503, reason: 'startup-sidecars' });
  // oc-ct-03 has no gateway_url: via ssh the server itself connects to its port
  r = await t.run(['instances', 'health', '--prefix', 'oc-ct-', '--via', 'ssh', '--record', '-o', 'json']);
  expect(r.code).toBe(3);
  rows = JSON.parse(r.stdout);
  expect(rows.map((x: { id: string; status: string }) => `${x.id} ${x.status}`)).toEqual(['oc-ct-01 healthy', 'oc-ct-02 unhealthy', 'oc-ct-03 healthy']);
  const inst = await t.db.selectFrom('admin.oc_instances').select(['id', 'health_status', 'health_fail_count', 'last_health_at'])
    .where('id', 'in', ['oc-ct-01', 'oc-ct-02', 'oc-ct-03']).orderBy('id').execute();
  expect(inst.map((i) => `${i.id} ${i.health_status} ${i.health_fail_count}`)).toEqual(['oc-ct-01 healthy 0', 'oc-ct-02 unhealthy 3', 'oc-ct-03 healthy 0']);
  expect(inst.every((i) => i.last_health_at instanceof Date)).toBe(true);
  const logs = await t.db.selectFrom('admin.oc_health_logs').selectAll().orderBy('instance_id').execute();
  // the log keeps the detailed state and its reason
  expect(logs.map((l) => `${l.instance_id} ${l.status} ${l.live} ${l.ready} ${l.via} ${l.error}`)).toEqual([
    'oc-ct-01 healthy 1 1 ssh null', 'oc-ct-02 not_ready 1 0 ssh startup-sidecars', 'oc-ct-03 healthy 1 1 ssh null']);
  // secrets never printed
  expect(r.stdout).not.toMatch(/gwt_/);
});
