// instances verbs through the built binary, as an operator types them.
import { runBin } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet } from '../support/fixtures.js';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  await loadFleet(t.db, generateFleet({ seed: 3, deletedRatio: 0, prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-us-1-': 2 } }));
});
afterAll(async () => { await t?.close(); });

test('ls --prefix oc-ai-jp-2- lists 01..12', async () => {
  const r = await runBin(['instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'name'], t.env);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toEqual(Array.from({ length: 12 }, (_, i) => `oc-ai-jp-2-${String(i + 1).padStart(2, '0')}`));
});

test('rm without a TTY refuses, with --yes works, restore undoes it', async () => {
  const refused = await runBin(['instances', 'rm', 'oc-ai-jp-2-12'], t.env);
  expect(refused.code).toBe(2);
  const rm = await runBin(['instances', 'rm', 'oc-ai-jp-2-12', '--yes', '--reason', '测试'], t.env);
  expect(rm.code).toBe(0);
  expect(rm.stderr).toMatch(/undo: sayclaw instances restore oc-ai-jp-2-12/);
  const ls = await runBin(['instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'name'], t.env);
  expect(ls.stdout).not.toContain('oc-ai-jp-2-12');
  expect((await runBin(['instances', 'restore', 'oc-ai-jp-2-12', '--yes'], t.env)).code).toBe(0);
});

test('show of an unknown id exits 4', async () => {
  const r = await runBin(['instances', 'show', 'oc-ai-jp-2-99'], t.env);
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/^error: no such instance: oc-ai-jp-2-99 \(closest: /);
});

test('instances --help lists every verb with examples', async () => {
  const r = await runBin(['instances', '--help'], t.env);
  for (const v of ['ls', 'show', 'rm', 'restore', 'assign', 'unassign', 'reassign', 'check-bindings']) expect(r.stdout).toMatch(new RegExp(`\\n  ${v}\\b`));
  expect(r.stdout).toContain('Examples:');
});

test('show reads config_json as JSON5 (json5 loads from node_modules beside the bundle), secrets masked', async () => {
  await t.db.updateTable('admin.oc_instances').set({ config_json: "{\n  // JSON5\n  gateway: { port: 18789, token: 'gwt_e2e_secret_0123456789', },\n}" })
    .where('id', '=', 'oc-ai-us-1-01').execute();
  const r = await runBin(['instances', 'show', 'oc-ai-us-1-01', '-o', 'json'], t.env);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ config: { gateway: { port: 18789, token: '****6789' } }, config_error: null });
  expect(r.stdout + r.stderr).not.toContain('gwt_e2e_secret');
});
