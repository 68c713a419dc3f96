// Portal users against real MariaDB, run as the no-DELETE MySQL user: ls filters against a JS
// oracle over the fixture, show (no hash, same assignment view as `instances show`, today's usage,
// chat counts only), writes with their audit rows, bad input (exit 2, nothing changed), Chinese
// text byte for byte, revoke --unassign in one transaction, Telegram unbind without deletes.
import { sql } from 'kysely';
import { OUTPUT_FORMATS } from '../../src/output/render.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';
import { readAssignments } from '../../src/fleet/instances/assignment.js';

let t: TestEnv;
let fleet: Fleet;
// "today" for the tests: 2026-11-24 10:00 Asia/Shanghai (02:00 UTC)
const NOW = new Date(Date.UTC(2026, 10, 24, 2, 0, 0));
const clock = () => NOW;

beforeAll(async () => {
  t = await createTestEnv();
  fleet = generateFleet({ seed: 11, users: 14, prefixes: { 'oc-ai-jp-2-': 25, 'oc-ai-us-1-': 9, 'oc-ai-sg-1-': 3 } });
  await loadFleet(t.db, fleet);
});
afterAll(async () => { await t?.close(); });

const json = (s: string) => JSON.parse(s);
const byEmail = (a: { email: string }, b: { email: string }) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0);

/** Everything the user writes could touch, to assert "nothing changed". */
async function snapshot(): Promise<string> {
  const [u, ui, iu, oc, logs, adm] = await Promise.all([
    t.db.selectFrom('portal.users').selectAll().orderBy('id').execute(),
    t.db.selectFrom('portal.user_instances').selectAll().orderBy('user_id').orderBy('instance_id').execute(),
    t.db.selectFrom('admin.instance_users').selectAll().orderBy('instance_id').orderBy('user_email').execute(),
    t.db.selectFrom('admin.oc_instances').select(['id', 'assigned_user_id', 'deleted_at']).orderBy('id').execute(),
    t.db.selectFrom('admin.admin_logs').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow(),
    t.db.selectFrom('admin.admin_users').selectAll().orderBy('id').execute(),
  ]);
  return JSON.stringify({ u, ui, iu, oc, logs, adm });
}

async function userRow(email: string) {
  return t.db.selectFrom('portal.users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
}

/** Oracle: alive instances assigned to each user, from the fixture. */
function aliveIdsOf(userId: string): string[] {
  return fleet.instances.filter((i) => i.assigned_user_id === userId && !i.deleted).map((i) => i.id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

describe('users ls', () => {
  test('all users, sorted by email, with current alive instance ids and Telegram username', async () => {
    const r = await t.run(['users', 'ls', '-o', 'json']);
    expect(r.code).toBe(0);
    const rows = json(r.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((x) => x.email)).toEqual([...fleet.users].sort(byEmail).map((u) => u.email));
    for (const u of fleet.users) {
      const row = rows.find((x) => x.email === u.email)!;
      expect(row).toMatchObject({ name: u.name, department: u.department, status: u.status, quota_daily: String(u.quota_daily),
        telegram_username: u.telegram_username, instance_ids: aliveIdsOf(u.id) });
      expect(row).not.toHaveProperty('password_hash');
    }
    expect(r.stdout).not.toMatch(/password/);
  });

  test('filters: department, status, name (Chinese substring), email prefix, --no-instance, --telegram', async () => {
    const emails = async (...a: string[]) => {
      const r = await t.run(['users', 'ls', ...a, '-o', 'json']);
      expect(r.code).toBe(0);
      return (json(r.stdout) as Array<{ email: string }>).map((x) => x.email);
    };
    const oracle = (f: (u: Fleet['users'][number]) => boolean) => fleet.users.filter(f).sort(byEmail).map((u) => u.email);
    expect(await emails('--department', '研发部')).toEqual(oracle((u) => u.department === '研发部'));
    expect(await emails('--status', 'revoked')).toEqual(oracle((u) => u.status === 'revoked'));
    expect(oracle((u) => u.status === 'revoked').length).toBeGreaterThan(0);
    expect(await emails('--name', '王')).toEqual(oracle((u) => u.name.includes('王')));
    expect(await emails('--name', '张伟')).toEqual(oracle((u) => u.name.includes('张伟')));
    expect(await emails('--email-prefix', 'wang.')).toEqual(oracle((u) => u.email.startsWith('wang.')));
    expect(await emails('--email-prefix', 'wang%')).toEqual([]);
    expect(await emails('--email-prefix', '_')).toEqual([]);
    expect(await emails('--name', '%')).toEqual([]);
    const idle = oracle((u) => aliveIdsOf(u.id).length === 0);
    expect(idle.length).toBeGreaterThan(0);
    expect(await emails('--no-instance')).toEqual(idle);
    expect(await emails('--telegram', 'bound')).toEqual(oracle((u) => u.telegram_username !== null));
    expect(await emails('--telegram', 'unbound')).toEqual(oracle((u) => u.telegram_username === null));
    expect(await emails('--department', '研发部', '--status', 'active', '--telegram', 'bound'))
      .toEqual(oracle((u) => u.department === '研发部' && u.status === 'active' && u.telegram_username !== null));
  });

  test('bad filter values exit 2 with one line', async () => {
    for (const a of [['--status', 'gone'], ['--telegram', 'maybe']]) {
      const r = await t.run(['users', 'ls', ...a]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  test('every output format', async () => {
    const dep = ['users', 'ls', '--department', '市场部'];
    const n = fleet.users.filter((u) => u.department === '市场部').length;
    const table = await t.run(dep);
    expect(table.stdout.split('\n')[0]).toMatch(/^EMAIL\s+NAME\s+DEPARTMENT\s+STATUS\s+QUOTA_DAILY\s+INSTANCES\s+TELEGRAM$/);
    expect(table.stdout.trim().split('\n')).toHaveLength(n + 1);
    const wide = await t.run([...dep, '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/ID\s+TELEGRAM_USER_ID\s+CREATED_AT\s+REVOKED_AT$/);
    const csv = await t.run([...dep, '-o', 'csv']);
    expect(csv.stdout.split('\r\n')[0]).toBe('email,name,department,status,quota_daily,instance_ids,telegram_username,id,telegram_user_id,created_at,revoked_at');
    expect(csv.stdout).toContain('市场部');
    const nd = await t.run([...dep, '-o', 'ndjson']);
    expect(nd.stdout.trim().split('\n').map((l) => json(l).department)).toEqual(Array(n).fill('市场部'));
    const yaml = await t.run([...dep, '-o', 'yaml']);
    expect(yaml.stdout).toMatch(/department: 市场部/);
    const name = await t.run([...dep, '-o', 'name']);
    expect(name.stdout.trim().split('\n').sort()).toEqual(fleet.users.filter((u) => u.department === '市场部').map((u) => u.email).sort());
  });
});

describe('users show', () => {
  const someAssigned = () => fleet.users.find((u) => u.status === 'active' && aliveIdsOf(u.id).length >= 2)!;

  test('unknown user: exit 4, one line', async () => {
    const r = await t.run(['users', 'show', 'nobody@sayclaw.test']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such portal user: nobody@sayclaw.test/);
  });

  test('row without password hash, instances with setup status, Telegram, usage today vs quota, chat counts only', async () => {
    const u = someAssigned();
    const inst = fleet.instances.find((i) => i.assigned_user_id === u.id && !i.deleted)!;
    const today = Math.floor(NOW.getTime() / 1000) - 3600;
    const yesterday = Math.floor(Date.UTC(2026, 10, 23, 12, 0, 0) / 1000); // 20:00 Shanghai on the 23rd
    for (const [at, pt, ct] of [[today, 1000, 500], [today - 60, 200, 100], [yesterday, 99999, 99999]] as const) {
      await t.db.insertInto('oneapi.logs').values({ user_id: '1', created_at: String(at), type: '2', content: '', username: 'sayclaw', token_name: inst.token_name,
        model_name: inst.model, quota: String(pt + ct * 3), prompt_tokens: String(pt), completion_tokens: String(ct), channel_id: '1',
        request_id: '', elapsed_time: '100', is_stream: 0, system_prompt_reset: 0 }).execute();
    }
    const secret = '机密内容 do-not-print-me';
    await t.db.insertInto('portal.chat_messages').values([
      { user_id: u.id, instance_id: inst.id, role: 'user', content: secret, created_at: new Date(NOW.getTime() - 3600_000) },
      { user_id: u.id, instance_id: inst.id, role: 'assistant', content: secret, created_at: new Date(NOW.getTime() - 30 * 86400_000) },
    ]).execute();
    const r = await t.run(['users', 'show', u.email, '-o', 'json', '--set', 'usage.timezone=Asia/Shanghai'], { clock });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = json(r.stdout);
    expect(d).not.toHaveProperty('password_hash');
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).not.toMatch(/password/);
    expect(d).toMatchObject({ email: u.email, name: u.name, department: u.department, quota_daily: String(u.quota_daily) });
    expect(d.current_instance_ids).toEqual(fleet.instances.filter((i) => i.assigned_user_id === u.id).map((i) => i.id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    const shown = d.instances.find((i: { instance_id: string }) => i.instance_id === inst.id);
    expect(shown).toMatchObject({ assignment: 'current', setup_status: 'ready', portal_binding: 'current', admin_binding: 'current', alive: true });
    expect(d.usage_today).toMatchObject({ date: '2026-11-24', timezone: 'Asia/Shanghai', requests: '2', tokens: '1800', quota_daily: String(u.quota_daily) });
    expect(d.chat_messages).toEqual({ total: '2', last_7d: '1', last_message_at: new Date(NOW.getTime() - 3600_000).toISOString() });
    expect(d.telegram.bound).toBe(u.telegram_username !== null);
    const table = await t.run(['users', 'show', u.email, '--set', 'usage.timezone=Asia/Shanghai'], { clock });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Usage today \(2026-11-24, Asia\/Shanghai\)/);
    expect(table.stdout).not.toContain(secret);
  });

  test('the portal\'s Telegram bot token (user_instances.tg_bot_token) never appears, in any format', async () => {
    const u = someAssigned();
    const bot = '8888888888:AAH-botSECRET-users-show-0123456789';
    await t.db.updateTable('portal.user_instances').set({ tg_bot_token: bot, tg_bot_username: 'sayclaw_users_bot' }).where('user_id', '=', u.id).execute();
    for (const f of OUTPUT_FORMATS) {
      const r = await t.run(['users', 'show', u.email, '-o', f], { clock });
      expect({ f, code: r.code }).toEqual({ f, code: 0 });
      for (const piece of [bot, bot.slice(11, 30), 'botSECRET']) {
        expect({ f, piece, out: r.stdout.includes(piece) || r.stderr.includes(piece) }).toEqual({ f, piece, out: false });
      }
    }
  });

  test('over quota is a warning; quota 0 gives no percentage', async () => {
    const u = someAssigned();
    await t.db.updateTable('portal.users').set({ quota_daily: '1000' }).where('id', '=', u.id).execute();
    try {
      const r = await t.run(['users', 'show', u.email, '-o', 'json', '--set', 'usage.timezone=Asia/Shanghai'], { clock });
      expect(json(r.stdout).usage_today).toMatchObject({ over_quota: true, used_percent: '180.0' });
      expect(r.stderr).toMatch(/warning: .* is over today's quota \(1800 of 1000 tokens\)/);
    } finally {
      await t.db.updateTable('portal.users').set({ quota_daily: String(u.quota_daily) }).where('id', '=', u.id).execute();
    }
  });

  test('agrees with instances show and readAssignments about who has what (current, history, drift)', async () => {
    // make history (a sayclaw unassign) and drift (a binding row written outside sayclaw)
    const u = fleet.users.find((x) => x.status === 'active' && aliveIdsOf(x.id).length >= 2 && x !== someAssigned())!;
    const [first] = aliveIdsOf(u.id);
    expect((await t.run(['instances', 'unassign', first!, '--yes'])).code).toBe(0);
    // a soft-deleted instance that is still assigned: current in show, not in ls (alive only)
    const second = aliveIdsOf(u.id)[1]!;
    expect((await t.run(['instances', 'rm', second, '--yes'])).code).toBe(0);
    const foreign = fleet.instances.find((i) => i.assigned_user_id && i.assigned_user_id !== u.id && !i.deleted)!;
    await t.db.insertInto('portal.user_instances').values({ user_id: u.id, instance_id: foreign.id, setup_status: 'pending' }).execute();

    const all = await readAssignments(t.db, null);
    for (const user of [u, ...fleet.users.slice(0, 8)]) {
      const r = await t.run(['users', 'show', user.email, '-o', 'json']);
      expect(r.code).toBe(0);
      const d = json(r.stdout);
      const truth = [...all.values()].filter((v) => v.assigned_user_id === user.id).map((v) => v.instance_id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      expect(d.current_instance_ids).toEqual(truth);
      for (const i of d.instances as Array<{ instance_id: string; assignment: string; portal_binding: string | null }>) {
        const s = await t.run(['instances', 'show', i.instance_id, '-o', 'json']);
        expect(s.code).toBe(0);
        const a = json(s.stdout).assignment;
        expect(a.assigned_user_id === user.id).toBe(i.assignment === 'current');
        const pb = (a.portal_bindings as Array<{ user_id: string; current: boolean; history: boolean }>).find((b) => b.user_id === user.id);
        expect(pb ? (pb.current ? 'current' : pb.history ? 'history' : 'drift') : null).toBe(i.portal_binding);
      }
    }
    const d = json((await t.run(['users', 'show', u.email, '-o', 'json'])).stdout);
    expect(d.instances.find((i: { instance_id: string }) => i.instance_id === first)).toMatchObject({ assignment: 'history', portal_binding: 'history' });
    expect(d.instances.find((i: { instance_id: string }) => i.instance_id === foreign.id)).toMatchObject({ assignment: 'drift', portal_binding: 'drift' });
    const del = d.instances.find((i: { instance_id: string }) => i.instance_id === second);
    expect(del).toMatchObject({ assignment: 'current', alive: false });
    expect(d.current_instance_ids).toContain(second);
    const ls = json((await t.run(['users', 'ls', '--email-prefix', u.email, '-o', 'json'])).stdout);
    expect(ls[0].instance_ids).toEqual(aliveIdsOf(u.id).filter((id) => id !== first && id !== second));
  });
});

describe('users add / update / quota', () => {
  test('add with a Chinese name and department: stored byte for byte (utf8mb4), audited', async () => {
    const name = '欧阳娜娜👩‍💻';
    const dept = '研发部(华东)';
    const r = await t.run(['users', 'add', '--email', 'OuYang.NaNa@SayClaw.test', '--name', name, '--department', dept, '--quota', '250000', '-o', 'json']);
    expect(r.stderr).toMatch(/added ouyang.nana@sayclaw.test/);
    expect(r.code).toBe(0);
    expect(json(r.stdout)[0]).toMatchObject({ email: 'ouyang.nana@sayclaw.test', name, department: dept, status: 'active', quota_daily: '250000' });
    const hex = await t.db.selectFrom('portal.users').select([sql<string>`HEX(name)`.as('n'), sql<string>`HEX(department)`.as('d')])
      .where('email', '=', 'ouyang.nana@sayclaw.test').executeTakeFirstOrThrow();
    expect(hex.n.toLowerCase()).toBe(Buffer.from(name, 'utf8').toString('hex'));
    expect(hex.d.toLowerCase()).toBe(Buffer.from(dept, 'utf8').toString('hex'));
    const ls = await t.run(['users', 'ls', '--name', '娜娜', '-o', 'json']);
    expect(json(ls.stdout).map((x: { name: string }) => x.name)).toContain(name);
    const audit = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'users.add').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.after_json!)).toMatchObject({ email: 'ouyang.nana@sayclaw.test', name, department: dept });
    expect(audit[0]!.os_user).toBe('tester');
  });

  test('default quota is the schema default', async () => {
    const r = await t.run(['users', 'add', '--email', 'default.quota@sayclaw.test', '--name', '默认', '--department', 'Operations', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)[0].quota_daily).toBe('100000');
  });

  test.each([
    ['malformed email', ['--email', 'not-an-email', '--name', 'x', '--department', '研发部'], /invalid email "not-an-email"/],
    ['email with spaces', ['--email', 'a b@sayclaw.test', '--name', 'x', '--department', '研发部'], /invalid email/],
    ['email with two @', ['--email', 'a@b@sayclaw.test', '--name', 'x', '--department', '研发部'], /invalid email/],
    ['duplicate email (other case)', ['--email', 'OUYANG.NANA@sayclaw.test', '--name', 'x', '--department', '研发部'], /already exists; nothing changed/],
    ['department with a newline', ['--email', 'n1@sayclaw.test', '--name', 'x', '--department', '研发部\n'], /invalid department/],
    ['department of punctuation', ['--email', 'n2@sayclaw.test', '--name', 'x', '--department', ';DROP TABLE users'], /invalid department/],
    ['department too long', ['--email', 'n3@sayclaw.test', '--name', 'x', '--department', '部'.repeat(101)], /invalid department/],
    ['empty department', ['--email', 'n4@sayclaw.test', '--name', 'x', '--department', ''], /invalid department/],
    ['name with control characters', ['--email', 'n5@sayclaw.test', '--name', '王\u0007伟', '--department', '研发部'], /invalid name/],
    ['quota negative', ['--email', 'n6@sayclaw.test', '--name', 'x', '--department', '研发部', '--quota', '-1'], /invalid quota "-1"/],
    ['quota fractional', ['--email', 'n7@sayclaw.test', '--name', 'x', '--department', '研发部', '--quota', '1.5'], /invalid quota/],
    ['quota out of range', ['--email', 'n8@sayclaw.test', '--name', 'x', '--department', '研发部', '--quota', '9223372036854775808'], /out of range/],
  ])('add refuses %s: exit 2, one line, nothing changed', async (_what, args, msg) => {
    const before = await snapshot();
    const r = await t.run(['users', 'add', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    expect(await snapshot()).toBe(before);
  });

  test('parallel adds of one email: exactly one row and one audit row; the others exit 2', async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => t.run(['users', 'add', '--email', 'race@sayclaw.test', '--name', `竞争${i}`, '--department', '研发部'])));
    expect(rs.map((r) => r.code).sort()).toEqual([0, 2, 2, 2, 2, 2]);
    for (const r of rs.filter((x) => x.code === 2)) expect(r.stderr).toMatch(/already exists; nothing changed/);
    expect(await t.db.selectFrom('portal.users').select('id').where('email', '=', 'race@sayclaw.test').execute()).toHaveLength(1);
    const audit = await t.db.selectFrom('admin.admin_logs').select('id').where('action', '=', 'users.add').where('after_json', 'like', '%race@sayclaw.test%').execute();
    expect(audit).toHaveLength(1);
  });

  test('quota: whole tokens up to BIGINT max; refuses negative, non-integer, exponent, out of range', async () => {
    const email = fleet.users[3]!.email;
    let r = await t.run(['users', 'quota', email, '9223372036854775807', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)[0].quota_daily).toBe('9223372036854775807');
    expect((await userRow(email)).quota_daily).toBe('9223372036854775807');
    const audit = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'users.quota').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.after_json!)).toEqual({ email, quota_daily: '9223372036854775807' });
    for (const bad of ['-5', '1.5', '1e6', 'abc', '', '9223372036854775808', '99999999999999999999999', '0x10']) {
      const before = await snapshot();
      r = await t.run(['users', 'quota', email, bad]);
      expect([bad, r.code]).toEqual([bad, 2]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(await snapshot()).toBe(before);
    }
    r = await t.run(['users', 'quota', email, '0', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/quota_daily 9223372036854775807 -> 0/);
    expect((await userRow(email)).quota_daily).toBe('9223372036854775807');
    r = await t.run(['users', 'quota', email, '150000']);
    expect(r.code).toBe(0);
    expect((await userRow(email)).quota_daily).toBe('150000');
    r = await t.run(['users', 'quota', 'ghost@sayclaw.test', '5']);
    expect(r.code).toBe(4);
  });

  test('update name and department (Chinese), unchanged values write nothing', async () => {
    const email = fleet.users[4]!.email;
    const n0 = (await t.db.selectFrom('admin.admin_logs').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow()).n;
    let r = await t.run(['users', 'update', email, '--name', '司马相如', '--department', '人力资源部']);
    expect(r.code).toBe(0);
    expect(await userRow(email)).toMatchObject({ name: '司马相如', department: '人力资源部' });
    r = await t.run(['users', 'update', email, '--name', '司马相如']);
    expect(r.stderr).toMatch(/nothing changed/);
    const n1 = (await t.db.selectFrom('admin.admin_logs').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow()).n;
    expect(Number(n1) - Number(n0)).toBe(1);
    const before = await snapshot();
    for (const a of [[], ['--department', 'bad;dept'], ['--name', ' padded ']]) {
      r = await t.run(['users', 'update', email, ...a]);
      expect(r.code).toBe(2);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('users revoke / restore', () => {
  const pick = () => fleet.users.filter((u) => u.status === 'active' && aliveIdsOf(u.id).length >= 1);
  const assignedNow = async (userId: string) => (await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', userId).execute()).map((x) => x.id);

  test('without a TTY and without --yes: refused, nothing changed; dry run changes nothing', async () => {
    const u = pick()[2]!;
    const before = await snapshot();
    let r = await t.run(['users', 'revoke', u.email]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to revoke 1 user without confirmation/);
    r = await t.run(['users', 'revoke', u.email, '--unassign', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/dry run/);
    expect(await snapshot()).toBe(before);
  });

  test('revoke keeps instances assigned and reports them; TTY confirmation by typing the email', async () => {
    const u = pick()[3]!;
    const ids = await assignedNow(u.id);
    let r = await t.run(['users', 'revoke', u.email], { tty: true, answers: ['wrong'] });
    expect(r.code).toBe(2);
    expect((await userRow(u.email)).status).toBe('active');
    r = await t.run(['users', 'revoke', u.email, '-o', 'json', '--reason', '离职'], { tty: true, answers: [u.email] });
    expect(r.code).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({ email: u.email, status: 'revoked', changed: true, unassigned: [] });
    expect([...out.still_assigned].sort()).toEqual([...ids].sort());
    expect(r.stderr).toMatch(/still has instances assigned/);
    const row = await userRow(u.email);
    expect(row.status).toBe('revoked');
    expect(row.revoked_at).toBeInstanceOf(Date);
    const oc = await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', u.id).execute();
    expect(oc.map((x) => x.id).sort()).toEqual([...ids].sort());
    const audit = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'users.revoke').where('target_id', '=', u.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.reason).toBe('离职');
    // revoking again is a no-op; --unassign then releases them
    r = await t.run(['users', 'revoke', u.email, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/already revoked; nothing changed/);
    r = await t.run(['users', 'revoke', u.email, '--unassign', '--yes', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ changed: false });
    expect(json(r.stdout).unassigned.sort()).toEqual([...ids].sort());
    expect(await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', u.id).execute()).toEqual([]);
  });

  test('revoke --unassign: user revoked and instances released in one transaction; binding rows kept as history', async () => {
    const u = pick()[4]!;
    const ids = await assignedNow(u.id);
    const uiBefore = await t.db.selectFrom('portal.user_instances').select('instance_id').where('user_id', '=', u.id).execute();
    const iuBefore = await t.db.selectFrom('admin.instance_users').select('instance_id').where('user_email', '=', u.email).execute();
    const r = await t.run(['users', 'revoke', u.email, '--unassign', '--yes', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ status: 'revoked', changed: true, still_assigned: [] });
    expect((await userRow(u.email)).status).toBe('revoked');
    expect(await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', u.id).execute()).toEqual([]);
    expect(await t.db.selectFrom('portal.user_instances').select('instance_id').where('user_id', '=', u.id).execute()).toHaveLength(uiBefore.length);
    expect(await t.db.selectFrom('admin.instance_users').select('instance_id').where('user_email', '=', u.email).execute()).toHaveLength(iuBefore.length);
    const un = await t.db.selectFrom('admin.admin_logs').select('target_id').where('action', '=', 'instances.unassign').where('target_id', 'in', ids).execute();
    expect(un.map((x) => x.target_id).sort()).toEqual([...ids].sort());
    // the views agree: history, no drift
    const d = json((await t.run(['users', 'show', u.email, '-o', 'json'])).stdout);
    expect(d.current_instance_ids).toEqual([]);
    for (const id of ids) expect(d.instances.find((i: { instance_id: string }) => i.instance_id === id)).toMatchObject({ assignment: 'history', problems: [] });
  });

  test('revoke --unassign is atomic: a failure in the middle changes nothing', async () => {
    const u = pick()[5]!;
    const ids = await assignedNow(u.id);
    expect(ids.length).toBeGreaterThanOrEqual(1);
    // admin_logs rejects this user's unassign audit row (a trigger on the root side), so the transaction must roll back
    await sql.raw(`CREATE TRIGGER \`${t.names.admin}\`.fail_unassign BEFORE INSERT ON \`${t.names.admin}\`.admin_logs FOR EACH ROW
      BEGIN IF NEW.action = 'instances.unassign' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END`).execute(t.db);
    try {
      const before = await snapshot();
      const r = await t.run(['users', 'revoke', u.email, '--unassign', '--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/injected failure/);
      expect(await snapshot()).toBe(before);
    } finally {
      await sql.raw(`DROP TRIGGER \`${t.names.admin}\`.fail_unassign`).execute(t.db);
    }
  });

  test('restore: active again, revoked_at cleared, instances not re-assigned; unknown user exit 4', async () => {
    const u = fleet.users.find((x) => x.status === 'revoked')!;
    let r = await t.run(['users', 'restore', u.email, '--dry-run']);
    expect(r.code).toBe(0);
    expect((await userRow(u.email)).status).toBe('revoked');
    r = await t.run(['users', 'restore', u.email, '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)[0]).toMatchObject({ status: 'active', revoked_at: null });
    const row = await userRow(u.email);
    expect(row.revoked_at).toBeNull();
    r = await t.run(['users', 'restore', u.email]);
    expect(r.stderr).toMatch(/already active; nothing changed/);
    expect((await t.run(['users', 'restore', 'ghost@sayclaw.test'])).code).toBe(4);
    expect((await t.run(['users', 'revoke', 'ghost@sayclaw.test', '--yes'])).code).toBe(4);
  });
});

describe('every write verb takes --yes and --dry-run', () => {
  test('users add/update/quota/restore/revoke: dry runs change nothing and under -q print to stdout; --yes is accepted', async () => {
    const u = fleet.users.find((x) => x.status === 'active')!;
    const before = await snapshot();
    const dry: Array<[string[], RegExp]> = [
      [['users', 'add', '--email', 'dry.run@sayclaw.test', '--name', '试运行', '--department', '研发部'], /^would add portal user dry\.run@sayclaw\.test \(试运行, 研发部, quota_daily default\)$/],
      [['users', 'update', u.email, '--department', '市场部(华东)'], new RegExp(`^${u.email}: department ${u.department} -> 市场部\\(华东\\)$`)],
      [['users', 'quota', u.email, '123'], new RegExp(`^would set ${u.email}: quota_daily ${u.quota_daily} -> 123$`)],
      [['users', 'restore', u.email], new RegExp(`^${u.email} is active; nothing to restore$`)],
      [['users', 'revoke', u.email], new RegExp(`^will revoke ${u.email} `)],
    ];
    for (const [argv, line] of dry) {
      const loud = await t.run([...argv, '--dry-run']);
      expect({ argv, code: loud.code }).toEqual({ argv, code: 0 });
      expect(loud.stdout).toBe('');
      expect(loud.stderr.split('\n')[0]).toMatch(line);
      expect(loud.stderr).toMatch(/dry run: .*nothing changed/);
      // -q: the dry run's preview is its output
      const quiet = await t.run([...argv, '-n', '-q']);
      expect(quiet.code).toBe(0);
      expect(quiet.stdout.split('\n')[0]).toMatch(line);
      expect(quiet.stderr).toBe('');
    }
    // a dry run still checks: a taken email is refused as the real add would be
    const dup = await t.run(['users', 'add', '--email', u.email, '--name', 'x', '--department', 'x', '--dry-run']);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists; nothing changed/);
    expect(await snapshot()).toBe(before);
    // --yes is accepted everywhere (these verbs never ask)
    const other = fleet.users.filter((x) => x.status === 'active')[1]!;
    expect((await t.run(['users', 'revoke', other.email, '--yes'])).code).toBe(0);
    const r = await t.run(['users', 'restore', other.email, '--yes']);
    expect(r.code).toBe(0);
    expect((await userRow(other.email)).status).toBe('active');
    expect((await t.run(['users', 'quota', u.email, String(u.quota_daily), '-y'])).code).toBe(0);
  });
});

describe('users telegram unbind', () => {
  test('clears the Telegram fields on the user and all their bindings, deletes no rows, audits without the bot token', async () => {
    const u = fleet.users.find((x) => x.status === 'active' && x.telegram_username && aliveIdsOf(x.id).length >= 1)!;
    const rowsBefore = await t.db.selectFrom('portal.user_instances').selectAll().where('user_id', '=', u.id).execute();
    const tokens = rowsBefore.map((x) => x.tg_bot_token).filter(Boolean) as string[];
    expect(tokens.length).toBeGreaterThan(0);
    let r = await t.run(['users', 'telegram', 'unbind', u.email]);
    expect(r.code).toBe(2);
    r = await t.run(['users', 'telegram', 'unbind', u.email, '--dry-run']);
    expect(r.code).toBe(0);
    expect((await userRow(u.email)).telegram_username).toBe(u.telegram_username);
    r = await t.run(['users', 'telegram', 'unbind', u.email, '--yes', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ email: u.email, user_cleared: true });
    const withTg = rowsBefore.filter((x) => [x.tg_user_id, x.tg_username, x.tg_bound_at, x.tg_bot_token, x.tg_bot_username].some((v) => v !== null));
    expect(json(r.stdout).bindings_cleared.sort()).toEqual(withTg.map((x) => x.instance_id).sort());
    const row = await userRow(u.email);
    expect([row.telegram_user_id, row.telegram_username, row.telegram_bound_at]).toEqual([null, null, null]);
    const rowsAfter = await t.db.selectFrom('portal.user_instances').selectAll().where('user_id', '=', u.id).execute();
    expect(rowsAfter).toHaveLength(rowsBefore.length);
    for (const x of rowsAfter) {
      expect([x.tg_user_id, x.tg_username, x.tg_bound_at, x.tg_bot_token, x.tg_bot_username]).toEqual([null, null, null, null, null]);
      expect(x.setup_status).toBe(rowsBefore.find((b) => b.instance_id === x.instance_id)!.setup_status);
    }
    const audit = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'users.telegram_unbind').execute();
    expect(audit).toHaveLength(1);
    for (const tok of tokens) expect(audit[0]!.before_json).not.toContain(tok);
    r = await t.run(['users', 'telegram', 'unbind', u.email, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no Telegram binding; nothing changed/);
    const ls = json((await t.run(['users', 'ls', '--telegram', 'unbound', '-o', 'json'])).stdout);
    expect(ls.map((x: { email: string }) => x.email)).toContain(u.email);
  });
});
