// The fleet-wide guard of every bulk write (src/plan.ts): a selection of more than 5 rows that
// is more than half of the alive fleet is refused without an explicit --max, even under the
// default --max and even with --yes; and a dry run's preview under -q is its output (stdout).
// A small fleet like the one in the report: 16 alive oc-ai- instances, 7 alive servers.
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';

let t: TestEnv;
let fleet: Fleet;
const aliveIds = () => fleet.instances.filter((i) => !i.deleted).map((i) => i.id);

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 14, servers: 8, deletedRatio: 0, prefixes: { 'oc-ai-jp-2-': 10, 'oc-ai-sg-1-': 6 } });
  await loadFleet(t.db, fleet);
});
afterAll(async () => { await t?.close(); });

const deletedCount = async () => Number((await t.db.selectFrom('admin.oc_instances').select((e) => e.fn.countAll<string>().as('n'))
  .where('deleted_at', 'is not', null).executeTakeFirstOrThrow()).n);
const auditCount = async () => Number((await t.db.selectFrom('admin.admin_logs').select((e) => e.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

test('rm of 16 of 16 alive instances with --yes under the default --max: refused, nothing changed', async () => {
  expect(aliveIds()).toHaveLength(16);
  const r = await t.run(['instances', 'rm', '--prefix', 'oc-ai-', '--yes', '--reason', 'oops']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/would soft-delete 16 instances: more than half of the 16 alive instances; nothing changed \(.*--max 16/);
  expect(r.stdout).toBe('');
  expect(await deletedCount()).toBe(0);
  expect(await auditCount()).toBe(0);
  // on a TTY the same: the guard comes before any question
  const tty = await t.run(['instances', 'rm', '--prefix', 'oc-ai-'], { tty: true, answers: ['16'] });
  expect(tty.code).toBe(2);
  expect(await deletedCount()).toBe(0);
});

test('the guard needs more than 5 rows and more than half; an explicit --max N lets it through', async () => {
  // 6 of 16 is not more than half; 5 would be fine anyway
  const six = await t.run(['instances', 'rm', '--prefix', 'oc-ai-sg-1-', '--yes']);
  expect(six.code).toBe(0);
  expect(await deletedCount()).toBe(6);
  // restoring 6 into a fleet of 10 alive makes them 6 of 16: allowed
  expect((await t.run(['instances', 'restore', '--prefix', 'oc-ai-sg-1-', '--yes'])).code).toBe(0);
  // 10 of 16 is: refused; with --max 10 it goes ahead, and the undo line carries --max
  const ten = await t.run(['instances', 'rm', '--prefix', 'oc-ai-jp-2-', '--yes']);
  expect(ten.code).toBe(2);
  expect(ten.stderr).toMatch(/more than half of the 16 alive instances/);
  const ok = await t.run(['instances', 'rm', '--prefix', 'oc-ai-jp-2-', '--yes', '--max', '10']);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toMatch(/soft-deleted 10 instances/);
  const undo = /undo: sayclaw (instances restore .*)$/m.exec(ok.stderr)![1]!;
  expect(undo).toMatch(/ --max 10$/);
  // the undo without its --max is refused (10 of the 16 they would make), with it it works
  const bare = undo.replace(/ --max 10$/, '').split(' ');
  expect((await t.run([...bare, '--yes'])).code).toBe(2);
  const back = await t.run([...undo.split(' '), '--yes']);
  expect(back.code).toBe(0);
  expect(await deletedCount()).toBe(0);
  // --max below the selection is still the --max refusal
  const low = await t.run(['instances', 'rm', '--prefix', 'oc-ai-', '--yes', '--max', '12']);
  expect(low.code).toBe(2);
  expect(low.stderr).toMatch(/would soft-delete 16 instances, more than --max 12/);
});

test('a dry run shows the plan and says the real run would be refused; under -q the preview is stdout', async () => {
  const dry = await t.run(['instances', 'rm', '--prefix', 'oc-ai-', '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toBe('');
  expect(dry.stderr).toMatch(/will soft-delete 16 instances:/);
  expect(dry.stderr).toMatch(/a real run would be refused: would soft-delete 16 instances: more than half/);
  const q = await t.run(['instances', 'rm', '--prefix', 'oc-ai-', '--dry-run', '-q', '-o', 'json']);
  expect(q.code).toBe(0);
  expect(JSON.parse(q.stdout).map((x: { id: string }) => x.id).sort()).toEqual(aliveIds().sort());
  expect(q.stderr).not.toMatch(/will soft-delete|dry run:/);
  const qt = await t.run(['instances', 'rm', 'oc-ai-jp-2-01', 'oc-ai-jp-2-02', '-n', '-q']);
  expect(qt.stdout).toMatch(/^ID\s+SERVER[\s\S]*oc-ai-jp-2-01[\s\S]*oc-ai-jp-2-02/);
  expect(await deletedCount()).toBe(0);
});

test('restart, stop and start follow the same guard (refused before any server is reached)', async () => {
  const audits = await auditCount();
  for (const v of ['restart', 'stop', 'start']) {
    const r = await t.run(['instances', v, '--prefix', 'oc-ai-', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`would ${v} 16 instances: more than half of the 16 alive instances`));
    const all = await t.run(['instances', v, '--all', '--yes']);
    expect(all.code).toBe(2);
  }
  expect(await auditCount()).toBe(audits);
});

test('servers rm of most servers is refused without --max, even with --yes --force', async () => {
  const alive = fleet.servers.filter((s) => !s.deleted).map((s) => s.name);
  expect(alive).toHaveLength(7);
  const r = await t.run(['servers', 'rm', ...alive.slice(0, 6), '--yes', '--force']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/would soft-delete 6 servers: more than half of the 7 alive servers/);
  const dry = await t.run(['servers', 'rm', ...alive.slice(0, 6), '--force', '-n', '-q', '-o', 'name']);
  expect(dry.stdout.trim().split('\n')).toHaveLength(6);
  expect((await t.db.selectFrom('admin.servers').select('id').where('deleted_at', 'is not', null).execute())).toHaveLength(1);
});
