// The investigation verbs through the built bin/sayclaw (npm run build first), as an operator
// types them: "who deleted it?", its timeline, the audit row in full, and the cron dead-man's
// switch writing a textfile that promtool accepts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { runBin } from '../support/bin.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';

let t: TestEnv;
let env: Record<string, string>;
let fleet: Fleet;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  env = { ...t.env, SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/unused', SAYCLAW_OPERATOR: '值班-王' };
  fleet = generateFleet({ seed: 81, servers: 4, users: 8, prefixes: { 'oc-ai-jp-2-': 9 } });
  await loadFleet(t.db, fleet);
}, 60000);
afterAll(async () => { await t?.close(); });

test('who deleted it: rm, then audit ls, instances history and audit show from the binary', async () => {
  const id = fleet.instances.find((i) => !i.deleted)!.id;
  const rm = await runBin(['instances', 'rm', id, '--yes', '--reason', '员工离职 🙂'], env);
  expect(rm.code).toBe(0);
  const ls = await runBin(['audit', 'ls', '--target', id, '--since', '1d', '-o', 'json'], env);
  expect(ls.stderr).toBe('');
  expect(ls.code).toBe(0);
  const rows = JSON.parse(ls.stdout) as Array<Record<string, unknown>>;
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ action: 'instances.rm', os_user: 'tester', operator: '值班-王', reason: '员工离职 🙂', target_id: id });
  const hist = await runBin(['instances', 'history', id], env);
  expect(hist.code).toBe(0);
  expect(hist.stdout.split('\n')[0]).toMatch(/^TIME\s+EVENT\s+TARGET\s+ACTOR\s+DETAIL\s+REASON$/);
  expect(hist.stdout).toMatch(/instances\.rm\s+\S+\s+tester \(值班-王\)\s+deleted_at: null → \S+\s+员工离职 🙂/);
  const show = await runBin(['audit', 'show', String(rows[0]!.id)], env);
  expect(show.code).toBe(0);
  expect(show.stdout).toMatch(/\n- deleted_at: null\n\+ deleted_at: \d{4}-/);
  const nf = await runBin(['audit', 'show', '00000000-dead-4000-8000-000000000000'], env);
  expect(nf.code).toBe(4);
  expect(nf.stderr).toMatch(/^error: no such audit row: /);
}, 60000);

test('jobs: a real export run, then jobs ls and jobs check --format prometheus through promtool', async () => {
  // sayclaw's own jobs are known before their first run: an empty list, not an error
  const none = await runBin(['jobs', 'ls', '--job', 'usage.rollup', '-o', 'json'], env);
  expect({ code: none.code, out: none.stdout }).toEqual({ code: 0, out: '[]\n' });
  expect(none.stderr).not.toMatch(/error/);
  const out = join(t.tmp, 'x.csv');
  expect((await runBin(['--set', 'usage.legacyUntil=0', 'usage', 'export', '--since', 'today', '--out', out, '-q'], env)).code).toBe(0);
  const ls = await runBin(['jobs', 'ls', '-o', 'json'], env);
  expect(ls.code).toBe(0);
  expect(JSON.parse(ls.stdout)[0]).toMatchObject({ job: 'usage export', status: 'ok' });
  const prom = join(t.tmp, 'jobs.prom');
  const late = await runBin(['jobs', 'check', '--max-age', 'usage.export=1h,usage.rollup=26h', '--format', 'prometheus', '--out', prom], env);
  expect(late.code).toBe(3);
  expect(late.stderr).toContain('warning: job usage.rollup late: never ran\n');
  const text = readFileSync(prom, 'utf8');
  expect(text).toContain('sayclaw_job_late{job="usage.export"} 0\n');
  const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (p.error) throw new Error(`promtool is needed for this test: bash scripts/lab.sh install; ${p.error.message}`);
  expect({ status: p.status, out: p.stdout + p.stderr }).toEqual({ status: 0, out: '' });
  const ok = await runBin(['jobs', 'check', '--max-age', 'usage.export=1h', '-q'], env);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toBe('');
}, 60000);

test('the groups are in --help and in the completion scripts', async () => {
  const h = await runBin(['--help'], env);
  for (const v of ['audit ls', 'audit show', 'jobs ls', 'jobs check', 'instances history', 'users history', 'servers history']) expect(h.stdout).toContain(v);
  const bash = await runBin(['completion', 'bash'], env);
  expect(bash.stdout).toMatch(/"audit"\) words="ls show /);
  expect(bash.stdout).toMatch(/"jobs check"\) words="[^"]*--max-age[^"]*--stuck-after/);
  expect(bash.stdout).toMatch(/"instances"\) words="[^"]*\bhistory\b/);
  const fish = await runBin(['completion', 'fish'], env);
  expect(fish.stdout).toContain("-a 'audit'");
});
