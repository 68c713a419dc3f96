// docker.transport=tls: Docker reached on docker_port over TCP with mutual TLS (a lab engine
// listening on 127.0.0.1 with generated certificates), SSH still used for exec and facts.
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, type Lab } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 1, tls: true, namePrefix: 'tls' })]);
  const [id] = await lab.register(t.db);
  const port = await lab.freePort();
  const c = lab.runGateway(lab.servers[0]!, 'oc-tls-01', port);
  await t.db.insertInto('admin.oc_instances').values({ id: 'oc-tls-01', server_id: id!, container_id: c.slice(0, 12), gateway_port: port }).execute();
}, 120000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 60000);

const tlsArgs = () => ['--set', 'docker.transport=tls', '--set', `docker.tls.caFile=${lab.tls!.caFile}`,
  '--set', `docker.tls.certFile=${lab.tls!.certFile}`, '--set', `docker.tls.keyFile=${lab.tls!.keyFile}`];

test('check and restart over TLS', async () => {
  let r = await t.run([...tlsArgs(), 'servers', 'check', '--all', '-o', 'json']);
  expect(r.stderr).toMatch(/1 servers?: 1 ok/);
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.servers[0]).toMatchObject({ status: 'ok', containers_running: 1 });
  expect(j.servers[0].mem_free_mb).toBeGreaterThan(0);
  r = await t.run([...tlsArgs(), 'instances', 'restart', 'oc-tls-01', '--time', '1']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/restart\s+ok\s+running/);
});

test('without the client certificate the engine refuses (reported, exit 3)', async () => {
  const r = await t.run(['--set', 'docker.transport=tls', '--set', `docker.tls.caFile=${lab.tls!.caFile}`, 'servers', 'check', '--all', '-o', 'json']);
  expect(r.code).toBe(3);
  expect(JSON.parse(r.stdout).servers[0].error).toMatch(/^docker: /);
});
