// usage verbs through the built bin/sayclaw (npm run build first): summary, export to a file,
// the Prometheus textfile, the cron lock (two processes at once: one exits 75) and a real
// SIGINT during a large export (exit 130, no file, no temporary file).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { BIN, runBin } from '../support/bin.js';
import { generateFleet, insertSequenceLogs, loadFleet } from '../support/fixtures.js';

let t: TestEnv;
let env: Record<string, string>;
const BASE = Math.floor(Date.UTC(2026, 10, 1) / 1000);

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  // PostgreSQL is never needed: the cut-over is set before every row
  env = { ...t.env, SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/unused', SAYCLAW_USAGE_TIMEZONE: 'America/New_York' };
  const fleet = generateFleet({ seed: 5, logsPerInstance: 0 });
  await loadFleet(t.db, fleet);
  await insertSequenceLogs(t.db, t.names.oneapi, { base: BASE, count: 300000, tokens: fleet.instances.map((i) => i.token_name), stray: true });
}, 120000);
afterAll(async () => { await t?.close(); });

const cut = () => ['--set', `usage.legacyUntil=${BASE - 30 * 86400}`];

test('summary and export from the built binary agree with SQL', async () => {
  const want = (await sql<{ n: string; q: string }>`SELECT COUNT(*) AS n, SUM(quota) AS q FROM ${sql.table('oneapi.logs')}`.execute(t.db)).rows[0]!;
  const s = await runBin([...cut(), 'usage', 'summary', '--since', '2026-10-31', '--until', '2026-11-08', '--by', 'day', '-o', 'json'], env);
  expect(s.stderr).toBe('');
  expect(s.code).toBe(0);
  const rows = JSON.parse(s.stdout) as Array<{ period: string; requests: string; quota: string }>;
  expect(rows.reduce((a, r) => a + BigInt(r.requests), 0n).toString()).toBe(want.n);
  expect(rows.reduce((a, r) => a + BigInt(r.quota), 0n).toString()).toBe(want.q);
  const out = join(t.tmp, 'dept.csv');
  const e = await runBin([...cut(), 'usage', 'export', '--since', '2026-10-31', '--until', '2026-11-08', '--group', 'department', '--out', out], env);
  expect(e.code).toBe(0);
  expect(e.stderr).toMatch(/exported \d+ rows to .*dept\.csv \(sources: mysql\)/);
  expect(readFileSync(out, 'utf8')).toMatch(/^department,requests,prompt_tokens,completion_tokens,quota,cost_usd\r\n/);
  const p = join(t.tmp, 'usage.prom');
  const pr = await runBin([...cut(), 'usage', 'export', '--since', '2026-10-31', '--until', '2026-11-08', '--format', 'prometheus', '--out', p, '--quiet'], env);
  expect(pr.code).toBe(0);
  const check = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(p), encoding: 'utf8' });
  if (check.error) throw new Error(`promtool is needed for this test: bash scripts/lab.sh (apt-get install -y prometheus); ${check.error.message}`);
  expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });
}, 60000);

test('rollup twice and quota from the built binary', async () => {
  const a = await runBin([...cut(), 'usage', 'rollup', '--date', '2026-11-03', '-o', 'json'], env);
  expect(a.stderr).toBe('');
  expect(a.code).toBe(0);
  const first = JSON.parse(a.stdout);
  expect(first).toMatchObject({ days: 1, from_day: '2026-11-03', updated: 0, retired: 0 });
  expect(first.inserted).toBeGreaterThan(0);
  const b = await runBin([...cut(), 'usage', 'rollup', '--date', '2026-11-03', '-o', 'json'], env);
  expect(JSON.parse(b.stdout)).toMatchObject({ inserted: 0, updated: 0, retired: 0, unchanged: first.inserted });
  const q = await runBin([...cut(), 'usage', 'quota'], env);
  expect(q.code).toBe(0);
  expect(q.stderr).toMatch(/no user at or above 80% of quota_daily today \(America\/New_York\)/);
}, 60000);

test('two overlapping runs: the second exits 75; SIGINT mid-export exits 130 and leaves no file', async () => {
  const dir = join(t.tmp, 'out');
  mkdirSync(dir);
  const target = join(dir, 'raw.csv');
  const child = spawn(process.execPath, [BIN, ...cut(), 'usage', 'export', '--raw', '--since', '2026-10-31', '--until', '2026-11-08', '--out', target],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  // wait until the export is writing its temporary file
  for (let i = 0; i < 400 && !readdirSync(dir).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 10));
  expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(true);
  const second = await runBin([...cut(), 'usage', 'export', '--since', 'today', '--out', target], env);
  expect(second.code).toBe(75);
  expect(second.stderr).toMatch(/holds the lock/);
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(stderr).toMatch(/interrupted/);
  expect(readdirSync(dir)).toEqual([]);
  expect(existsSync(target)).toBe(false);
  const jr = await sql<{ status: string }>`SELECT status FROM ${sql.table('admin.job_runs')} WHERE job = 'usage export' ORDER BY started_at DESC LIMIT 1`.execute(t.db);
  expect(jr.rows[0]!.status).toBe('interrupted');
  // the lock was released: the next run works
  const next = await runBin([...cut(), 'usage', 'export', '--since', 'today', '--quiet', '--out', target], env);
  expect(next.code).toBe(0);
  expect(existsSync(target)).toBe(true);
}, 60000);
