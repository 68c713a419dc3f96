// The built bin/sayclaw against the lab, as an operator would type it (run `npm run build` first).
import { runBin } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, type Lab } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
let gwPort = 0;

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 2, namePrefix: 'e2e' })]);
  const ids = await lab.register(t.db);
  gwPort = await lab.freePort();
  const c = lab.runGateway(lab.servers[0]!, 'oc-e2e-01', gwPort);
  await t.db.insertInto('admin.oc_instances').values({ id: 'oc-e2e-01', server_id: ids[0]!, container_id: c.slice(0, 12), gateway_port: gwPort, gateway_url: `http://127.0.0.1:${gwPort}` }).execute();
  for (let i = 0; i < 60 && !(await fetch(`http://127.0.0.1:${gwPort}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
}, 120000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 60000);

const run = (argv: string[]) => runBin(argv, { ...t.env });

test('servers ls / check / exec from the binary', async () => {
  let r = await run(['servers', 'ls']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^NAME\s+IP\s+REGION/);
  r = await run(['servers', 'check', '--all']);
  expect(r.stderr).toMatch(/2 servers: 2 ok, 0 drifted, 0 failed/);
  expect(r.code).toBe(0);
  r = await run(['servers', 'exec', '--all', '--', 'echo', 'hello']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^e2e-01 \| hello$/m);
  expect(r.stdout).toMatch(/^e2e-02 \| hello$/m);
});

test('instances health / logs / exec / restart from the binary', async () => {
  let r = await run(['instances', 'health', 'oc-e2e-01', '--record']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/oc-e2e-01\s+e2e-01\s+healthy\s+yes\s+yes/);
  r = await run(['instances', 'logs', 'oc-e2e-01', '--tail', '5']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/listening on 127\.0\.0\.1/);
  r = await run(['instances', 'exec', 'oc-e2e-01', '--', 'cat', '/tmp/www/healthz']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/"status":"live"/);
  r = await run(['instances', 'restart', 'oc-e2e-01', '--time', '1']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/restart\s+ok\s+running/);
});

test('SIGINT during a fan-out of the binary: connections closed, exit 130', async () => {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../support/bin.js');
  const before = lab.servers.map((s) => lab.handshakes(s));
  const child = spawn(process.execPath, [BIN, 'servers', 'exec', '--all', '--', 'sleep', '30'], { env: { ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  // Ctrl-C once the fan-out is under way: both sshds have accepted the binary's session (on a
  // loaded machine the binary may take more than a second just to start)
  for (let i = 0; i < 600 && lab.servers.some((s, k) => lab.handshakes(s) <= before[k]!); i++) await new Promise((r) => setTimeout(r, 50));
  expect(lab.servers.map((s, k) => lab.handshakes(s) > before[k]!)).toEqual([true, true]);
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await closed;
  expect(code).toBe(130);
  expect(Date.now() - t0).toBeLessThan(5000);
  expect(stderr).toMatch(/interrupted/);
});
