// Database faults on write verbs, through the TCP fault proxy (tests/support/fault-proxy.ts)
// between sayclaw and the shared MariaDB (never stopped): a COMMIT whose reply is lost, a
// connection cut before COMMIT, a server that stays unreachable afterwards, a refused connection,
// missing databases and tables. The outcome is never guessed: it is looked up, or called unknown.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { runCli } from '../../commands/index.js';
import { createTestEnv, type TestEnv, type RunOptions } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { mysqlParts } from '../support/services.js';

let t: TestEnv;
let fleet: Fleet;
let proxy: FaultProxy;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 12, prefixes: { 'oc-ai-jp-2-': 4 } });
  await loadFleet(t.db, fleet);
  const m = mysqlParts();
  proxy = await FaultProxy.start({ host: m.host, port: m.port });
});
afterAll(async () => { await proxy?.close(); await t?.close(); });
afterEach(async () => { proxy.clear(); await proxy.accept(); });

/** Run in-process with sayclaw's MySQL traffic going through the proxy. */
const viaProxy = (argv: string[], o: RunOptions = {}) =>
  t.run(argv, { ...o, env: { SAYCLAW_MYSQL_URL: proxy.url(t.env.SAYCLAW_MYSQL_URL), ...o.env } });

async function mkInstance(id: string, extra: Record<string, unknown> = {}) {
  await t.db.insertInto('admin.oc_instances').values({
    id, container_id: null, server_id: fleet.servers[0]!.id, assigned_user_id: null, name: id, gateway_port: 1, gateway_url: null,
    gateway_token: 'gwt_secret_value_1234567890', model: 'gpt-4o', total_requests: '0', total_tokens: '0', notes: null, config_json: null, ...extra,
  }).execute();
}
const deletedAt = async (id: string) => (await t.db.selectFrom('admin.oc_instances').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow()).deleted_at;
const audit = (action: string, target: string) => t.db.selectFrom('admin.admin_logs').selectAll()
  .where('action', '=', action).where('target_id', '=', target).execute();
const COMMIT = /^\s*commit\b/i;
/** the error lines of a run (previews and notes are on stderr too) */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('the fault proxy itself', () => {
  test('forwards traffic and sees the SQL of each statement', async () => {
    const r = await viaProxy(['instances', 'ls', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(1);
    expect(proxy.statements.some((s) => /oc_instances/.test(s.sql))).toBe(true);
  });

  test('cut: the statement never arrives', async () => {
    const fired = proxy.add({ match: /from `[^`]+`\.`oc_instances`/i, action: 'cut' });
    const r = await viaProxy(['instances', 'ls', '-o', 'name']);
    await fired;
    expect(r.code).toBe(5);
    expect(errors(r.stderr)).toHaveLength(1);
  });
});

describe('a lost COMMIT reply: the outcome is looked up, never guessed', () => {
  test('instances rm: COMMIT went through, its OK was lost: "committed", exit 0, one audit row', async () => {
    await mkInstance('lc-rm-1');
    const fired = proxy.add({ match: COMMIT, action: 'drop-reply' });
    const r = await viaProxy(['instances', 'rm', 'lc-rm-1', '--yes', '-o', 'json']);
    await fired;
    expect(r.stderr).not.toMatch(/rolled back/);
    expect(r.stderr).toMatch(/connection was lost during COMMIT.*committed/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ id: 'lc-rm-1', result: 'deleted' }]);
    expect(await deletedAt('lc-rm-1')).not.toBeNull();
    expect(await audit('instances.rm', 'lc-rm-1')).toHaveLength(1);
  });

  test('instances rm: connection cut before COMMIT reached the server: "rolled back", exit 5, nothing changed', async () => {
    await mkInstance('lc-rm-2');
    const fired = proxy.add({ match: COMMIT, action: 'cut' });
    const r = await viaProxy(['instances', 'rm', 'lc-rm-2', '--yes']);
    await fired;
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/rolled back/);
    expect(r.stderr).not.toMatch(/committed/);
    expect(errors(r.stderr)).toHaveLength(1);
    expect(await deletedAt('lc-rm-2')).toBeNull();
    expect(await audit('instances.rm', 'lc-rm-2')).toHaveLength(0);
  });

  test('instances rm: the database stays unreachable: "outcome unknown: check with ...", exit 5', async () => {
    await mkInstance('lc-rm-3');
    const fired = proxy.add({ match: COMMIT, action: 'drop-reply', thenRefuse: true });
    const r = await viaProxy(['instances', 'rm', 'lc-rm-3', '--yes']);
    await fired;
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/outcome unknown/);
    expect(r.stderr).toMatch(/check with: .*admin_logs/);
    expect(errors(r.stderr)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/rolled back|nothing was half-written/);
    // the check it names does tell: the commit went through
    const id = /WHERE id = '([0-9a-f-]{36})'/.exec(r.stderr)?.[1];
    expect(id).toBeDefined();
    const row = await t.db.selectFrom('admin.admin_logs').select(['action', 'target_id']).where('id', '=', id!).executeTakeFirst();
    expect(row).toEqual({ action: 'instances.rm', target_id: 'lc-rm-3' });
    expect(r.stderr).toContain(`check with: sayclaw audit show ${id}`);
    const shown = await t.run(['audit', 'show', id!, '-o', 'json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, action: 'instances.rm', target_id: 'lc-rm-3' });
    // the run id (the first 23 characters) finds every row the run wrote
    const run = await t.run(['audit', 'ls', '--run', id!.slice(0, 23), '-o', 'json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Array<{ id: string }>).map((x) => x.id)).toEqual([id]);
  });

  test('users revoke --unassign: lost COMMIT reply: committed, exit 0', async () => {
    const u = fleet.users.find((x) => x.status === 'active' && fleet.instances.some((i) => i.assigned_user_id === x.id && !i.deleted))!;
    const fired = proxy.add({ match: COMMIT, action: 'drop-reply' });
    const r = await viaProxy(['users', 'revoke', u.email, '--unassign', '--yes', '-o', 'json']);
    await fired;
    expect(r.stderr).toMatch(/committed/);
    expect(r.stderr).not.toMatch(/rolled back/);
    expect(r.code).toBe(0);
    const now = await t.db.selectFrom('portal.users').select('status').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(now.status).toBe('revoked');
    const still = await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', u.id).execute();
    expect(still).toEqual([]);
    expect(await audit('users.revoke', u.id)).toHaveLength(1);
  });

  test('the client side goes the moment COMMIT is sent (the KILL races with the COMMIT): what sayclaw says matches the database', async () => {
    // whichever way the race goes (KILL before the server read the COMMIT: rolled back; during
    // or after it: committed), the verb reports what the lookup found, never a guess
    for (const n of [1, 2, 3, 4, 5]) {
      await mkInstance(`lc-race-${n}`);
      const fired = proxy.add({ match: COMMIT, action: 'drop-reply', clientGoesAtOnce: true });
      const r = await viaProxy(['instances', 'rm', `lc-race-${n}`, '--yes', '-o', 'json']);
      await fired;
      const committed = (await deletedAt(`lc-race-${n}`)) !== null;
      expect({ n, code: r.code, said: /it was committed/.test(r.stderr) ? 'committed' : /rolled back/.test(r.stderr) ? 'rolled back' : r.stderr })
        .toEqual({ n, code: committed ? 0 : 5, said: committed ? 'committed' : 'rolled back' });
      expect(await audit('instances.rm', `lc-race-${n}`)).toHaveLength(committed ? 1 : 0);
      proxy.clear();
    }
  });

  test('keys reencrypt: lost COMMIT reply: committed, exit 0 (the new key file is what the keys now need)', async () => {
    const mk1 = join(t.tmp, 'fault-mk1.key');
    const mk2 = join(t.tmp, 'fault-mk2.key');
    writeFileSync(mk1, randomBytes(32).toString('hex'), { mode: 0o600 });
    writeFileSync(mk2, randomBytes(32).toString('hex'), { mode: 0o600 });
    const add = await t.run(['keys', 'add', '--provider', 'openai', '--name', 'fault', '--secret-stdin'],
      { stdin: 'sk-fault-SECRET-0123456789abcdef', env: { SAYCLAW_MASTER_KEY_FILE: mk1 } });
    expect(add.code).toBe(0);
    const fired = proxy.add({ match: COMMIT, action: 'drop-reply' });
    const r = await viaProxy(['keys', 'reencrypt', '--new-master-key-file', mk2, '--yes', '-o', 'json'], { env: { SAYCLAW_MASTER_KEY_FILE: mk1 } });
    await fired;
    expect(r.stderr).not.toMatch(/rolled back/);
    expect(r.stderr).toMatch(/committed/);
    expect(r.code).toBe(0);
    const v = await t.run(['keys', 'verify'], { env: { SAYCLAW_MASTER_KEY_FILE: mk2 } });
    expect(v.code).toBe(0);
  });
});

describe('deadlocks and lock wait timeouts are retried (the proxy answers with the error)', () => {
  const DEADLOCK = { errno: 1213, sqlState: '40001', message: 'Deadlock found when trying to get lock; try restarting transaction' };
  const LOCK_WAIT = { errno: 1205, sqlState: 'HY000', message: 'Lock wait timeout exceeded; try restarting transaction' };
  const UPDATE = /^update `[^`]+`\.`oc_instances`/i;

  test('a deadlock, then a lock wait timeout, then success: one change, one audit row, each retry said on stderr', async () => {
    await mkInstance('dl-rm-1');
    proxy.add({ match: UPDATE, action: { error: DEADLOCK } });
    const second = proxy.add({ match: UPDATE, action: { error: LOCK_WAIT } });
    const r = await viaProxy(['instances', 'rm', 'dl-rm-1', '--yes', '-o', 'json']);
    await second;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ id: 'dl-rm-1', result: 'deleted' }]);
    expect(r.stderr).toMatch(/deadlock \(MySQL 1213\); rolled back and retried .*attempt 2 of 4/);
    expect(r.stderr).toMatch(/lock wait timeout \(MySQL 1205\); rolled back and retried .*attempt 3 of 4/);
    expect(errors(r.stderr)).toEqual([]);
    expect(await audit('instances.rm', 'dl-rm-1')).toHaveLength(1);
  });

  test('bounded: after 4 attempts one clear line (exit 1), nothing changed, no audit row', async () => {
    await mkInstance('dl-rm-2');
    proxy.add({ match: UPDATE, action: { error: DEADLOCK }, times: 10 });
    const r = await viaProxy(['instances', 'rm', 'dl-rm-2', '--yes']);
    expect(r.code).toBe(1);
    expect(errors(r.stderr)).toEqual([expect.stringMatching(/kept failing with a deadlock \(MySQL 1213\) after 4 attempts; it was rolled back, nothing changed/)]);
    expect(r.stderr.match(/retried/g)).toHaveLength(3);
    expect(await deletedAt('dl-rm-2')).toBeNull();
    expect(await audit('instances.rm', 'dl-rm-2')).toHaveLength(0);
  });

  test('the retry re-reads: a row changed between attempts is reported as such, not overwritten', async () => {
    await mkInstance('dl-rm-3');
    // the first attempt deadlocks; before the retry someone else soft-deletes the row
    const fired = proxy.add({ match: UPDATE, action: { error: DEADLOCK } });
    const meanwhile = fired.then(() => t.db.updateTable('admin.oc_instances').set({ deleted_at: new Date() }).where('id', '=', 'dl-rm-3').execute());
    const r = await viaProxy(['instances', 'rm', 'dl-rm-3', '--yes', '-o', 'json']);
    await meanwhile;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ id: 'dl-rm-3', result: 'already-deleted' }]);
    expect(await audit('instances.rm', 'dl-rm-3')).toHaveLength(0);
  });
});

describe('refused and missing', () => {
  test('ECONNREFUSED before anything was sent says so (not "connection lost ... rolled back")', async () => {
    await mkInstance('lc-ref-1');
    // the operator sits at the prompt; meanwhile the database goes away and refuses new connections
    let stdout = ''; let stderr = '';
    const code = await runCli(['instances', 'rm', 'lc-ref-1'], {
      io: { stdout: { write: (s: string) => { stdout += s; return true; } }, stderr: { write: (s: string) => { stderr += s; return true; } },
        stdin: Readable.from([]), stdoutIsTTY: true, stdinIsTTY: true, stderrIsTTY: true,
        env: { ...t.env, SAYCLAW_MYSQL_URL: proxy.url(t.env.SAYCLAW_MYSQL_URL) }, cwd: process.cwd() },
      prompter: { input: async () => { await proxy.refuse(); proxy.cutAll(); await sleep(100); return 'lc-ref-1'; },
        confirm: async () => true, password: async () => '' },
    });
    expect(stdout).toBe('');
    expect(code).toBe(5);
    expect(errors(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/ECONNREFUSED/);
    expect(stderr).toMatch(/nothing was sent/);
    expect(stderr).not.toMatch(/connection lost|rolled back/);
    expect(await deletedAt('lc-ref-1')).toBeNull();
  });

  test('a refused first connection: exit 5, one line naming the server', async () => {
    await proxy.refuse();
    const r = await viaProxy(['instances', 'ls']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/cannot connect to MySQL .*ECONNREFUSED/);
  });

  test('a missing table: exit 5 with the fix (schema init), not a raw "doesn\'t exist" exit 1', async () => {
    const empty = `${t.id}_empty`;
    await sql.raw(`CREATE DATABASE \`${empty}\``).execute(t.db);
    for (const host of ['127.0.0.1', 'localhost']) await sql.raw(`GRANT SELECT, INSERT, UPDATE ON \`${empty}\`.* TO '${t.cliUser}'@'${host}'`).execute(t.db);
    try {
      const r = await t.run(['users', 'ls'], { env: { SAYCLAW_DB_PORTAL: empty } });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/sayclaw schema init/);
      expect(r.stderr).toMatch(/SAYCLAW_DB_PORTAL/);
      expect(errors(r.stderr)).toHaveLength(1);
      // One API's tables are not sayclaw's to create: the hint names the One API setting, never schema init
      const o = await t.run(['keys', 'oneapi', 'ls'], { env: { SAYCLAW_DB_ONEAPI: empty } });
      expect(o.code).toBe(5);
      expect(errors(o.stderr)).toHaveLength(1);
      expect(o.stderr).toMatch(/SAYCLAW_DB_ONEAPI/);
      expect(o.stderr).not.toMatch(/schema init/);
    } finally {
      await sql.raw(`DROP DATABASE \`${empty}\``).execute(t.db);
    }
  });

  test('a missing database: exit 5 naming the setting to check', async () => {
    const r = await t.run(['instances', 'ls'], { env: { SAYCLAW_DB_ADMIN: `${t.id}_nosuch` } });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/SAYCLAW_DB_ADMIN/);
    expect(errors(r.stderr)).toHaveLength(1);
  });
});
