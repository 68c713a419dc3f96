// Races between separate processes of the built bin/sayclaw, as operators run them (two
// terminals, two cron hosts): rm of one id, `instances assign` against `users revoke --unassign`
// of the same user (a deadlock in MySQL's lock order, retried), keys rotate of one key, and two
// rollups of the same day from two hosts (two lock dirs). Never a raw MySQL error, never a
// duplicate audit row, and the data ends in one of the states a serial order gives.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { runBin } from '../support/bin.js';
import { generateFleet, insertSequenceLogs, loadFleet, type Fleet } from '../support/fixtures.js';

let t: TestEnv;
let fleet: Fleet;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 21, prefixes: { 'oc-ai-jp-2-': 2 }, users: 4 });
  await loadFleet(t.db, fleet);
}, 60000);
afterAll(async () => { await t?.close(); });

const bin = (argv: string[], env: Record<string, string> = {}, input?: string) => runBin(argv, { ...t.env, ...env }, input);
const noRawMysql = (stderr: string) => expect(stderr).not.toMatch(/Deadlock found|Lock wait timeout|try restarting transaction|ER_[A-Z_]+/);

async function mkInstances(ids: string[], user: string | null = null) {
  await t.db.insertInto('admin.oc_instances').values(ids.map((id) => ({
    id, container_id: null, server_id: fleet.servers[0]!.id, assigned_user_id: user, name: id, gateway_port: 1, gateway_url: null,
    gateway_token: 'gwt_secret_value_1234567890', model: 'gpt-4o', total_requests: '0', total_tokens: '0', notes: null, config_json: null,
  }))).execute();
}
async function mkUser(email: string): Promise<string> {
  const id = crypto.randomUUID();
  await t.db.insertInto('portal.users').values({ id, email, name: email, department: '研发部', status: 'active', quota_daily: '100000' } as never).execute();
  return id;
}
/** statements of the CLI's MySQL user in a locking read of a portal user (waiting behind the test's lock) */
const lockWaits = async () => Number((await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
  WHERE USER = ${t.cliUser} AND COMMAND = 'Query' AND INFO LIKE '%users%for update'`.execute(t.db)).rows[0]!.n);
const auditCount = async (action: string, target: string) => (await t.db.selectFrom('admin.admin_logs').select('id')
  .where('action', '=', action).where('target_id', '=', target).execute()).length;

test('8 processes rm the same instance: one deletion, one audit row, all exit 0', async () => {
  await mkInstances(['race-rm-1']);
  const rs = await Promise.all(Array.from({ length: 8 }, () => bin(['instances', 'rm', 'race-rm-1', '--yes', '-o', 'json'])));
  for (const r of rs) { noRawMysql(r.stderr); expect(r.code).toBe(0); }
  const results = rs.flatMap((r) => (r.stdout ? JSON.parse(r.stdout) as Array<{ result: string }> : []));
  expect(results.filter((x) => x.result === 'deleted')).toHaveLength(1);
  expect(await auditCount('instances.rm', 'race-rm-1')).toBe(1);
}, 60000);

test('instances assign racing users revoke --unassign of the same user: no deadlock reaches the operator', async () => {
  const ROUNDS = 8;
  let retried = 0;
  const outcomes: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const email = `race-${round}-${randomBytes(3).toString('hex')}@sayclaw.test`;
    const uid = await mkUser(email);
    const fresh = `race-as-${round}`;
    // the user already has an instance, so the revoke has something to unassign
    await mkInstances([`race-own-${round}`], uid);
    await mkInstances([fresh]);
    // Line both up behind a lock on the user row (held by the test), so their transactions
    // overlap every round instead of by chance: revoke waits for the user row first, assign
    // after locking its instance row. When the test lets go and revoke gets the user row first,
    // it then wants assign's instance row while assign wants the user row: a deadlock.
    const blocker = await t.db.startTransaction().execute();
    await blocker.selectFrom('portal.users').select('id').where('id', '=', uid).forUpdate().execute();
    const both = Promise.all([
      bin(['instances', 'assign', fresh, email, '-o', 'json']),
      bin(['users', 'revoke', email, '--unassign', '--yes', '-o', 'json']),
    ]);
    try {
      for (let i = 0; i < 500 && (await lockWaits()) < 2; i++) await new Promise((res) => setTimeout(res, 20));
    } finally {
      await blocker.commit().execute();
    }
    const [a, r] = await both;
    noRawMysql(a.stderr);
    noRawMysql(r.stderr);
    retried += Number(/retried/.test(a.stderr + r.stderr));
    expect(r.code).toBe(0);
    // assign either went first (and was then undone by the revoke) or found the user revoked
    expect([0, 2]).toContain(a.code);
    if (a.code === 2) expect(a.stderr).toMatch(/is revoked; nothing changed/);
    outcomes.push(a.code === 0 ? 'assign first' : 'revoke first');
    expect((await t.db.selectFrom('portal.users').select('status').where('id', '=', uid).executeTakeFirstOrThrow()).status).toBe('revoked');
    expect(await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', uid).execute()).toEqual([]);
    expect(await auditCount('users.revoke', uid)).toBe(1);
    expect(await auditCount('instances.assign', fresh)).toBe(a.code === 0 ? 1 : 0);
    expect(await auditCount('instances.unassign', fresh)).toBe(a.code === 0 ? 1 : 0);
    expect(await auditCount('instances.unassign', `race-own-${round}`)).toBe(1);
  }
  // the deadlock did happen (and was retried) in some rounds: the test exercised what it is about
  console.log(`assign/revoke: ${outcomes.filter((o) => o === 'assign first').length}/${ROUNDS} assign first, ${retried} retried after a deadlock`);
  expect(retried).toBeGreaterThan(0);
}, 180000);

test('4 processes rotate the same key: one rotation, one audit row; the others are refused (exit 2)', async () => {
  const mk = join(t.tmp, 'race.key');
  writeFileSync(mk, randomBytes(32).toString('hex'), { mode: 0o600 });
  const env = { SAYCLAW_MASTER_KEY_FILE: mk };
  const add = await bin(['keys', 'add', '--provider', 'openai', '--name', 'race', '--secret-stdin', '-o', 'json'], env, 'sk-race-SECRET-0000-aaaaaaaaaaaa\n');
  expect(add.code).toBe(0);
  const id = JSON.parse(add.stdout).id as string;
  const rs = await Promise.all([1, 2, 3, 4].map((i) => bin(['keys', 'rotate', id, '--secret-stdin', '--yes', '-o', 'json'], env, `sk-race-SECRET-000${i}-bbbbbbbbbbbb\n`)));
  for (const r of rs) noRawMysql(r.stderr);
  expect(rs.filter((r) => r.code === 0)).toHaveLength(1);
  for (const r of rs.filter((x) => x.code !== 0)) {
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not active|changed meanwhile/);
  }
  expect(await auditCount('keys.rotate', id)).toBe(1);
  const active = await t.db.selectFrom('admin.api_master_keys').select('id').where('name', '=', 'race').where('deleted_at', 'is', null).execute();
  expect(active).toHaveLength(1);
}, 60000);

test('two hosts roll up the same day at once (two lock dirs): same rows as one run, at most one audit row', async () => {
  const BASE = Math.floor(Date.UTC(2026, 10, 3) / 1000);
  await insertSequenceLogs(t.db, t.names.oneapi, { base: BASE, count: 3000, step: 13, spread: 86400,
    tokens: fleet.instances.filter((i) => !i.deleted).map((i) => i.token_name) });
  const argv = ['--set', `usage.legacyUntil=${BASE - 86400}`, 'usage', 'rollup', '--date', '2026-11-03', '-o', 'json'];
  const env = { SAYCLAW_USAGE_TIMEZONE: 'UTC' };
  const rs = await Promise.all(['a', 'b', 'c'].map((h) => bin(['--set', `usage.lockDir=${join(t.tmp, `host-${h}`)}`, ...argv], env)));
  for (const r of rs) { noRawMysql(r.stderr); expect({ code: r.code, stderr: r.stderr.replace(/.*retried.*\n/g, '') }).toEqual({ code: 0, stderr: '' }); }
  const res = rs.map((r) => JSON.parse(r.stdout) as { inserted: number; updated: number; unchanged: number });
  const total = res[0]!.inserted + res[0]!.updated + res[0]!.unchanged;
  expect(total).toBeGreaterThan(0);
  // one of them wrote the day; the others found it unchanged
  expect(res.map((x) => x.inserted).sort((x, y) => y - x)).toEqual([total, 0, 0]);
  const rows = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table('admin.usage_daily')} WHERE day = '2026-11-03' AND deleted_at IS NULL`.execute(t.db);
  expect(Number(rows.rows[0]!.n)).toBe(total);
  expect(await auditCount('usage.rollup', '2026-11-03..2026-11-03')).toBe(1);
}, 120000);
