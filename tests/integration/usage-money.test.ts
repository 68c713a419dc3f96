// Exact money and streaming at scale: a million small consume rows (made in SQL from MariaDB's
// sequence engine), summed by the CLI and by SQL DECIMAL, must agree to the last digit; the raw
// CSV export of all of them sums to the same; Ctrl-C during that export exits 130 and leaves no
// file; PostgreSQL is never contacted when the range is all MySQL.
import { existsSync, readdirSync, mkdirSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';

const N = 1_000_000;
const BASE = Math.floor(Date.UTC(2026, 10, 10) / 1000);
let t: TestEnv;
const dead = { SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/nowhere', SAYCLAW_USAGE_TIMEZONE: 'Asia/Shanghai' };

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  await sql.raw(`INSERT INTO \`${t.names.oneapi}\`.logs (user_id, created_at, type, content, username, token_name, model_name, quota,
      prompt_tokens, completion_tokens, channel_id, request_id, elapsed_time, is_stream, system_prompt_reset)
    SELECT 1, ${BASE} + (seq * 37) % 172800, IF(seq % 97 = 0, 6, 2), '', 'u', CONCAT('tok-', seq % 50), IF(seq % 3 = 0, 'gpt-4o', 'qwen-max'),
      (seq * 7919) % 997 + 1, seq % 13, seq % 7, 1 + seq % 2, '', 1, 0, 0
    FROM \`${t.names.oneapi}\`.seq_1_to_${N}`).execute(t.db);
}, 300000);
afterAll(async () => { await t?.close(); });

// requests count consume rows (type 2) only; refunds (6) count negative in quota
const sqlTotals = async (types: string) => (await sql<{ n: string; q: string; c500: string; c300: string }>`
  SELECT SUM(type = 2) AS n, SUM(IF(type = 6, -quota, quota)) AS q, SUM(IF(type = 6, -quota, quota) * 0.000002) AS c500,
    ROUND(CAST(SUM(IF(type = 6, -quota, quota)) AS DECIMAL(30,6)) / 300000, 6) AS c300
  FROM ${sql.table('oneapi.logs')} WHERE type IN (${sql.raw(types)})`.execute(t.db)).rows[0]!;

test('a million rows: cost equals SQL DECIMAL to the last digit (500000 and 300000 quota per USD)', async () => {
  for (const types of ['2', '2,6']) {
    const want = await sqlTotals(types);
    const r = await t.run(['usage', 'summary', '--since', `@${BASE}`, '--until', '2026-11-30', '--types', types, '-o', 'json'], { env: dead });
    expect(r.stderr).toBe('');
    const [row] = JSON.parse(r.stdout);
    expect({ requests: row.requests, quota: row.quota, cost_usd: row.cost_usd }).toEqual({ requests: want.n, quota: want.q, cost_usd: want.c500 });
    const r3 = await t.run(['usage', 'summary', '--since', `@${BASE}`, '--until', '2026-11-30', '--types', types, '-o', 'json', '--set', 'usage.quotaPerUsd=300000'], { env: dead });
    expect(JSON.parse(r3.stdout)[0].cost_usd).toBe(want.c300);
  }
}, 120000);

test('raw CSV export of a million rows streams every row; per-row costs sum to the SQL DECIMAL total', async () => {
  const out = join(t.tmp, 'all.csv');
  const r = await t.run(['usage', 'export', '--raw', '--since', `@${BASE}`, '--until', '2026-11-30', '--out', out, '--quiet'], { env: dead });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  let n = 0;
  let micros = 0n;
  const rl = createInterface({ input: createReadStream(out, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (n++ === 0) continue;
    const c = line.slice(line.lastIndexOf(',') + 1);
    const [a, b] = c.split('.');
    micros += BigInt(a!) * 1000000n + BigInt(b!);
  }
  const want = (await sql<{ n: string; c: string }>`SELECT COUNT(*) AS n, SUM(quota * 0.000002) AS c FROM ${sql.table('oneapi.logs')} WHERE type = 2`.execute(t.db)).rows[0]!;
  expect(String(n - 1)).toBe(want.n);
  expect(`${micros / 1000000n}.${(micros % 1000000n).toString().padStart(6, '0')}`).toBe(want.c);
}, 180000);

test('Ctrl-C during an export: exit 130, temporary file removed, no output file, job marked interrupted', async () => {
  const dir = join(t.tmp, 'abort');
  mkdirSync(dir);
  const ac = new AbortController();
  const poll = setInterval(() => { if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.tmp'))) { clearInterval(poll); setTimeout(() => ac.abort(), 50); } }, 5);
  const r = await t.run(['usage', 'export', '--raw', '--since', `@${BASE}`, '--until', '2026-11-30', '--format', 'ndjson', '--out', join(dir, 'x.ndjson')], { env: dead, signal: ac.signal });
  clearInterval(poll);
  expect(r.code).toBe(130);
  expect(readdirSync(dir)).toEqual([]);
  const jr = await sql<{ status: string }>`SELECT status FROM ${sql.table('admin.job_runs')} ORDER BY started_at DESC LIMIT 1`.execute(t.db);
  expect(jr.rows[0]!.status).toBe('interrupted');
}, 120000);
