// What `scripts/lab.sh up` gives an operator: registered servers whose instances have running
// gateway containers (runLabGateways), so instances health/logs work at once.
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { REAL_LAB_SETUP_MS, runLabGateways, startLab, type Lab } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 2, namePrefix: 'up', realGateways: 1 })]);
  await lab.register(t.db);
}, REAL_LAB_SETUP_MS + 180000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 120000);

test('every lab server gets an instance with a running gateway container; the stand-ins answer health at once', async () => {
  const gws = await runLabGateways(lab, t.db);
  const ids = gws.map((g) => g.id).filter((id) => id !== '(none)').sort();
  expect(ids).toEqual(['oc-lab-01', 'oc-lab-02', 'oc-lab-never', 'oc-lab-old']);
  const rows = await t.db.selectFrom('admin.oc_instances').select(['id', 'gateway_url']).where('id', 'in', ids).orderBy('id').execute();
  expect(rows.map((r) => r.id)).toEqual(ids);
  // each container runs on its server's engine under the instance's name
  for (const [i, s] of lab.servers.entries()) expect(lab.docker(s, ['ps', '--format', '{{.Names}}']).split('\n')).toContain(`oc-lab-0${i + 1}`);
  // the stand-ins judged as the README says: healthy, not_ready with its reason, no_probe
  const r = await t.run(['instances', 'health', 'oc-lab-02', 'oc-lab-never', 'oc-lab-old', '-o', 'json']);
  const state = Object.fromEntries((JSON.parse(r.stdout) as Array<{ id: string; state: string }>).map((x) => [x.id, x.state]));
  expect(state).toEqual({ 'oc-lab-02': 'healthy', 'oc-lab-never': 'not_ready', 'oc-lab-old': 'no_probe' });
  // and their logs are there
  const logs = await t.run(['instances', 'logs', 'oc-lab-02', '--tail', '5']);
  expect(logs.code).toBe(0);
}, 180000);
