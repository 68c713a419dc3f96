// servers reconcile against the lab (two sshd + dockerd, busybox stand-in gateways): the plan
// from the drift `servers check` finds, dry run, apply with audit rows, strangers never touched,
// exit 3 while something is left for a person, a server that cannot be checked.
import { jest } from '@jest/globals';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, LAB_IMAGE, type Lab, type LabServer } from '../support/lab.js';
import { runBin } from '../support/bin.js';

jest.setTimeout(300_000);

let t: TestEnv;
let lab: Lab;
let s0: LabServer; let s1: LabServer;
const state = (s: LabServer, name: string) => lab.docker(s, ['inspect', '-f', '{{.State.Status}}', name]);
const cid = (s: LabServer, name: string) => lab.docker(s, ['inspect', '-f', '{{.Id}}', name]);

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 2, namePrefix: 'rc' })]);
  [s0, s1] = lab.servers as [LabServer, LabServer];
  const ids = await lab.register(t.db);
  const port = async () => lab.freePort();
  const rows: Array<{ id: string; server_id: string; gateway_port: number; deleted_at?: Date }> = [];
  const add = async (s: LabServer, id: string, o: { run?: boolean; stop?: boolean; deleted?: boolean; row?: boolean } = {}) => {
    const p = await port();
    if (o.run !== false) lab.runGateway(s, id, p);
    if (o.stop) lab.docker(s, ['stop', '-t', '0', id]);
    if (o.row !== false) rows.push({ id, server_id: s === s0 ? ids[0]! : ids[1]!, gateway_port: p, ...(o.deleted ? { deleted_at: new Date() } : {}) });
  };
  await add(s0, 'oc-rc-01');
  await add(s0, 'oc-rc-02', { stop: true });
  await add(s0, 'oc-rc-03', { deleted: true });
  await add(s0, 'oc-rc-04', { run: false });
  // a stranger: named like an instance, not in the database
  await add(s0, 'oc-rc-99', { row: false });
  await add(s1, 'oc-rc-05', { stop: true });
  // the previous container an upgrade keeps is the instance's, not drift
  lab.docker(s0, ['create', '--name', 'oc-rc-01.prev', '--network', 'host', LAB_IMAGE]);
  // not named like an instance: not looked at
  lab.docker(s1, ['create', '--name', 'web', LAB_IMAGE]);
  await t.db.insertInto('admin.oc_instances').values(rows.map((r) => ({ ...r, name: r.id, gateway_url: `http://127.0.0.1:${r.gateway_port}` }))).execute();
}, 180_000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 60_000);

const snapshot = () => ({
  '02': state(s0, 'oc-rc-02'), '03': state(s0, 'oc-rc-03'), '05': state(s1, 'oc-rc-05'), '99': state(s0, 'oc-rc-99'), prev: state(s0, 'oc-rc-01.prev'), web: state(s1, 'web'),
});

test('dry run (built binary): the plan, what is left and why; nothing changed; exit 3 because something is left', async () => {
  const before = snapshot();
  const r = await runBin(['servers', 'reconcile', '--all', '--dry-run'], { ...t.env });
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/will reconcile 3 containers:/);
  expect(r.stderr).toMatch(/^rc-01\s+oc-rc-02\s+oc-rc-02\s+exited\s+start\s+alive instance, container exited: start it$/m);
  expect(r.stderr).toMatch(/^rc-01\s+oc-rc-03\s+oc-rc-03\s+running\s+stop\s+soft-deleted instance/m);
  expect(r.stderr).toMatch(/^rc-02\s+oc-rc-05\s+oc-rc-05\s+exited\s+start/m);
  expect(r.stderr).toMatch(/rc-01\/oc-rc-04: missing container: alive instance without a container on rc-01: recreate it there \(name oc-rc-04, gateway port \d+, .*sayclaw instances rm oc-rc-04, skipped/);
  expect(r.stderr).toMatch(/rc-01\/oc-rc-99: unknown container: no instance with this name in the database: left alone; look at it with: sayclaw servers exec rc-01 -- docker inspect oc-rc-99, skipped/);
  expect(r.stderr).not.toMatch(/oc-rc-01\.prev|web/);
  expect(r.stderr).toMatch(/dry run: would reconcile 3 containers; nothing changed/);
  expect(snapshot()).toEqual(before);
  expect(await t.db.selectFrom('admin.admin_logs').select('id').execute()).toEqual([]);
});

test('no TTY and no --yes: refused (exit 2), nothing changed', async () => {
  const before = snapshot();
  const r = await t.run(['servers', 'reconcile', '--all']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/refusing to reconcile 3 containers without confirmation \(no TTY\); nothing changed/);
  expect(snapshot()).toEqual(before);
});

test('apply: started, stopped, one audit row per action; the stranger untouched; the rest reported (exit 3)', async () => {
  const stranger = cid(s0, 'oc-rc-99');
  const r = await t.run(['servers', 'reconcile', '--all', '--yes', '-o', 'json', '--reason', 'after the outage']);
  expect(r.code).toBe(3);
  const rows = JSON.parse(r.stdout) as Array<{ instance_id: string | null; container: string; action: string; result: string; state: string }>;
  expect(rows.map((x) => `${x.instance_id} ${x.container} ${x.action} ${x.result}`)).toEqual([
    'oc-rc-02 oc-rc-02 start started', 'oc-rc-03 oc-rc-03 stop stopped', 'oc-rc-05 oc-rc-05 start started', 'oc-rc-04 null recreate left', 'null oc-rc-99 report left']);
  expect(snapshot()).toEqual({ '02': 'running', '03': 'exited', '05': 'running', '99': 'running', prev: 'created', web: 'created' });
  expect(cid(s0, 'oc-rc-99')).toBe(stranger);
  expect(r.stderr).toMatch(/reconciled 3 containers/);
  expect(r.stderr).toMatch(/2 left for a person/);
  const audit = await t.db.selectFrom('admin.admin_logs').select(['action', 'target_id', 'reason', 'after_json']).orderBy('target_id').execute();
  expect(audit.map((a) => `${a.action} ${a.target_id} ${JSON.parse(a.after_json!).action} ${a.reason}`)).toEqual([
    'servers.reconcile oc-rc-02 start after the outage', 'servers.reconcile oc-rc-03 stop after the outage', 'servers.reconcile oc-rc-05 start after the outage']);
  // again: nothing to do, the left items still reported
  const again = await t.run(['servers', 'reconcile', '--all', '--yes', '-o', 'json']);
  expect(again.code).toBe(3);
  expect(again.stderr).toMatch(/nothing to reconcile/);
  expect(JSON.parse(again.stdout).map((x: { instance_id: string; container: string; result: string }) => `${x.instance_id ?? x.container} ${x.result}`)).toEqual(['oc-rc-04 left', 'oc-rc-99 left']);
  expect(await t.db.selectFrom('admin.admin_logs').select('id').execute()).toHaveLength(3);
});

test('one server named; no drift left there is exit 0; a server that cannot be checked is left (exit 3)', async () => {
  let r = await t.run(['servers', 'reconcile', 'rc-02', '--yes']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: 'nothing to reconcile\n1 server: no drift\n' });
  await lab.stopEngine(s1.engine);
  try {
    r = await t.run(['servers', 'reconcile', 'rc-02', '--yes', '-o', 'json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ server_name: 'rc-02', action: 'report', result: 'left', error: expect.stringMatching(/^could not be checked: /) })]);
  } finally {
    await lab.startEngine(s1.engine);
  }
  // an unknown server name: exit 4
  r = await t.run(['servers', 'reconcile', 'rc-77', '--yes']);
  expect(r.code).toBe(4);
});
