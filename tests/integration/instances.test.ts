// instances: ls / show / rm / restore / assign / check-bindings against real MariaDB, run as a
// MySQL user without DELETE. Oracles are computed from the fixture data in JavaScript.
import { sql } from 'kysely';
import mysql from 'mysql2/promise';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';
import { naturalCompare } from '../../src/db/sql-helpers.js';
import { mysqlParts } from '../support/services.js';
import { OUTPUT_FORMATS } from '../../src/output/render.js';

let t: TestEnv;
let fleet: Fleet;
const alive = () => fleet.instances.filter((i) => !i.deleted);

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 7, prefixes: { 'oc-ai-jp-2-': 15, 'oc-ai-jp-20-': 3, 'oc-ai-us-1-': 5 }, extraIds: ['oc-ai-jp-2-100', 'oc-ai-jp-2-9'] });
  await loadFleet(t.db, fleet);
});
afterAll(async () => { await t?.close(); });

/** Minimal instances for write tests, isolated by their own prefix. */
async function mkInstances(ids: string[], extra: Record<string, unknown> = {}) {
  await t.db.insertInto('admin.oc_instances').values(ids.map((id) => ({
    id, container_id: null, server_id: fleet.servers[0]!.id, assigned_user_id: null, name: id, gateway_port: 1, gateway_url: null,
    gateway_token: 'gwt_secret_value_1234567890', model: 'gpt-4o', total_requests: '0', total_tokens: '0', notes: null, config_json: null, ...extra,
  }))).execute();
}
const deletedAt = async (id: string) => (await t.db.selectFrom('admin.oc_instances').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow()).deleted_at;
const auditRows = (id: string) => t.db.selectFrom('admin.admin_logs').selectAll().where('target_id', '=', id).orderBy('created_at').execute();

describe('instances ls', () => {
  test('--prefix oc-ai-jp-2- finds 01..15, 9 and 100 (10 and up included), alive only, natural order', async () => {
    const r = await t.run(['instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'name']);
    expect(r.code).toBe(0);
    const want = alive().map((i) => i.id).filter((i) => i.startsWith('oc-ai-jp-2-')).sort(naturalCompare);
    expect(r.stdout.trim().split('\n')).toEqual(want);
    expect(want).toEqual(expect.arrayContaining(['oc-ai-jp-2-100']));
    expect(want.some((i) => /-1[0-5]$/.test(i))).toBe(true);
    expect(r.stdout).not.toContain('oc-ai-jp-20-');
    const idx = (id: string) => want.indexOf(id);
    if (idx('oc-ai-jp-2-9') >= 0 && idx('oc-ai-jp-2-10') >= 0) expect(idx('oc-ai-jp-2-9')).toBeLessThan(idx('oc-ai-jp-2-10'));
    expect(idx('oc-ai-jp-2-100')).toBe(want.length - 1);
  });

  test('the list query uses the primary key range (EXPLAIN)', async () => {
    const { applyFilter } = await import('../../src/fleet/instances/ls.js');
    const base = t.db.selectFrom('admin.oc_instances as i').leftJoin('admin.servers as s', 's.id', 'i.server_id')
      .leftJoin('portal.users as u', 'u.id', 'i.assigned_user_id').select(['i.id']);
    const q = await applyFilter(t.db, base as never, { prefix: 'oc-ai-jp-2-' });
    const c = (q as unknown as { compile(): { sql: string; parameters: unknown[] } }).compile();
    const ex = await sql.raw<{ table: string; type: string; key: string }>(`EXPLAIN ${c.sql.replace(/\?/g, () => mysql.escape(c.parameters.shift() as string))}`).execute(t.db);
    const i = ex.rows.find((r) => r.table === 'i')!;
    expect(i.key).toBe('PRIMARY');
    expect(i.type).toBe('range');
  });

  test('filters combine: --server by name, ip or id, --region, --model, --health, --user, --unassigned', async () => {
    const s = fleet.servers.find((x) => !x.deleted && x.region === 'jp-2')!;
    const onServer = alive().filter((i) => i.server_id === s.id).map((i) => i.id).sort(naturalCompare);
    for (const term of [s.name, s.ip, s.id]) {
      const r = await t.run(['instances', 'ls', '--server', term, '-o', 'name']);
      expect(r.stdout.trim().split('\n').filter(Boolean)).toEqual(onServer);
    }
    const r2 = await t.run(['instances', 'ls', '--prefix', 'oc-ai-jp-2-', '--model', 'gpt-4o', '--health', 'healthy', '-o', 'json']);
    const want2 = alive().filter((i) => i.id.startsWith('oc-ai-jp-2-') && i.model === 'gpt-4o' && i.health_status === 'healthy').map((i) => i.id).sort(naturalCompare);
    expect(JSON.parse(r2.stdout).map((x: { id: string }) => x.id)).toEqual(want2);
    const r3 = await t.run(['instances', 'ls', '--unassigned', '--region', 'us-west-1', '-o', 'name']);
    expect(r3.stdout.trim().split('\n').filter(Boolean)).toEqual(alive().filter((i) => !i.assigned_user_id && i.id.startsWith('oc-ai-us-1-')).map((i) => i.id).sort(naturalCompare));
    const u = fleet.users.find((x) => alive().some((i) => i.assigned_user_id === x.id))!;
    const r4 = await t.run(['instances', 'ls', '--user', u.email, '-o', 'name']);
    expect(r4.stdout.trim().split('\n')).toEqual(alive().filter((i) => i.assigned_user_id === u.id).map((i) => i.id).sort(naturalCompare));
    const r6 = await t.run(['instances', 'ls', '--user', 'nobody@nowhere.test']);
    expect(r6.code).toBe(4);
    expect(r6.stderr).toMatch(/no such portal user: nobody@nowhere.test/);
    const r5 = await t.run(['instances', 'ls', '--server', 'no-such-server']);
    expect(r5.code).toBe(4);
    expect(r5.stderr).toMatch(/no such server: no-such-server/);
  });

  test('--deleted, --all, --sort, --limit; empty result exits 0', async () => {
    const del = await t.run(['instances', 'ls', '--deleted', '-o', 'name']);
    expect(del.stdout.trim().split('\n').filter(Boolean)).toEqual(fleet.instances.filter((i) => i.deleted).map((i) => i.id).sort(naturalCompare));
    const all = await t.run(['instances', 'ls', '--all', '-o', 'name']);
    expect(all.stdout.trim().split('\n')).toHaveLength(fleet.instances.length);
    const top = await t.run(['instances', 'ls', '--sort', '-tokens', '--limit', '3', '-o', 'json']);
    const want = alive().sort((a, b) => (BigInt(b.total_tokens) > BigInt(a.total_tokens) ? 1 : BigInt(b.total_tokens) < BigInt(a.total_tokens) ? -1 : 0)).slice(0, 3);
    expect(JSON.parse(top.stdout).map((x: { total_tokens: string }) => x.total_tokens)).toEqual(want.map((i) => i.total_tokens));
    const none = await t.run(['instances', 'ls', '--prefix', 'zzz-none-']);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    const bad = await t.run(['instances', 'ls', '--sort', 'colour']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown sort field "colour"/);
    const both = await t.run(['instances', 'ls', '--deleted', '--all']);
    expect(both.code).toBe(2);
  });

  test('columns, field names, masked token in every format; count line only on a TTY', async () => {
    const j = JSON.parse((await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-', '-o', 'json'])).stdout);
    expect(Object.keys(j[0])).toEqual(['id', 'server_name', 'region', 'assigned_email', 'model', 'health_status', 'gateway_port',
      'total_requests', 'total_tokens', 'last_health_at', 'container_id', 'gateway_url', 'gateway_token', 'created_at', 'deleted_at']);
    expect(j[0].gateway_token).toMatch(/^\*\*\*\*/);
    expect(typeof j[0].total_tokens).toBe('string');
    for (const f of ['json', 'ndjson', 'csv', 'yaml', 'wide', 'table']) {
      const r = await t.run(['instances', 'ls', '--all', '-o', f]);
      for (const i of fleet.instances) expect(r.stdout).not.toContain(i.gateway_token);
    }
    const wide = await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/CONTAINER\s+GATEWAY URL\s+TOKEN\s+CREATED/);
    // the fixture's last_health_at is 2026-11-20T03:00Z (none for health "unknown"): 2 hours before this clock
    const tty = await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-'], { tty: true, env: { NO_COLOR: '1' }, clock: () => new Date('2026-11-20T05:30:00Z') });
    expect(tty.stderr).toMatch(new RegExp(`^${alive().filter((i) => i.id.startsWith('oc-ai-us-1-')).length} instances\\n$`));
    const [head, ...body] = tty.stdout.trimEnd().split('\n');
    const col = head!.indexOf('LAST HEALTH');
    expect(col).toBeGreaterThan(0);
    expect(body.map((l) => `${l.split(/\s+/)[0]} ${l.slice(col).trim()}`)).toEqual(alive().filter((i) => i.id.startsWith('oc-ai-us-1-'))
      .sort((a, b) => naturalCompare(a.id, b.id)).map((i) => `${i.id} ${i.health_status === 'unknown' ? '-' : '2h ago'}`));
    const notty = await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-']);
    expect(notty.stderr).toBe('');
    expect(notty.stdout).toMatch(/\d{4}-\d\d-\d\dT/);
  });
});

describe('instances show', () => {
  test('everything about one instance; secrets masked', async () => {
    const inst = alive().find((i) => i.assigned_user_id)!;
    const r = await t.run(['instances', 'show', inst.id, '-o', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.id).toBe(inst.id);
    expect(j.server.name).toBeTruthy();
    expect(j.assignment.consistent).toBe(true);
    expect(j.assignment.assigned_email).toBe(fleet.users.find((u) => u.id === inst.assigned_user_id)!.email);
    expect(j.config.gateway.token).toMatch(/^\*\*\*\*/);
    expect(r.stdout).not.toContain(inst.gateway_token);
    expect(r.stdout).not.toContain(inst.gateway_token.slice(4, 30));
    const table = await t.run(['instances', 'show', inst.id]);
    expect(table.stdout).toMatch(/sayclaw_portal\.user_instances/);
    expect(table.stdout).toContain('"token": "****');
    expect(table.stdout).not.toContain(inst.gateway_token);
  });

  test('the portal\'s Telegram bot token (user_instances.tg_bot_token) never appears, in any format', async () => {
    const inst = alive().find((i) => i.assigned_user_id)!;
    const bot = '7777777777:AAH-botSECRET-do-not-print-0123456789';
    await t.db.updateTable('portal.user_instances').set({ tg_bot_token: bot, tg_bot_username: 'sayclaw_test_bot' })
      .where('instance_id', '=', inst.id).execute();
    for (const f of OUTPUT_FORMATS) {
      const r = await t.run(['instances', 'show', inst.id, '-o', f]);
      expect({ f, code: r.code }).toEqual({ f, code: 0 });
      for (const piece of [bot, bot.slice(11, 30), 'botSECRET']) {
        expect({ f, piece, out: r.stdout.includes(piece) || r.stderr.includes(piece) }).toEqual({ f, piece, out: false });
      }
    }
  });

  test('unknown id: exit 4 with the closest ids', async () => {
    const r = await t.run(['instances', 'show', 'oc-ai-jp-2-16']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no such instance: oc-ai-jp-2-16 \(closest: oc-ai-jp-2-\d+, /);
  });

  test('health history is shown when recorded', async () => {
    const inst = alive()[0]!;
    await t.db.insertInto('admin.oc_health_logs').values({ id: 'h1', instance_id: inst.id, status: 'unhealthy', live: 1, ready: 0, latency_ms: 12, http_status: 503, error: 'readyz 503', via: 'http' }).execute();
    const j = JSON.parse((await t.run(['instances', 'show', inst.id, '-o', 'json'])).stdout);
    expect(j.health_history[0]).toMatchObject({ status: 'unhealthy', http_status: 503 });
  });
});

describe('instances rm / restore', () => {
  test('dry run lists exactly the rows and changes nothing', async () => {
    await mkInstances(['rm-a-1', 'rm-a-2', 'rm-a-3']);
    const r = await t.run(['instances', 'rm', '--prefix', 'rm-a-', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/will soft-delete 3 instances/);
    for (const id of ['rm-a-1', 'rm-a-2', 'rm-a-3']) { expect(r.stderr).toContain(id); expect(await deletedAt(id)).toBeNull(); }
    expect(r.stderr).toMatch(/dry run: .*nothing changed/);
  });

  test('without a TTY it needs --yes: exit 2, nothing changed', async () => {
    const r = await t.run(['instances', 'rm', 'rm-a-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/without confirmation.*--yes/);
    expect(await deletedAt('rm-a-1')).toBeNull();
    expect(await auditRows('rm-a-1')).toHaveLength(0);
  });

  test('on a TTY: type the id for one, the count for many; a wrong answer changes nothing', async () => {
    const wrong = await t.run(['instances', 'rm', 'rm-a-1'], { tty: true, answers: ['rm-a-2'] });
    expect(wrong.code).toBe(2);
    expect(await deletedAt('rm-a-1')).toBeNull();
    const ok = await t.run(['instances', 'rm', 'rm-a-1', '--reason', '离职：张伟 🚀'], { tty: true, answers: ['rm-a-1'] });
    expect(ok.code).toBe(0);
    expect(await deletedAt('rm-a-1')).not.toBeNull();
    const many = await t.run(['instances', 'rm', 'rm-a-2', 'rm-a-3'], { tty: true, answers: ['2'] });
    expect(many.code).toBe(0);
    expect(many.stdout).toMatch(/rm-a-2\s+deleted/);
  });

  test('audit row: who, what, before/after, reason byte for byte', async () => {
    const [a] = await auditRows('rm-a-1');
    expect(a).toMatchObject({ action: 'instances.rm', target_type: 'instance', os_user: 'tester', reason: '离职：张伟 🚀' });
    const hex = await sql<{ h: string }>`SELECT HEX(reason) AS h FROM ${sql.table('admin.admin_logs')} WHERE id = ${a!.id}`.execute(t.db);
    expect(hex.rows[0]!.h).toBe(Buffer.from('离职：张伟 🚀', 'utf8').toString('hex').toUpperCase());
    expect(JSON.parse(a!.before_json!).deleted_at).toBeNull();
    expect(JSON.parse(a!.after_json!).deleted_at).toMatch(/^\d{4}-/);
    const withOp = await t.run(['instances', 'restore', 'rm-a-1', '--yes'], { env: { SAYCLAW_OPERATOR: '值班-alice' } });
    expect(withOp.code).toBe(0);
    const rows = await auditRows('rm-a-1');
    expect(rows[1]).toMatchObject({ action: 'instances.restore', operator: '值班-alice' });
  });

  test('already-deleted ids are reported, not counted twice; restore of alive ones likewise', async () => {
    await mkInstances(['rm-b-1', 'rm-b-2']);
    await t.run(['instances', 'rm', 'rm-b-1', '--yes']);
    const r = await t.run(['instances', 'rm', 'rm-b-1', 'rm-b-2', '--yes', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expect.arrayContaining([{ id: 'rm-b-2', result: 'deleted' }, { id: 'rm-b-1', result: 'already-deleted' }]));
    expect(r.stderr).toMatch(/soft-deleted 1 instance\b/);
    expect((await auditRows('rm-b-1')).filter((x) => x.action === 'instances.rm')).toHaveLength(1);
  });

  test('unknown id in the list: exit 4 and nothing changes', async () => {
    await mkInstances(['rm-c-1']);
    const r = await t.run(['instances', 'rm', 'rm-c-1', 'rm-c-404', '--yes']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no such instance: rm-c-404; nothing changed/);
    expect(await deletedAt('rm-c-1')).toBeNull();
  });

  test('bulk guard: more than --max rows refuses unless --max is raised', async () => {
    await mkInstances(Array.from({ length: 25 }, (_, i) => `rm-d-${i}`));
    const r = await t.run(['instances', 'rm', '--prefix', 'rm-d-', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/would soft-delete 25 instances, more than --max 20; nothing changed/);
    expect(await deletedAt('rm-d-0')).toBeNull();
    const ok = await t.run(['instances', 'rm', '--prefix', 'rm-d-', '--yes', '--max', '25']);
    expect(ok.code).toBe(0);
    expect(await deletedAt('rm-d-24')).not.toBeNull();
    const back = await t.run(['instances', 'restore', '--prefix', 'rm-d-', '--yes', '--max', '25', '-o', 'json']);
    expect(JSON.parse(back.stdout).every((x: { result: string }) => x.result === 'restored')).toBe(true);
    expect(await deletedAt('rm-d-24')).toBeNull();
  });

  test('ids and filters together, or neither, are usage errors', async () => {
    expect((await t.run(['instances', 'rm', 'rm-c-1', '--prefix', 'x'])).code).toBe(2);
    expect((await t.run(['instances', 'rm'])).code).toBe(2);
  });

  test('20 parallel rm of the same id: one deletion, one audit row', async () => {
    await mkInstances(['race-1']);
    const runs = await Promise.all(Array.from({ length: 20 }, () => t.run(['instances', 'rm', 'race-1', '--yes', '-o', 'json'])));
    expect(runs.map((r) => r.code).every((c) => c === 0)).toBe(true);
    const deleted = runs.flatMap((r) => JSON.parse(r.stdout || '[]') as Array<{ result: string }>).filter((x) => x.result === 'deleted');
    expect(deleted).toHaveLength(1);
    expect((await auditRows('race-1')).filter((a) => a.action === 'instances.rm')).toHaveLength(1);
  });

  test('connection lost in the middle of a bulk rm: nothing changed', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `cut-${String(i).padStart(2, '0')}`);
    await mkInstances(ids);
    const m = mysqlParts();
    const locker = await mysql.createConnection({ host: m.host, port: m.port, user: m.user, password: m.password });
    await locker.query('BEGIN');
    await locker.query(`SELECT id FROM \`${t.names.admin}\`.oc_instances WHERE id = 'cut-05' FOR UPDATE`);
    const running = t.run(['instances', 'rm', '--prefix', 'cut-', '--yes']);
    let victim: number | undefined;
    for (let i = 0; i < 200 && victim === undefined; i++) {
      const [rows] = await locker.query(`SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE USER = ? AND INFO LIKE '%cut-05%'`, [t.cliUser]) as unknown as [Array<{ ID: number }>];
      victim = rows[0]?.ID;
      if (victim === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(victim).toBeDefined();
    // by now cut-00..cut-04 are updated inside the CLI's open transaction
    await locker.query(`KILL CONNECTION ${victim}`);
    await locker.query('ROLLBACK');
    await locker.end();
    const r = await running;
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/database connection lost/);
    for (const id of ids) expect(await deletedAt(id)).toBeNull();
    const audits = await t.db.selectFrom('admin.admin_logs').select('id').where('target_id', 'in', ids).execute();
    expect(audits).toHaveLength(0);
  });
});

describe('assignment', () => {
  let free: string;
  let userA: { id: string; email: string };
  let userB: { id: string; email: string };
  beforeAll(async () => {
    await mkInstances(['as-1', 'as-2']);
    free = 'as-1';
    const active = fleet.users.filter((u) => u.status === 'active');
    userA = active[0]!;
    userB = active[1]!;
  });

  const records = async (id: string) => ({
    oc: (await t.db.selectFrom('admin.oc_instances').select('assigned_user_id').where('id', '=', id).executeTakeFirstOrThrow()).assigned_user_id,
    admin: (await t.db.selectFrom('admin.instance_users').select('user_email').where('instance_id', '=', id).execute()).map((r) => r.user_email).sort(),
    portal: (await t.db.selectFrom('portal.user_instances').select('user_id').where('instance_id', '=', id).execute()).map((r) => r.user_id).sort(),
  });

  test('assign writes all three records in one transaction, with an audit row', async () => {
    const r = await t.run(['instances', 'assign', free, userA.email, '--reason', '新员工']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${free}: unassigned -> ${userA.email}\n`);
    expect(await records(free)).toEqual({ oc: userA.id, admin: [userA.email], portal: [userA.id] });
    expect((await auditRows(free)).map((a) => a.action)).toEqual(['instances.assign']);
    const j = JSON.parse((await t.run(['instances', 'show', free, '-o', 'json'])).stdout);
    expect(j.assignment).toMatchObject({ assigned_email: userA.email, consistent: true });
  });

  test('assign over another user is refused (use reassign); reassign moves it; unassign keeps history', async () => {
    const r = await t.run(['instances', 'assign', free, userB.email]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is assigned to .*use: sayclaw instances reassign/);
    const noTty = await t.run(['instances', 'reassign', free, userB.email]);
    expect(noTty.code).toBe(2);
    expect((await records(free)).oc).toBe(userA.id);
    const re = await t.run(['instances', 'reassign', free, userB.email, '--yes']);
    expect(re.code).toBe(0);
    expect(await records(free)).toEqual({ oc: userB.id, admin: [userA.email, userB.email].sort(), portal: [userA.id, userB.id].sort() });
    let j = JSON.parse((await t.run(['instances', 'show', free, '-o', 'json'])).stdout);
    expect(j.assignment.consistent).toBe(true);
    expect(j.assignment.admin_bindings.find((b: { user_email: string }) => b.user_email === userA.email)).toMatchObject({ current: false, history: true });
    const un = await t.run(['instances', 'unassign', free, '--yes']);
    expect(un.code).toBe(0);
    expect((await records(free)).oc).toBeNull();
    j = JSON.parse((await t.run(['instances', 'show', free, '-o', 'json'])).stdout);
    expect(j.assignment).toMatchObject({ assigned_email: null, consistent: true });
    expect(j.assignment.portal_bindings.every((b: { current: boolean; history: boolean }) => !b.current && b.history)).toBe(true);
    const chk = await t.run(['instances', 'check-bindings', '-o', 'json']);
    expect(JSON.parse(chk.stdout).map((x: { instance_id: string }) => x.instance_id)).not.toContain(free);
  });

  test('refuses a revoked user or a deleted instance: exit 2, nothing changed', async () => {
    const revoked = fleet.users.find((u) => u.status === 'revoked')!;
    const r = await t.run(['instances', 'assign', 'as-2', revoked.email]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is revoked; nothing changed/);
    expect(await records('as-2')).toEqual({ oc: null, admin: [], portal: [] });
    const dead = fleet.instances.find((i) => i.deleted)!;
    const d = await t.run(['instances', 'assign', dead.id, userA.email]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/soft-deleted; nothing changed/);
    expect((await t.run(['instances', 'assign', 'as-404', userA.email])).code).toBe(4);
    // nothing claims a change that did not happen: no "as-2: unassigned -> ..." before the refusal
    const nobody = await t.run(['instances', 'assign', 'as-2', 'nobody@nowhere.test']);
    expect(nobody.code).toBe(4);
    expect(nobody.stderr).not.toMatch(/->/);
    expect(r.stderr).not.toMatch(/->/);
    expect(d.stderr).not.toMatch(/->/);
    // a dry run says what it would do (stdout under -q)
    const dry = await t.run(['instances', 'assign', 'as-2', userA.email, '-n', '-q']);
    expect(dry).toEqual({ code: 0, stdout: `would assign as-2: unassigned -> ${userA.email}\n`, stderr: '' });
    expect(await records('as-2')).toEqual({ oc: null, admin: [], portal: [] });
  });

  test('check-bindings finds records that disagree (exit 3); show warns', async () => {
    await mkInstances(['drift-1', 'drift-2']);
    await t.db.updateTable('admin.oc_instances').set({ assigned_user_id: userA.id }).where('id', '=', 'drift-1').execute();
    await t.db.insertInto('portal.user_instances').values({ user_id: userB.id, instance_id: 'drift-2' }).execute();
    const r = await t.run(['instances', 'check-bindings', '-o', 'json']);
    expect(r.code).toBe(3);
    const rows = JSON.parse(r.stdout) as Array<{ instance_id: string; problems: string[] }>;
    expect(rows.find((x) => x.instance_id === 'drift-1')!.problems.join()).toMatch(/instance_users has no row/);
    expect(rows.find((x) => x.instance_id === 'drift-2')!.problems.join()).toMatch(/user_instances names .* but oc_instances says unassigned/);
    const s = await t.run(['instances', 'show', 'drift-1']);
    expect(s.stderr).toMatch(/warning: assignment records disagree/);
    expect(s.stdout).toMatch(/consistent\s+NO/);
  });
});
