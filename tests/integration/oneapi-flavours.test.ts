// sayclaw on One API databases as one-api's and new-api's own GORM models create them (MySQL), with
// legacy PostgreSQL copies of each vintage (tests/support/oneapi-flavours.ts). Each flavour runs
// doctor, schema diff, usage summary/export, keys oneapi ls, keys oc ls and users show; expected
// figures come from the fixture arrays (a plain JavaScript oracle), not from the code under test.
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, loadLegacyLogs, loadLogs, rng, type Fleet, type FleetLog } from '../support/fixtures.js';
import type { MysqlFlavour, PgFlavour } from '../support/oneapi-flavours.js';

const U = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const NOW = new Date('2026-11-24T12:00:00Z');
const clock = () => NOW;
/** first MySQL row: the detected cut-over is one second before it */
const M0 = U('2026-11-20T00:00:00Z');
const FROM = U('2026-11-10T00:00:00Z');
const TODAY = U('2026-11-24T00:00:00Z');

interface Logs { my: FleetLog[]; pg: FleetLog[] }

/** Logs in both databases (PostgreSQL before M0, MySQL from it), refunds among them, some today. */
function makeLogs(fleet: Fleet, seed = 3): Logs {
  const r = rng(seed);
  const tokens = [...fleet.instances.map((i) => i.token_name), 'stray-token'];
  const mk = (at: number, type = 2): FleetLog => {
    const pt = Math.floor(r() * 3000);
    const ct = Math.floor(r() * 1500);
    return { created_at: at, type, token_name: tokens[Math.floor(r() * tokens.length)]!, model_name: ['gpt-4o', 'qwen-max'][Math.floor(r() * 2)]!,
      quota: pt + ct * 3 + 1, prompt_tokens: pt, completion_tokens: ct, channel_id: 1 + Math.floor(r() * 2), username: 'sayclaw' };
  };
  const type = () => (r() < 0.1 ? 6 : 2);
  const pg = Array.from({ length: 120 }, () => mk(FROM + Math.floor(r() * (M0 - FROM)), type()));
  const my = [mk(M0, 2), ...Array.from({ length: 160 }, () => mk(M0 + Math.floor(r() * (TODAY - M0)), type())),
    ...Array.from({ length: 40 }, () => mk(TODAY + Math.floor(r() * 40000), type()))];
  return { my, pg };
}

interface Counted extends FleetLog { instance: string; user: string; department: string; source: 'mysql' | 'postgresql' }

/** The oracle: the rows a range counts, with their attribution (token name -> instance -> user). */
function counted(fleet: Fleet, logs: Logs, from: number, to: number, types = [2]): Counted[] {
  const inst = new Map(fleet.instances.map((i) => [i.token_name, i]));
  const users = new Map(fleet.users.map((u) => [u.id, u]));
  return [...logs.pg.map((l) => ({ ...l, source: 'postgresql' as const })), ...logs.my.map((l) => ({ ...l, source: 'mysql' as const }))]
    .filter((l) => l.created_at >= from && l.created_at < to && types.includes(l.type))
    .map((l) => {
      const i = inst.get(l.token_name);
      const u = i?.assigned_user_id ? users.get(i.assigned_user_id) : undefined;
      return { ...l, instance: i?.id ?? '(unmapped)', user: u?.id ?? '(unmapped)', department: u ? u.department : '(unmapped)' };
    });
}

function totals(rows: Counted[], key: (r: Counted) => string) {
  const m = new Map<string, { requests: string; prompt_tokens: string; completion_tokens: string; quota: string }>();
  const acc = new Map<string, bigint[]>();
  for (const r of rows) {
    const a = acc.get(key(r)) ?? [0n, 0n, 0n, 0n];
    if (r.type === 2) a[0]! += 1n; // requests: consume rows only
    a[1]! += BigInt(r.prompt_tokens); a[2]! += BigInt(r.completion_tokens);
    a[3]! += BigInt(r.type === 6 ? -r.quota : r.quota);
    acc.set(key(r), a);
  }
  for (const [k, a] of acc) m.set(k, { requests: String(a[0]), prompt_tokens: String(a[1]), completion_tokens: String(a[2]), quota: String(a[3]) });
  return Object.fromEntries(m);
}
const pick = (r: Record<string, string>) => ({ requests: r.requests, prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, quota: r.quota });

const CASES: Array<{ name: string; flavour: MysqlFlavour; pg: PgFlavour; label: string; pgLabel: string }> = [
  { name: 'one-api (MySQL) + one-api 2025 (PostgreSQL)', flavour: 'one-api', pg: 'one-api', label: 'one-api', pgLabel: 'one-api' },
  { name: 'new-api (MySQL) + one-api 2024-09 vintage (PostgreSQL)', flavour: 'new-api', pg: 'one-api@2024-09', label: 'new-api',
    pgLabel: 'one-api (vintage 2024-04 to 2025-01)' },
  { name: 'new-api (MySQL) + one-api 2024-03 vintage (PostgreSQL)', flavour: 'new-api', pg: 'one-api@2024-03', label: 'new-api',
    pgLabel: 'one-api (vintage before 2024-04)' },
  { name: 'one-api (MySQL) + one-api 2024-03 vintage (PostgreSQL)', flavour: 'one-api', pg: 'one-api@2024-03', label: 'one-api',
    pgLabel: 'one-api (vintage before 2024-04)' },
];

describe.each(CASES)('$name', (c) => {
  let t: TestEnv;
  let fleet: Fleet;
  let logs: Logs;
  beforeAll(async () => {
    t = await createTestEnv({ flavour: c.flavour, pgFlavour: c.pg });
    fleet = generateFleet({ seed: 5, logsPerInstance: 0, users: 8, prefixes: { 'oc-ai-jp-2-': 8, 'oc-ai-us-1-': 3 } });
    logs = makeLogs(fleet);
    await loadFleet(t.db, { ...fleet, logs: logs.my });
    await loadLegacyLogs(t.pg, logs.pg, fleet);
  }, 60000);
  afterAll(async () => { await t?.close(); });

  test('doctor names the flavour and the legacy vintage and exits 0; schema diff exits 0', async () => {
    const r = await t.run(['doctor', '-o', 'json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const j = JSON.parse(r.stdout) as { healthy: boolean; checks: Array<{ check: string; status: string; detail: string }>; drift: Array<{ failing: boolean }> };
    expect(j.healthy).toBe(true);
    expect(j.drift.filter((d) => d.failing)).toEqual([]);
    const check = (name: string) => j.checks.find((x) => x.check === name)?.detail ?? '';
    expect(check(`one api ${t.names.oneapi}`).split(' (')[0]).toBe(c.label === 'one-api' ? 'one-api' : 'new-api');
    expect(check(`one api postgres ${t.pgDatabase}`)).toMatch(new RegExp(`^${c.pgLabel.replace(/[()]/g, '\\$&')}( \\(|$)`));
    expect(check('logs')).toMatch(/^detected: PostgreSQL up to 2026-11-19T23:59:59Z, MySQL .*\.logs from its first row at 2026-11-20T00:00:00Z$/);
    const table = await t.run(['doctor']);
    expect(table.code).toBe(0);
    const d = await t.run(['schema', 'diff']);
    expect(d.code).toBe(0);
    expect(d.stderr).toMatch(/no drift/);
  });

  test('usage summary per instance and per department across both databases equals the oracle', async () => {
    for (const [group, key, col] of [['instance', (x: Counted) => x.instance, 'instance_id'], ['department', (x: Counted) => x.department, 'department']] as const) {
      const r = await t.run(['usage', 'summary', '--since', '2026-11-10', '--until', '2026-11-24', '--group', group, '--types', '2,6', '-o', 'json'], { clock });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const got = JSON.parse(r.stdout) as Array<Record<string, string>>;
      const want = totals(counted(fleet, logs, FROM, U('2026-11-25T00:00:00Z'), [2, 6]), key);
      expect(Object.fromEntries(got.map((g) => [g[col], pick(g)]))).toEqual(want);
    }
  });

  test('usage export --raw: every counted row once, with its attribution', async () => {
    const r = await t.run(['usage', 'export', '--raw', '--since', '2026-11-10', '--until', '2026-11-24', '--format', 'json', '--quiet'], { clock });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, string | null>>;
    const got = rows.map((x) => [x.source, Date.parse(x.created_at!) / 1000, x.token_name, x.quota, x.instance_id, x.user_id, x.department].join('|')).sort();
    const want = counted(fleet, logs, FROM, U('2026-11-25T00:00:00Z')).map((x) => [x.source, x.created_at, x.token_name, x.quota, x.instance, x.user, x.department].join('|')).sort();
    expect(got).toEqual(want);
  });

  test('keys oneapi ls lists every token with exact money; keys oc ls maps every alive instance', async () => {
    const r = await t.run(['keys', 'oneapi', 'ls', '-o', 'json'], { clock });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((x) => x.name).sort()).toEqual(fleet.instances.map((i) => i.token_name).sort());
    expect(rows.every((x) => x.status === 'enabled' && x.remain_usd === '10.000000' && x.used_usd === '0.024690')).toBe(true);
    const oc = await t.run(['keys', 'oc', 'ls', '-o', 'json'], { clock });
    const ocRows = JSON.parse(oc.stdout) as Array<{ instance_id: string; problems: string[]; token_status: string }>;
    for (const i of fleet.instances) {
      const row = ocRows.find((x) => x.instance_id === i.id)!;
      expect({ id: i.id, problems: row.problems, status: row.token_status }).toEqual({ id: i.id, problems: i.deleted ? ['instance_deleted'] : [], status: 'enabled' });
    }
  });

  test('usage rollup stores the oracle per day and user; usage quota runs', async () => {
    const r = await t.run(['usage', 'rollup', '--since', '2026-11-10', '--until', '2026-11-23', '-o', 'json'], { clock });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const { sql } = await import('kysely');
    const stored = await sql<{ day: string; scope_id: string; requests: string; quota: string }>`SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, scope_id, requests, quota
      FROM ${sql.table('admin.usage_daily')} WHERE scope = 'user' AND deleted_at IS NULL`.execute(t.db);
    const day = (x: Counted) => new Date(x.created_at * 1000).toISOString().slice(0, 10);
    const want = totals(counted(fleet, logs, FROM, U('2026-11-24T00:00:00Z')), (x) => `${day(x)}|${x.user}`);
    expect(Object.fromEntries(stored.rows.map((x) => [`${x.day}|${x.scope_id}`, { requests: x.requests, quota: x.quota }])))
      .toEqual(Object.fromEntries(Object.entries(want).map(([k, v]) => [k, { requests: v.requests, quota: v.quota }])));
    const q = await t.run(['usage', 'quota', '-o', 'json'], { clock });
    expect([0, 3]).toContain(q.code);
    expect(q.stderr).not.toMatch(/error/);
  });

  test("users show: today's usage of each user with usage equals the oracle", async () => {
    const today = counted(fleet, logs, TODAY, TODAY + 86400);
    const byUser = totals(today, (x) => x.user);
    const some = fleet.users.filter((u) => byUser[u.id]).slice(0, 3);
    expect(some.length).toBeGreaterThan(0);
    for (const u of some) {
      const r = await t.run(['users', 'show', u.email, '-o', 'json'], { clock });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const w = byUser[u.id]!;
      expect(JSON.parse(r.stdout).usage_today).toMatchObject({ date: '2026-11-24', requests: w.requests, quota: w.quota,
        tokens: String(BigInt(w.prompt_tokens) + BigInt(w.completion_tokens)) });
    }
  });
});

// ---- new-api: soft-deleted tokens, names that are not unique, refunds, task settlements, expiry 0,
// QuotaPerUnit from One API's options table.
describe('new-api: what counts', () => {
  let t: TestEnv;
  let fleet: Fleet;
  const AT = U('2026-11-24T01:00:00Z');
  const inst = (n: number) => fleet.instances[n - 1]!;
  const log = (token: string, tokenId: number, quota: number, o: Partial<FleetLog> = {}): FleetLog => ({
    created_at: AT + Math.floor(Math.random() * 3600), type: 2, token_name: token, token_id: tokenId, model_name: 'gpt-4o', quota,
    prompt_tokens: 10, completion_tokens: 20, channel_id: 1, username: 'sayclaw', ...o });
  const settle = (token: string, tokenId: number, pre: number, actual: number): FleetLog => log(token, tokenId, actual - pre, {
    prompt_tokens: 0, completion_tokens: 0,
    other: JSON.stringify({ task_id: `task_${pre}_${actual}`, model_ratio: 1, group_ratio: 1, total_tokens: 0, pre_consumed: pre, actual_quota: actual, quota_delta: actual - pre }) });
  const base = { user_id: '1', status: '1', created_time: String(U('2026-10-01T00:00:00Z')), accessed_time: '0', expired_time: '-1',
    remain_quota: '1000', unlimited_quota: 0, used_quota: '0' };
  const summary = async (argv: string[], o: Parameters<TestEnv['run']>[1] = {}) => {
    const r = await t.run(['usage', 'summary', '--since', '2026-11-24', '--group', 'instance', '-o', 'json', ...argv], { clock, ...o });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return Object.fromEntries((JSON.parse(r.stdout) as Array<Record<string, string>>).map((x) => [x.instance_id!, x]));
  };

  beforeAll(async () => {
    t = await createTestEnv({ flavour: 'new-api', pgFlavour: 'one-api@2024-03' });
    fleet = generateFleet({ seed: 9, users: 6, logsPerInstance: 0, deletedRatio: 0, unassignedRatio: 0, prefixes: { 'oc-ai-jp-2-': 6 } });
    await loadFleet(t.db, fleet);
    const name = (n: number) => inst(n).token_name;
    // 02: its token was deleted in new-api (kept as a row), and a new token took the same name
    await t.db.updateTable('oneapi.tokens').set({ deleted_at: new Date('2026-11-01T00:00:00Z') }).where('id', '=', '2').execute();
    // 03: another One API user has a token of the same name; 04: a name-only key whose name two tokens share;
    // 05: a name-only key with a unique name; 06: expired_time 0
    await t.db.insertInto('oneapi.tokens').values([
      { ...base, id: '20', key: 'n'.repeat(44) + 'Z020', name: name(2) },
      { ...base, id: '30', key: 'o'.repeat(44) + 'Z030', name: name(3), user_id: '2' },
      { ...base, id: '40', key: 'p'.repeat(44) + 'Z040', name: name(4), user_id: '2' },
    ]).execute();
    await t.db.updateTable('admin.oc_api_keys').set({ oneapi_token_id: null }).where('instance_id', 'in', [inst(4).id, inst(5).id]).execute();
    await t.db.updateTable('oneapi.tokens').set({ expired_time: '0' }).where('id', '=', '6').execute();
    await loadLogs(t.db, [
      // 01: three requests, a refund, two task settlements (one returns quota, one charges more)
      log(name(1), 1, 100), log(name(1), 1, 200), log(name(1), 1, 300),
      log(name(1), 1, 50, { type: 6, prompt_tokens: 0, completion_tokens: 0 }),
      settle(name(1), 1, 140, 100), settle(name(1), 1, 75, 100),
      // 02: rows of the deleted token and of its namesake: nobody's
      log(name(2), 2, 1000), log(name(2), 20, 2000),
      // 03: the instance's own token, and the other user's token of the same name
      log(name(3), 3, 7), log(name(3), 30, 70000),
      // 04: ambiguous name-only key: by id nobody; a row without a token id goes by the name
      log(name(4), 4, 11), log(name(4), 0, 13),
      // 05: name-only key with a unique name: by id through the name
      log(name(5), 5, 17),
      // 06: a row from before new-api (token_id 0): by name
      log(name(6), 0, 19),
    ]);
  }, 60000);
  afterAll(async () => { await t?.close(); });

  test('refunds are not requests but count negative; task settlements are not requests, their quota delta counts', async () => {
    const consume = await summary([]);
    expect(pick(consume[inst(1).id]!)).toEqual({ requests: '3', prompt_tokens: '30', completion_tokens: '60', quota: String(600 - 40 + 25) });
    const net = await summary(['--types', '2,6']);
    expect(pick(net[inst(1).id]!)).toEqual({ requests: '3', prompt_tokens: '30', completion_tokens: '60', quota: String(600 - 40 + 25 - 50) });
    expect(net[inst(1).id]!.cost_usd).toBe('0.001070');
    const byType = await t.run(['usage', 'summary', '--since', '2026-11-24', '--group', 'type', '--types', '2,6', '-o', 'json'], { clock });
    expect(JSON.parse(byType.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ type: '6', requests: '0', quota: '-50' })]));
  });

  test('token_id attributes exactly: a namesake token of another user, a deleted token, an ambiguous name map to nobody', async () => {
    const s = await summary([]);
    expect(s[inst(2).id]).toBeUndefined();
    expect(s[inst(3).id]!.quota).toBe('7');
    expect(s[inst(4).id]!.quota).toBe('13');
    expect(s[inst(5).id]!.quota).toBe('17');
    expect(s[inst(6).id]!.quota).toBe('19');
    expect(s['(unmapped)']!.quota).toBe(String(1000 + 2000 + 70000 + 11));
    const raw = await t.run(['usage', 'export', '--raw', '--since', '2026-11-24', '--format', 'json', '--quiet'], { clock });
    const rows = JSON.parse(raw.stdout) as Array<Record<string, string>>;
    const by = (q: string) => rows.filter((x) => x.quota === q).map((x) => x.instance_id);
    expect({ deleted: by('1000'), namesake: by('2000'), other: by('70000'), own: by('7'), ambiguous: by('11'), noId: by('13'), unique: by('17') })
      .toEqual({ deleted: ['(unmapped)'], namesake: ['(unmapped)'], other: ['(unmapped)'], own: [inst(3).id], ambiguous: ['(unmapped)'], noId: [inst(4).id], unique: [inst(5).id] });
  });

  test('--group token keeps two tokens of one name apart (token_id beside token_name)', async () => {
    const r = await t.run(['usage', 'summary', '--since', '2026-11-24', '--group', 'token', '-o', 'csv'], { clock });
    expect(r.stdout.split('\r\n')[0]).toBe('token_id,token_name,requests,prompt_tokens,completion_tokens,quota,cost_usd');
    const rows = (JSON.parse((await t.run(['usage', 'summary', '--since', '2026-11-24', '--group', 'token', '-o', 'json'], { clock })).stdout) as Array<Record<string, string>>)
      .filter((x) => x.token_name === inst(3).token_name).map((x) => [x.token_id, x.quota]).sort();
    expect(rows).toEqual([['3', '7'], ['30', '70000']]);
  });

  test('keys oneapi ls: a soft-deleted token is hidden, shown as deleted with --all, never under a live status', async () => {
    const names = async (argv: string[]) => (JSON.parse((await t.run(['keys', 'oneapi', 'ls', '-o', 'json', ...argv], { clock })).stdout) as Array<{ id: string }>).map((x) => x.id).sort();
    expect(await names([])).not.toContain('2');
    expect(await names(['--status', 'enabled'])).not.toContain('2');
    expect(await names(['--all', '--status', 'enabled'])).not.toContain('2');
    expect(await names(['--status', 'deleted'])).toEqual(['2']);
    const all = JSON.parse((await t.run(['keys', 'oneapi', 'ls', '-o', 'json', '--all'], { clock })).stdout) as Array<Record<string, unknown>>;
    expect(all.find((x) => x.id === '2')).toMatchObject({ status: 'deleted', effective_status: 'deleted', deleted_at: '2026-11-01T00:00:00.000Z' });
    expect(all.find((x) => x.id === '20')).toMatchObject({ status: 'enabled', effective_status: 'enabled', deleted_at: null });
  });

  test('keys oc ls: a key to a deleted token maps nothing; a name two tokens share is ambiguous', async () => {
    const r = await t.run(['keys', 'oc', 'ls', '-o', 'json'], { clock });
    const rows = JSON.parse(r.stdout) as Array<{ instance_id: string; problems: string[]; token_status: string | null; remain_quota: string | null }>;
    const by = (n: number) => rows.find((x) => x.instance_id === inst(n).id)!;
    expect(by(2)).toMatchObject({ problems: ['token_deleted'], token_status: 'deleted', remain_quota: null });
    expect(by(3).problems).toEqual([]);
    expect(by(4)).toMatchObject({ problems: ['token_name_ambiguous'], token_status: null });
    expect(by(5).problems).toEqual([]);
    expect(by(6)).toMatchObject({ problems: ['token_expired'], token_status: 'expired (status enabled)' });
  });

  test('expired_time 0 is expired in every field of keys oneapi ls', async () => {
    const j = JSON.parse((await t.run(['keys', 'oneapi', 'ls', '--prefix', inst(6).token_name, '-o', 'json'], { clock })).stdout);
    expect(j).toEqual([expect.objectContaining({ id: '6', expired_time: '0', effective_status: 'expired', expires_at: '1970-01-01T00:00:00.000Z' })]);
    const table = await t.run(['keys', 'oneapi', 'ls', '--prefix', inst(6).token_name], { clock });
    expect(table.stdout).toMatch(/enabled\s+expired\s+5000000\s+10\.000000\s+12345\s+0\.024690\s+expired 1970-01-01T00:00:00\.000Z/);
    // never "expiring": it is already expired
    const soon = await t.run(['keys', 'oneapi', 'ls', '--expiring-within', '3650d', '-o', 'name'], { clock });
    expect(soon.stdout).not.toMatch(/^6$/m);
  });

  test("users show counts today's requests without refunds or settlements", async () => {
    const u = fleet.users.find((x) => x.id === inst(1).assigned_user_id)!;
    const r = await t.run(['users', 'show', u.email, '-o', 'json'], { clock });
    const mine = fleet.instances.filter((i) => i.assigned_user_id === u.id).map((i) => i.id);
    expect(mine).toEqual([inst(1).id]);
    expect(JSON.parse(r.stdout).usage_today).toMatchObject({ requests: '3', quota: String(600 - 40 + 25), tokens: '90' });
  });

  test("QuotaPerUnit comes from One API's options table (a decimal, exact); config overrides; a bad value warns", async () => {
    await t.db.insertInto('oneapi.options').values({ key: 'QuotaPerUnit', value: '250000.5' }).execute();
    try {
      // 585 / 250000.5 = 0.0023399953... -> 0.002340; 12345 / 250000.5 = 0.04937990... -> 0.049380;
      // 5000000 / 250000.5 = 19.99996000008 -> 19.999960
      expect((await summary([]))[inst(1).id]!.cost_usd).toBe('0.002340');
      const k = JSON.parse((await t.run(['keys', 'oneapi', 'ls', '--prefix', inst(1).token_name, '-o', 'json'], { clock })).stdout);
      expect(k[0]).toMatchObject({ used_usd: '0.049380', remain_usd: '19.999960' });
      const table = await t.run(['keys', 'oneapi', 'ls', '--prefix', inst(1).token_name], { clock, tty: true });
      expect(table.stderr).toMatch(/money = quota \/ 250000\.5 per USD \(One API .*options QuotaPerUnit\)/);
      expect((await summary(['--set', 'usage.quotaPerUsd=500000']))[inst(1).id]!.cost_usd).toBe('0.001170');
      expect((await summary(['--set', 'usage.quotaPerUsd=7.5']))[inst(1).id]!.cost_usd).toBe('78.000000');
      await t.db.updateTable('oneapi.options').set({ value: '5e5x' }).where('key', '=', 'QuotaPerUnit').execute();
      const bad = await t.run(['usage', 'summary', '--since', '2026-11-24', '-o', 'json'], { clock });
      expect(bad.code).toBe(0);
      expect(bad.stderr).toMatch(/options QuotaPerUnit is not a positive number; using 500000/);
      const badCfg = await t.run(['usage', 'summary', '--set', 'usage.quotaPerUsd=0'], { clock });
      expect(badCfg.code).toBe(5);
      expect(badCfg.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: invalid config: usage\.quotaPerUsd: .*>0/)]);
    } finally {
      await t.db.updateTable('oneapi.options').set({ value: '500000' }).where('key', '=', 'QuotaPerUnit').execute();
    }
  });
});

// ---- LOG_SQL_DSN: One API writes its logs to another MySQL database, or to PostgreSQL.
describe('LOG_SQL_DSN', () => {
  test('logs in their own MySQL database (mysql.databases.logs); without it, the empty main table is named as an assumption', async () => {
    const t = await createTestEnv({ logsDatabase: true });
    try {
      const fleet = generateFleet({ seed: 4, users: 5, logsPerInstance: 4, logsUntil: U('2026-11-24T00:00:00Z'), prefixes: { 'oc-ai-jp-2-': 5 } });
      await loadFleet(t.db, fleet, undefined, { logsTable: 'oneapi_logs.logs' });
      const since = ['usage', 'summary', '--since', '2026-11-10', '--until', '2026-11-24', '--group', 'instance', '-o', 'json'];
      const r = await t.run(since, { clock });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const want = totals(counted(fleet, { my: fleet.logs, pg: [] }, U('2026-11-10T00:00:00Z'), U('2026-11-25T00:00:00Z')), (x) => x.instance);
      expect(Object.fromEntries((JSON.parse(r.stdout) as Array<Record<string, string>>).map((g) => [g.instance_id, pick(g)]))).toEqual(want);
      const doc = JSON.parse((await t.run(['doctor', '-o', 'json'])).stdout) as { healthy: boolean; checks: Array<{ check: string; status: string; detail: string }> };
      expect(doc.healthy).toBe(true);
      expect(doc.checks).toEqual(expect.arrayContaining([
        expect.objectContaining({ check: `schema ${t.names.oneapi} (+ ${t.names.logs}.logs)`, status: 'ok' }),
        expect.objectContaining({ check: `one api ${t.names.oneapi}`, status: 'ok', detail: expect.stringMatching(/^one-api \(logs\.request_id/) }),
        expect.objectContaining({ check: 'logs', status: 'ok', detail: expect.stringContaining(`MySQL ${t.names.logs}.logs from its first row`) }),
      ]));
      // the same fleet without telling sayclaw where the logs are
      const blind = { SAYCLAW_DB_LOGS: '' };
      const b = await t.run(since, { clock, env: blind });
      expect(b.code).toBe(0);
      expect(b.stderr).toMatch(new RegExp(`^warning: MySQL ${t.names.oneapi}\\.logs is empty: assuming every log row is still in the legacy PostgreSQL .*LOG_SQL_DSN`));
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
      const bd = JSON.parse((await t.run(['doctor', '-o', 'json'], { env: blind })).stdout) as typeof doc;
      expect(bd.checks).toEqual(expect.arrayContaining([
        expect.objectContaining({ check: 'logs', status: 'warn', detail: expect.stringMatching(/is empty: assuming/) }),
        expect.objectContaining({ check: 'logs location', status: 'warn', detail: expect.stringMatching(/tokens have been used.*LOG_SQL_DSN/) }),
      ]));
    } finally { await t.close(); }
  }, 60000);

  test('usage.logsSource postgres: every row from PostgreSQL, attributed by its token_id (new-api on both)', async () => {
    const t = await createTestEnv({ flavour: 'new-api', pgFlavour: 'new-api' });
    try {
      const fleet = generateFleet({ seed: 6, users: 4, logsPerInstance: 3, deletedRatio: 0, logsUntil: U('2026-11-24T00:00:00Z'), prefixes: { 'oc-ai-jp-2-': 4 } });
      await loadFleet(t.db, { ...fleet, logs: [] });
      const i3 = fleet.instances[2]!;
      await t.db.insertInto('oneapi.tokens').values({ user_id: '2', status: '1', created_time: '0', accessed_time: '0', expired_time: '-1', remain_quota: '0',
        unlimited_quota: 1, used_quota: '0', id: '99', key: 'q'.repeat(48), name: i3.token_name }).execute();
      const namesake: FleetLog = { ...fleet.logs[0]!, token_name: i3.token_name, token_id: 99, quota: 123456 };
      await loadLegacyLogs(t.pg, [...fleet.logs, namesake], fleet);
      const set = ['--set', 'usage.logsSource=postgres'];
      const r = await t.run(['usage', 'summary', '--since', '2026-11-10', '--until', '2026-11-24', '--group', 'instance', '-o', 'json', ...set], { clock });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const want = totals(counted(fleet, { my: [], pg: fleet.logs }, U('2026-11-10T00:00:00Z'), U('2026-11-25T00:00:00Z')), (x) => x.instance);
      want['(unmapped)'] = { requests: '1', prompt_tokens: String(namesake.prompt_tokens), completion_tokens: String(namesake.completion_tokens), quota: '123456' };
      expect(Object.fromEntries((JSON.parse(r.stdout) as Array<Record<string, string>>).map((g) => [g.instance_id, pick(g)]))).toEqual(want);
      const raw = await t.run(['usage', 'export', '--raw', '--since', '2026-11-10', '--until', '2026-11-24', '--format', 'json', '--quiet', ...set], { clock });
      const rows = JSON.parse(raw.stdout) as Array<Record<string, string>>;
      expect(rows.every((x) => x.source === 'postgresql')).toBe(true);
      expect(rows.filter((x) => x.quota === '123456').map((x) => x.instance_id)).toEqual(['(unmapped)']);
      expect(rows.filter((x) => x.token_name === i3.token_name && x.quota !== '123456').every((x) => x.instance_id === i3.id)).toBe(true);
      const doc = JSON.parse((await t.run(['doctor', '-o', 'json', ...set])).stdout) as { checks: Array<{ check: string; detail: string }> };
      expect(doc.checks.find((c) => c.check === 'logs')!.detail).toMatch(/usage.logsSource is postgres: every log row is read from PostgreSQL/);
      // logsSource mysql: PostgreSQL is not needed, not even by doctor
      const my = await t.run(['doctor', '-o', 'json', '--set', 'usage.logsSource=mysql'], { env: { SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/nowhere' } });
      expect(my.code).toBe(0);
      expect(JSON.parse(my.stdout).checks).toEqual(expect.arrayContaining([{ check: 'postgres', status: 'ok', detail: 'not used: usage.logsSource is mysql' }]));
      expect(doc.checks.find((c) => c.check === `one api postgres ${t.pgDatabase}`)!.detail).toMatch(/^new-api/);
    } finally { await t.close(); }
  }, 60000);
});
