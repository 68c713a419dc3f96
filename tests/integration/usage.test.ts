// usage verbs against real MariaDB + PostgreSQL: logs in both databases straddling the cut-over
// (with PostgreSQL copies after it that must not count), unmapped tokens, refunds, Chinese
// department names and a daylight-saving zone (Europe/Berlin, 2026-10-25 has 25 hours).
// Every expected figure is computed here from the fixture arrays, not by the code under test.
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import lockfile from 'proper-lockfile';
import { Readable } from 'node:stream';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { Context } from '../../src/context.js';
import { userTokenUsage } from '../../src/fleet/usage/attribution.js';
import { generateFleet, loadFleet, loadLegacyLogs, rng, type Fleet, type FleetLog } from '../support/fixtures.js';

const ZONE = 'Europe/Berlin';
const U = (iso: string) => Math.floor(Date.parse(iso) / 1000);
/** first MySQL row: the detected cut-over is one second before it */
const M0 = U('2026-10-25T01:30:00Z');
const START = U('2026-10-21T22:00:00Z'); // 2026-10-22 00:00 CEST
const END = U('2026-10-28T23:00:00Z'); // 2026-10-29 00:00 CET

let t: TestEnv;
let fleet: Fleet;
let pgLogs: FleetLog[];
let myLogs: FleetLog[];

function makeLogs(): void {
  const r = rng(99);
  const tokens = [...fleet.instances.map((i) => i.token_name), 'stray-token', ''];
  const mk = (at: number, type = 2): FleetLog => {
    const pt = Math.floor(r() * 3000);
    const ct = Math.floor(r() * 1500);
    return { created_at: at, type, token_name: tokens[Math.floor(r() * tokens.length)]!, model_name: ['gpt-4o', 'claude-sonnet-4', 'qwen-max'][Math.floor(r() * 3)]!,
      quota: pt + ct * 3 + Math.floor(r() * 7), prompt_tokens: pt, completion_tokens: ct, channel_id: 1 + Math.floor(r() * 3), username: 'sayclaw' };
  };
  const types = () => { const x = r(); return x < 0.08 ? 6 : x < 0.12 ? 5 : 2; };
  pgLogs = [];
  myLogs = [];
  for (let i = 0; i < 400; i++) pgLogs.push(mk(START - 3600 + Math.floor(r() * (M0 - START + 3600)), types()));
  for (let i = 0; i < 500; i++) myLogs.push(mk(M0 + Math.floor(r() * (END + 3600 - M0)), types()));
  myLogs.push(mk(M0, 2));
  pgLogs.push(mk(M0 - 1, 2));
  // DST edges in Berlin: 2026-10-25 00:30 CEST, 23:30 CET (same day), 2026-10-26 00:30 CET
  for (const at of [U('2026-10-24T22:30:00Z'), U('2026-10-25T22:30:00Z'), U('2026-10-25T23:30:00Z')]) (at < M0 ? pgLogs : myLogs).push(mk(at, 2));
  // rows copied into PostgreSQL after the cut-over: must never count
  for (let i = 0; i < 60; i++) pgLogs.push({ ...myLogs[i]! });
}

interface Agg { requests: bigint; prompt: bigint; completion: bigint; quota: bigint }
const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const dayOf = (unix: number) => dayFmt.format(new Date(unix * 1000));
const micros = (q: bigint) => { const neg = q < 0n; const m = (neg ? -q : q) * 2n; return `${neg ? '-' : ''}${m / 1000000n}.${(m % 1000000n).toString().padStart(6, '0')}`; };

/** The oracle: counted rows with their attribution. */
function counted(from: number, to: number, types = [2]) {
  const cut = Math.min(...myLogs.map((l) => l.created_at)) - 1;
  const inst = new Map(fleet.instances.map((i) => [i.token_name, i]));
  const users = new Map(fleet.users.map((u) => [u.id, u]));
  return [...pgLogs.filter((l) => l.created_at <= cut), ...myLogs.filter((l) => l.created_at > cut)]
    .filter((l) => l.created_at >= from && l.created_at < to && types.includes(l.type))
    .map((l) => {
      const i = inst.get(l.token_name);
      const u = i?.assigned_user_id ? users.get(i.assigned_user_id) : undefined;
      return { ...l, instance: i?.id ?? '(unmapped)', user: u?.id ?? '(unmapped)', department: u ? u.department : '(unmapped)' };
    });
}
function oracle<T extends ReturnType<typeof counted>[number]>(rows: T[], key: (r: T) => string): Map<string, Agg> {
  const m = new Map<string, Agg>();
  for (const r of rows) {
    const k = key(r);
    const a = m.get(k) ?? { requests: 0n, prompt: 0n, completion: 0n, quota: 0n };
    // requests count consume rows only: refunds (6) and errors (5) are not requests
    if (r.type === 2) a.requests++;
    a.prompt += BigInt(r.prompt_tokens); a.completion += BigInt(r.completion_tokens);
    a.quota += BigInt(r.type === 6 ? -r.quota : r.quota);
    m.set(k, a);
  }
  return m;
}
function asRows(m: Map<string, Agg>) {
  return Object.fromEntries([...m].map(([k, a]) => [k, { requests: String(a.requests), prompt_tokens: String(a.prompt), completion_tokens: String(a.completion), quota: String(a.quota), cost_usd: micros(a.quota) }]));
}
const pick = (r: Record<string, string>) => ({ requests: r.requests, prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, quota: r.quota, cost_usd: r.cost_usd });

const env = () => ({ SAYCLAW_USAGE_TIMEZONE: ZONE });
const run = (argv: string[], o: Parameters<TestEnv['run']>[1] = {}) => t.run(argv, { ...o, env: { ...env(), ...o.env } });

beforeAll(async () => {
  t = await createTestEnv();
  fleet = generateFleet({ seed: 11, logsPerInstance: 0 });
  makeLogs();
  await loadFleet(t.db, { ...fleet, logs: myLogs });
  await loadLegacyLogs(t.pg, pgLogs);
}, 120000);
afterAll(async () => { await t?.close(); });

describe('usage summary', () => {
  test('per day and department across both databases, DST days, Chinese names, unmapped rows', async () => {
    const r = await run(['usage', 'summary', '--since', '2026-10-22', '--until', '2026-10-28', '--by', 'day', '--group', 'department', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as Array<Record<string, string>>;
    const want = asRows(oracle(counted(START, U('2026-10-28T23:00:00Z')), (x) => `${dayOf(x.created_at)}|${x.department}`));
    expect(Object.fromEntries(got.map((g) => [`${g.period}|${g.department}`, pick(g)]))).toEqual(want);
    expect(got.some((g) => g.department === '研发部')).toBe(true);
    expect(got.some((g) => g.department === '(unmapped)')).toBe(true);
    expect(new Set(got.map((g) => g.period)).size).toBe(7);
    // the 25-hour day holds both of its edge rows, the next day the third
    const edge = counted(START, END).filter((x) => [U('2026-10-24T22:30:00Z'), U('2026-10-25T22:30:00Z')].includes(x.created_at));
    expect(edge.every((x) => dayOf(x.created_at) === '2026-10-25')).toBe(true);
  });

  test('grouped by user and model, totals equal the oracle; refunds count negative with --types 2,6', async () => {
    for (const types of [[2], [2, 6]]) {
      const r = await run(['usage', 'summary', '--since', '2026-10-20', '--until', '2026-10-30', '--group', 'user', '--group', 'model', '--types', types.join(','), '-o', 'json']);
      expect(r.code).toBe(0);
      const got = JSON.parse(r.stdout) as Array<Record<string, string>>;
      const want = asRows(oracle(counted(U('2026-10-19T22:00:00Z'), U('2026-10-30T23:00:00Z'), types), (x) => `${x.user}|${x.model_name}`));
      expect(Object.fromEntries(got.map((g) => [`${g.user_id}|${g.model_name}`, pick(g)]))).toEqual(want);
    }
  });

  test('every group alone and beside an attributed one, by day, all types: equals the oracle (MySQL pre-aggregates by token)', async () => {
    const col: Record<string, [string, (x: ReturnType<typeof counted>[number]) => string]> = {
      user: ['user_id', (x) => x.user], instance: ['instance_id', (x) => x.instance], department: ['department', (x) => x.department],
      model: ['model_name', (x) => x.model_name], token: ['token_name', (x) => x.token_name], channel: ['channel_id', (x) => String(x.channel_id)],
      type: ['type', (x) => String(x.type)],
    };
    const combos = [...Object.keys(col).map((g) => [g]), ['department', 'channel'], ['instance', 'type'], ['user', 'token'], ['token', 'model', 'channel']];
    for (const groups of combos) {
      const r = await run(['usage', 'summary', '--since', '2026-10-22', '--until', '2026-10-28', '--by', 'day', '--types', '2,5,6', '--group', groups.join(','), '-o', 'json']);
      expect(r.code).toBe(0);
      const got = JSON.parse(r.stdout) as Array<Record<string, string>>;
      const want = asRows(oracle(counted(START, END, [2, 5, 6]), (x) => [dayOf(x.created_at), ...groups.map((g) => col[g]![1](x))].join('|')));
      expect(Object.fromEntries(got.map((g) => [[g.period, ...groups.map((x) => g[col[x]![0]])].join('|'), pick(g)]))).toEqual(want);
    }
  });

  test('a range after the cut-over never contacts PostgreSQL; one before it fails with exit 5', async () => {
    const dead = { SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/nowhere' };
    const ok = await run(['usage', 'summary', '--since', '2026-10-26', '--until', '2026-10-27', '-o', 'json'], { env: dead });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const want = asRows(oracle(counted(U('2026-10-25T23:00:00Z'), U('2026-10-27T23:00:00Z')), () => 'all')).all;
    expect(pick(JSON.parse(ok.stdout)[0])).toEqual(want);
    const out = join(t.tmp, 'never.csv');
    const bad = await run(['usage', 'export', '--since', '2026-10-22', '--until', '2026-10-27', '--raw', '--out', out], { env: dead });
    expect(bad.code).toBe(5);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/PostgreSQL/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(t.tmp).filter((f) => f.includes('never'))).toEqual([]);
  });

  test('a range wholly before the cut-over is served by PostgreSQL alone, grouped by token', async () => {
    const r = await run(['usage', 'summary', '--since', '2026-10-22', '--until', '2026-10-24', '--group', 'token', '-o', 'json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as Array<Record<string, string>>;
    const want = asRows(oracle(counted(START, U('2026-10-24T22:00:00Z')), (x) => x.token_name));
    expect(Object.fromEntries(got.map((g) => [g.token_name, pick(g)]))).toEqual(want);
    expect(r.stderr).toBe('');
  });

  test('bad input exits 2 with one line', async () => {
    for (const argv of [
      ['usage', 'summary', '--since', '2026-10-28', '--until', '2026-10-22'],
      ['usage', 'summary', '--since', '2026-13-45'],
      ['usage', 'summary', '--since', 'last-tuesdayish'],
      ['usage', 'summary', '--group', 'planet'],
      ['usage', 'summary', '--by', 'fortnight'],
      ['usage', 'summary', '--tz', 'Mars/Olympus_Mons'],
      ['usage', 'quota', '--threshold', 'lots'],
      ['usage', 'rollup'],
    ]) {
      const r = await run(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const z = await run(['usage', 'summary'], { env: { SAYCLAW_USAGE_TIMEZONE: 'Nowhere/Land' } });
    expect(z.code).toBe(2);
    expect(z.stderr).toMatch(/unknown time zone "Nowhere\/Land"/);
  });

  test('a key recorded only by oneapi_token_id still attributes (through oneapi.tokens.name)', async () => {
    const inst = fleet.instances.find((i) => !i.deleted)!;
    await t.db.insertInto('oneapi.tokens').values({ id: '9001', user_id: '1', key: 'k'.repeat(48), status: '1', name: 'by-id-only', created_time: '0', accessed_time: '0',
      expired_time: '-1', remain_quota: '0', unlimited_quota: 1, used_quota: '0', models: '', subnet: '' }).execute();
    await t.db.insertInto('admin.oc_api_keys').values({ id: 'k-by-id', instance_id: inst.id, oneapi_token_id: '9001', oneapi_token_name: null, key_hint: null, status: 'active', last_used_at: null, deleted_at: null }).execute();
    await t.db.insertInto('oneapi.logs').values({ user_id: '1', created_at: String(U('2026-11-15T12:00:00Z')), type: '2', content: '', username: 'x', token_name: 'by-id-only',
      model_name: 'gpt-4o', quota: '500', prompt_tokens: '5', completion_tokens: '5', channel_id: '1', request_id: '', elapsed_time: '1', is_stream: 0, system_prompt_reset: 0 }).execute();
    const r = await run(['usage', 'summary', '--since', '2026-11-15', '--group', 'instance', '-o', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ instance_id: inst.id, requests: '1', quota: '500', cost_usd: '0.001000' })]);
  });

  test('on a TTY: a table and a bar chart of cost per period', async () => {
    const r = await run(['usage', 'summary', '--since', '2026-10-24', '--until', '2026-10-26', '--by', 'day'], { tty: true, env: { NO_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PERIOD\s+REQUESTS/);
    expect(r.stdout).toMatch(/cost per period \(USD\)\n2026-10-24 +█+/);
  });
});

describe('usage export', () => {
  test('raw CSV to a file: every counted row once, RFC 4180, attribution, no temp file left', async () => {
    const out = join(t.tmp, 'raw.csv');
    const r = await run(['usage', 'export', '--raw', '--since', '2026-10-22', '--until', '2026-10-28', '--types', '2,6', '--out', out]);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('source,id,created_at,type,token_name,instance_id,user_id,user_email,department,model_name,channel_id,prompt_tokens,completion_tokens,quota,cost_usd');
    const want = counted(START, U('2026-10-28T23:00:00Z'), [2, 6]);
    expect(lines.length - 1).toBe(want.length);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.filter((x) => x[0] === 'postgresql').length).toBe(want.filter((x) => x.created_at < M0).length);
    expect(rows.every((x) => /^2026-10-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/.test(x[2]!))).toBe(true);
    expect(text).toContain('研发部');
    const sumQ = rows.reduce((a, x) => a + BigInt(x[13]!), 0n);
    expect(sumQ).toBe(want.reduce((a, x) => a + BigInt(x.quota), 0n));
    expect(readdirSync(t.tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const jr = await sql<{ status: string; rows_processed: string; finished_at: Date | null }>`SELECT status, rows_processed, finished_at FROM ${sql.table('admin.job_runs')} WHERE job = 'usage export' ORDER BY started_at DESC LIMIT 1`.execute(t.db);
    expect(jr.rows[0]).toMatchObject({ status: 'ok', rows_processed: String(want.length) });
    expect(jr.rows[0]!.finished_at).toBeInstanceOf(Date);
  });

  test('raw JSON and NDJSON: same rows as the CSV, exact strings, Chinese intact', async () => {
    const base = ['usage', 'export', '--raw', '--since', '2026-10-22', '--until', '2026-10-28', '--quiet'];
    const j = await run([...base, '--format', 'json']);
    const n = await run([...base, '--format', 'ndjson']);
    expect(j.code).toBe(0);
    const rows = JSON.parse(j.stdout) as Array<Record<string, string | null>>;
    expect(rows.length).toBe(counted(START, U('2026-10-28T23:00:00Z')).length);
    expect(n.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(rows);
    expect(rows.some((r) => r.department === '研发部')).toBe(true);
    expect(rows.filter((r) => r.user_id === '(unmapped)').every((r) => r.user_email === null)).toBe(true);
    expect(typeof rows[0]!.quota).toBe('string');
    // every row's attribution (instance, user, email, department) equals the oracle's
    const email = new Map(fleet.users.map((u) => [u.id, u.email]));
    const got = rows.map((r) => [Date.parse(r.created_at!) / 1000, r.token_name ?? '', r.quota, r.instance_id, r.user_id, r.user_email, r.department].join('|')).sort();
    const want = counted(START, U('2026-10-28T23:00:00Z')).map((x) => [x.created_at, x.token_name, x.quota, x.instance, x.user, email.get(x.user) ?? '', x.department].join('|')).sort();
    expect(got).toEqual(want);
  });

  test('--out into a missing directory, and prometheus with --raw: exit 2 before any query', async () => {
    const r = await run(['usage', 'export', '--since', '2026-10-26', '--out', join(t.tmp, 'no', 'such', 'dir', 'x.csv')], { env: { SAYCLAW_MYSQL_URL: 'mysql://root@127.0.0.1:1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist/);
    const p = await run(['usage', 'export', '--since', '2026-10-26', '--format', 'prometheus', '--raw']);
    expect(p.code).toBe(2);
  });

  test('aggregates as json and ndjson match the summary; csv to stdout', async () => {
    const base = ['usage', 'export', '--since', '2026-10-22', '--until', '2026-10-28', '--group', 'instance', '--by', 'week'];
    const j = await run([...base, '--format', 'json']);
    const n = await run([...base, '--format', 'ndjson']);
    const s = await run(['usage', 'summary', ...base.slice(2), '-o', 'json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual(JSON.parse(s.stdout));
    expect(n.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(JSON.parse(s.stdout));
    const c = await run([...base, '--quiet']);
    expect(c.stderr).toBe('');
    expect(c.stdout.split('\r\n')[0]).toBe('period,instance_id,requests,prompt_tokens,completion_tokens,quota,cost_usd');
  });

  test('prometheus textfile passes promtool check metrics', async () => {
    const out = join(t.tmp, 'sayclaw_usage.prom');
    const r = await run(['usage', 'export', '--since', '2026-10-22', '--until', '2026-10-28', '--format', 'prometheus', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/sayclaw_usage_cost_usd\{department="研发部",model="[^"]+"\} \d+\.\d{6}/);
    const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (p.error) throw new Error(`promtool is needed for this test: bash scripts/lab.sh (apt-get install -y prometheus); ${p.error.message}`);
    expect({ status: p.status, out: p.stdout + p.stderr }).toEqual({ status: 0, out: '' });
  });

  test('a held lock makes a second run exit 75', async () => {
    const dir = join(t.tmp, '.cache', 'sayclaw');
    mkdirSync(dir, { recursive: true });
    const release = await lockfile.lock(join(dir, 'usage-export.lock'), { realpath: false });
    try {
      const r = await run(['usage', 'export', '--since', '2026-10-26', '--until', '2026-10-27']);
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(/holds the lock/);
      // a different destination has its own lock
      const other = await run(['usage', 'export', '--since', '2026-10-26', '--until', '2026-10-27', '--out', join(t.tmp, 'other.csv')]);
      expect(other.code).toBe(0);
    } finally { await release(); }
    const ok = await run(['usage', 'export', '--since', '2026-10-26', '--until', '2026-10-27']);
    expect(ok.code).toBe(0);
  });
});

describe('usage rollup', () => {
  const rows = async () => (await sql<{ day: string; scope: string; scope_id: string; requests: string; quota: string; cost_usd: string; updated_at: Date }>`
    SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, scope, scope_id, requests, quota, cost_usd, updated_at FROM ${sql.table('admin.usage_daily')}
    WHERE deleted_at IS NULL ORDER BY day, scope, scope_id`.execute(t.db)).rows;

  test('per day and user/instance; a re-run changes nothing; a late row changes only its day', async () => {
    // a dry run computes the same counts and writes nothing: no rows, no audit, no job run
    const dry = await run(['usage', 'rollup', '--since', '2026-10-22', '--until', '2026-10-28', '-o', 'json', '--dry-run', '--yes']);
    expect(dry.code).toBe(0);
    const would = JSON.parse(dry.stdout);
    expect(would).toMatchObject({ dry_run: true, updated: 0, retired: 0, unchanged: 0 });
    expect(await rows()).toEqual([]);
    const none = await sql<{ n: string }>`SELECT (SELECT COUNT(*) FROM ${sql.table('admin.job_runs')} WHERE job = 'usage rollup') + (SELECT COUNT(*) FROM ${sql.table('admin.admin_logs')} WHERE action = 'usage.rollup') AS n`.execute(t.db);
    expect(none.rows[0]!.n).toBe('0');
    // one day is "1 day" (plurals come from one helper)
    const oneDay = await run(['usage', 'rollup', '--date', '2026-10-22', '--dry-run']);
    expect(oneDay.stderr).toMatch(/^would roll up 2026-10-22\.\.2026-10-22 \(1 day, /m);
    const r1 = await run(['usage', 'rollup', '--since', '2026-10-22', '--until', '2026-10-28', '-o', 'json']);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    const first = await rows();
    expect(JSON.parse(r1.stdout).inserted).toBe(would.inserted);
    expect(would.inserted).toBe(first.length);
    const c = counted(START, U('2026-10-28T23:00:00Z'));
    const wantUser = asRows(oracle(c, (x) => `${dayOf(x.created_at)}|${x.user}`));
    const gotUser = Object.fromEntries(first.filter((x) => x.scope === 'user').map((x) => [`${x.day}|${x.scope_id}`, { requests: x.requests, quota: x.quota, cost_usd: x.cost_usd }]));
    expect(gotUser).toEqual(Object.fromEntries(Object.entries(wantUser).map(([k, v]) => [k, { requests: v.requests, quota: v.quota, cost_usd: v.cost_usd }])));
    expect(first.filter((x) => x.scope === 'instance').length).toBe(oracle(c, (x) => `${dayOf(x.created_at)}|${x.instance}`).size);

    const again = await run(['usage', 'rollup', '--since', '2026-10-22', '--until', '2026-10-28', '-o', 'json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, updated: 0, retired: 0, unchanged: first.length });
    expect(await rows()).toEqual(first);

    // a late row on 2026-10-26 (Berlin) for a mapped, assigned instance
    const inst = fleet.instances.find((i) => i.assigned_user_id && !i.deleted)!;
    await t.db.insertInto('oneapi.logs').values({ user_id: '1', created_at: String(U('2026-10-26T10:00:00Z')), type: '2', content: '', username: 'x', token_name: inst.token_name,
      model_name: 'gpt-4o', quota: '1000', prompt_tokens: '10', completion_tokens: '20', channel_id: '1', request_id: '', elapsed_time: '1', is_stream: 0, system_prompt_reset: 0 }).execute();
    myLogs.push({ created_at: U('2026-10-26T10:00:00Z'), type: 2, token_name: inst.token_name, model_name: 'gpt-4o', quota: 1000, prompt_tokens: 10, completion_tokens: 20, channel_id: 1, username: 'x' });
    await new Promise((r) => setTimeout(r, 20));
    const late = await run(['usage', 'rollup', '--since', '2026-10-22', '--until', '2026-10-28', '-o', 'json']);
    expect(JSON.parse(late.stdout)).toMatchObject({ updated: 2, inserted: 0 });
    const after = await rows();
    const changed = after.filter((x, i) => x.updated_at.getTime() !== first[i]!.updated_at.getTime());
    expect(changed.map((x) => `${x.day}|${x.scope}|${x.scope_id}`).sort()).toEqual([`2026-10-26|instance|${inst.id}`, `2026-10-26|user|${inst.assigned_user_id}`].sort());
    const jr = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table('admin.job_runs')} WHERE job = 'usage rollup' AND status = 'ok'`.execute(t.db);
    expect(jr.rows[0]!.n).toBe('3');
    // audited when something changed: the first run and the late row, not the no-op re-run
    const audit = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table('admin.admin_logs')} WHERE action = 'usage.rollup'`.execute(t.db);
    expect(audit.rows[0]!.n).toBe('2');
  });

  test('an instance reassigned to a new user: its days move to the new user, stale rows are soft-deleted', async () => {
    const c = counted(START, U('2026-10-28T23:00:00Z'));
    // an instance whose user has no other instance with usage in the range
    const byUserInst = new Map<string, Set<string>>();
    for (const x of c) if (x.user !== '(unmapped)') byUserInst.set(x.user, (byUserInst.get(x.user) ?? new Set()).add(x.instance));
    const [oldUser, insts] = [...byUserInst].find(([, s]) => s.size === 1)!;
    const inst = [...insts][0]!;
    const idsOf = async (scopeId: string, alive: boolean) => (await sql<{ id: string }>`SELECT id FROM ${sql.table('admin.usage_daily')}
      WHERE scope = 'user' AND scope_id = ${scopeId} AND deleted_at IS ${sql.raw(alive ? 'NULL' : 'NOT NULL')} ORDER BY id`.execute(t.db)).rows.map((x) => x.id);
    const oldIds = await idsOf(oldUser, true);
    expect(oldIds.length).toBeGreaterThan(0);
    const newUser = { id: 'new-user-0001' };
    await t.db.insertInto('portal.users').values({ id: newUser.id, email: 'xin.yonghu@sayclaw.test', name: '新用户', department: '财务部', quota_daily: '100000',
      password_hash: null, google_id: null, revoked_at: null, telegram_user_id: null, telegram_username: null, telegram_bound_at: null }).execute();
    await t.db.updateTable('admin.oc_instances').set({ assigned_user_id: newUser.id }).where('id', '=', inst).execute();
    try {
      const r = await run(['usage', 'rollup', '--since', '2026-10-22', '--until', '2026-10-28', '-o', 'json']);
      const days = new Set(c.filter((x) => x.instance === inst).map((x) => dayOf(x.created_at)));
      expect(JSON.parse(r.stdout)).toMatchObject({ inserted: days.size, updated: 0, retired: days.size });
      const live = await rows();
      expect(live.filter((x) => x.scope_id === oldUser)).toEqual([]);
      expect(live.filter((x) => x.scope_id === newUser.id).map((x) => x.day).sort()).toEqual([...days].sort());
      const dead = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table('admin.usage_daily')} WHERE scope_id = ${oldUser} AND deleted_at IS NOT NULL`.execute(t.db);
      expect(dead.rows[0]!.n).toBe(String(days.size));
    } finally {
      await t.db.updateTable('admin.oc_instances').set({ assigned_user_id: oldUser }).where('id', '=', inst).execute();
    }
    // moved back: the old rows come back to life (same ids, updated in place), the new user's rows retire
    const back = await run(['usage', 'rollup', '--since', '2026-10-22', '--until', '2026-10-28', '-o', 'json']);
    const days = new Set(c.filter((x) => x.instance === inst).map((x) => dayOf(x.created_at)));
    expect(JSON.parse(back.stdout)).toMatchObject({ inserted: 0, updated: days.size, retired: days.size });
    expect(await idsOf(oldUser, true)).toEqual(oldIds);
    expect(await idsOf(oldUser, false)).toEqual([]);
    expect(await idsOf(newUser.id, true)).toEqual([]);
    expect((await idsOf(newUser.id, false)).length).toBe(days.size);
  });
});

describe('userTokenUsage (for the users verbs)', () => {
  test('same attribution and sources as the reports; users without usage get zeros', async () => {
    let err = '';
    const ctx = new Context({ stdout: { write: () => true }, stderr: { write: (x: string) => { err += x; return true; } }, stdin: Readable.from([]),
      stdoutIsTTY: false, stdinIsTTY: false, stderrIsTTY: false, env: { ...t.env, ...env() }, cwd: process.cwd() }, {});
    await ctx.init();
    try {
      const from = U('2026-10-23T00:00:00Z');
      const to = U('2026-10-27T00:00:00Z');
      const ids = [...fleet.users.map((u) => u.id), 'no-such-user'];
      const got = await userTokenUsage(ctx, ids, from, to);
      const want = oracle(counted(from, to).filter((x) => x.user !== '(unmapped)'), (x) => x.user);
      for (const id of ids) {
        const w = want.get(id);
        expect({ id, ...got.get(id) }).toEqual({ id, requests: String(w?.requests ?? 0n), tokens: String((w?.prompt ?? 0n) + (w?.completion ?? 0n)), quota: String(w?.quota ?? 0n) });
      }
      expect(err).toBe('');
    } finally { await ctx.close(); }
  });
});

describe('usage quota', () => {
  test('users over (exit 3) and near their quota_daily today', async () => {
    const now = new Date('2026-10-27T12:00:00Z');
    const today = counted(U('2026-10-26T23:00:00Z'), U('2026-10-27T23:00:00Z'));
    const byUser = oracle(today.filter((x) => x.user !== '(unmapped)'), (x) => x.user);
    // quota_daily counts tokens (prompt + completion), as `users quota` and `users show` do
    const tok = (a: { prompt: bigint; completion: bigint }) => a.prompt + a.completion;
    const [[overId, overAgg]] = [...byUser].sort((a, b) => Number(tok(b[1]) - tok(a[1])));
    await t.db.updateTable('portal.users').set({ quota_daily: String(tok(overAgg!) - 1n) }).where('id', '=', overId!).execute();
    const r = await run(['usage', 'quota', '-o', 'json', '--threshold', '50%'], { clock: () => now });
    expect(r.code).toBe(3);
    const got = JSON.parse(r.stdout) as Array<Record<string, string>>;
    expect(got[0]).toMatchObject({ user_id: overId, status: 'over', used_tokens: String(tok(overAgg!)), quota: String(overAgg!.quota) });
    const users = new Map(fleet.users.map((u) => [u.id, u]));
    const wantNear = [...byUser].filter(([id, a]) => id !== overId && users.get(id)!.status === 'active'
      && tok(a) * 100n >= 50n * BigInt(users.get(id)!.quota_daily) && tok(a) < BigInt(users.get(id)!.quota_daily)).map(([id]) => id).sort();
    expect(got.filter((g) => g.status === 'near').map((g) => g.user_id).sort()).toEqual(wantNear);
    await t.db.updateTable('portal.users').set({ quota_daily: '100000000' }).where('id', '=', overId!).execute();
    const ok = await run(['usage', 'quota', '--threshold', '99%'], { clock: () => now });
    expect(ok.code).toBe(0);
  });
});
