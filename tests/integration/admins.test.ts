// Admin accounts against real MariaDB (no-DELETE user): passwords only from a no-echo prompt or
// stdin, stored as bcrypt that bcryptjs verifies, never printed/audited; no --password flag
// anywhere under `users`; the last active admin cannot be disabled or removed.
import { sql } from 'kysely';
import bcrypt from 'bcryptjs';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { buildProgram } from '../../commands/index.js';
import type { Command } from 'commander';

let t: TestEnv;
beforeAll(async () => { t = await createTestEnv({ withPg: false }); });
afterAll(async () => { await t?.close(); });

const PW = 'Correct-Horse-电池-42';
const json = (s: string) => JSON.parse(s);
const hashOf = async (email: string) => (await t.db.selectFrom('admin.admin_users').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow()).password_hash;
async function snapshot(): Promise<string> {
  const [a, n] = await Promise.all([
    t.db.selectFrom('admin.admin_users').selectAll().orderBy('id').execute(),
    t.db.selectFrom('admin.admin_logs').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return JSON.stringify({ a, n });
}
async function allAuditText(): Promise<string> {
  const rows = await t.db.selectFrom('admin.admin_logs').selectAll().execute();
  return JSON.stringify(rows);
}

describe('users admins', () => {
  test('add with --password-stdin: bcrypt $2b$ cost 12 that bcryptjs verifies; nothing secret printed or audited', async () => {
    const r = await t.run(['users', 'admins', 'add', '--email', 'Root@SayClaw.test', '--name', '运维负责人', '--role', 'admin', '--password-stdin', '-o', 'json'],
      { stdin: `${PW}\n` });
    expect(r.stderr).toMatch(/added admin account root@sayclaw.test/);
    expect(r.code).toBe(0);
    expect(json(r.stdout)[0]).toMatchObject({ email: 'root@sayclaw.test', name: '运维负责人', role: 'admin', status: 'active' });
    const h = await hashOf('root@sayclaw.test');
    expect(h).toMatch(/^\$2b\$12\$[./A-Za-z0-9]{53}$/);
    expect(await bcrypt.compare(PW, h)).toBe(true);
    expect(await bcrypt.compare(`${PW}\n`, h)).toBe(false);
    expect(await bcrypt.compare('wrong', h)).toBe(false);
    for (const s of [r.stdout, r.stderr, await allAuditText()]) {
      expect(s).not.toContain(PW);
      expect(s).not.toContain(h);
      expect(s).not.toMatch(/password_hash/);
    }
  });

  test('add with a TTY prompt asked twice; mismatch or no source refused, nothing changed', async () => {
    // a role no account has yet: refused (a typo of "admin"?) unless --new-role says it is meant
    let r = await t.run(['users', 'admins', 'add', '--email', 'ops@sayclaw.test', '--name', '值班', '--role', 'operator'], { tty: true, answers: [PW, PW] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --role: unknown value operator \(use one of admin; a role no account has yet needs --new-role\)\n$/);
    r = await t.run(['users', 'admins', 'add', '--email', 'ops@sayclaw.test', '--name', '值班', '--role', 'operator', '--new-role'], { tty: true, answers: [PW, PW] });
    expect(r.code).toBe(0);
    expect(await bcrypt.compare(PW, await hashOf('ops@sayclaw.test'))).toBe(true);
    const before = await snapshot();
    // three failed tries (a mismatch, too short, a mismatch): refused with the last reason, nothing changed
    r = await t.run(['users', 'admins', 'add', '--email', 'x1@sayclaw.test', '--name', 'x'], { tty: true, answers: [PW, `${PW}x`, 'short', PW, 'other'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('the two passwords differ; try again (2 tries left)\npassword too short: at least 10 characters; try again (1 try left)\n'
      + 'error: the two passwords differ; no password set after 3 tries; nothing changed\n');
    r = await t.run(['users', 'admins', 'add', '--email', 'x2@sayclaw.test', '--name', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no password source/);
    r = await t.run(['users', 'admins', 'add', '--email', 'x6@sayclaw.test', '--name', 'x', '--password-stdin'], { tty: true, stdin: PW });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin is a terminal/);
    r = await t.run(['users', 'admins', 'add', '--email', 'x3@sayclaw.test', '--name', 'x', '--password-stdin'], { stdin: 'short\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/password too short/);
    expect(r.stderr).not.toContain('short\n');
    r = await t.run(['users', 'admins', 'add', '--email', 'x4@sayclaw.test', '--name', 'x', '--password-stdin'], { stdin: '密'.repeat(30) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/password too long/);
    r = await t.run(['users', 'admins', 'add', '--email', 'ROOT@sayclaw.test', '--name', 'dup', '--password-stdin'], { stdin: PW });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
    r = await t.run(['users', 'admins', 'add', '--email', 'bad-email', '--name', 'x', '--password-stdin'], { stdin: PW });
    expect(r.code).toBe(2);
    r = await t.run(['users', 'admins', 'add', '--email', 'x5@sayclaw.test', '--name', 'x', '--role', 'Root Admin!', '--password-stdin'], { stdin: PW });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid role/);
    // the roles in use are the vocabulary: a typo is refused before any password is asked, listing them
    r = await t.run(['users', 'admins', 'add', '--email', 'x7@sayclaw.test', '--name', 'x', '--role', 'operatr'], { tty: true, answers: [] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role: unknown value operatr \(use one of admin, operator;/);
    for (const s of [r.stderr]) expect(s.trim().split('\n')).toHaveLength(1);
    expect(await snapshot()).toBe(before);
  });

  test('ls never shows a hash, in any format', async () => {
    for (const f of ['table', 'wide', 'json', 'yaml', 'csv', 'ndjson', 'name']) {
      const r = await t.run(['users', 'admins', 'ls', '-o', f]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('root@sayclaw.test');
      expect(r.stdout).not.toMatch(/\$2[aby]\$/);
      expect(r.stdout).not.toMatch(/password/i);
    }
  });

  test('passwd: new hash verifies, old password no longer does; audit records only that it changed', async () => {
    const NEW = 'another-long-密码-2026';
    const r = await t.run(['users', 'admins', 'passwd', 'ops@sayclaw.test'], { tty: true, answers: [NEW, NEW] });
    expect(r.code).toBe(0);
    const h = await hashOf('ops@sayclaw.test');
    expect(await bcrypt.compare(NEW, h)).toBe(true);
    expect(await bcrypt.compare(PW, h)).toBe(false);
    const audit = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'admins.passwd').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.after_json!)).toEqual({ email: 'ops@sayclaw.test', password_changed: true });
    expect(await allAuditText()).not.toContain(NEW);
    const s = await t.run(['users', 'admins', 'passwd', 'ops@sayclaw.test', '--password-stdin'], { stdin: `${PW}\r\n` });
    expect(s.code).toBe(0);
    expect(await bcrypt.compare(PW, await hashOf('ops@sayclaw.test'))).toBe(true);
    expect((await t.run(['users', 'admins', 'passwd', 'ghost@sayclaw.test', '--password-stdin'], { stdin: PW })).code).toBe(4);
  });

  test('last-admin guard: disable and rm refuse the last active account (exit 2, nothing changed); enable brings one back', async () => {
    // two active: root, ops. Disable ops (confirm by typing the email on a TTY), then root is the last one.
    let r = await t.run(['users', 'admins', 'disable', 'ops@sayclaw.test']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/without confirmation/);
    r = await t.run(['users', 'admins', 'disable', 'ops@sayclaw.test'], { tty: true, answers: ['ops@sayclaw.test'] });
    expect(r.code).toBe(0);
    expect((await t.db.selectFrom('admin.admin_users').select('status').where('email', '=', 'ops@sayclaw.test').executeTakeFirstOrThrow()).status).toBe('disabled');
    const before = await snapshot();
    for (const v of ['disable', 'rm']) {
      r = await t.run(['users', 'admins', v, 'root@sayclaw.test', '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/last active admin account; nothing changed/);
    }
    expect(await snapshot()).toBe(before);
    // removing a disabled account is fine while root stays active
    r = await t.run(['users', 'admins', 'rm', 'ops@sayclaw.test', '--yes', '--reason', '轮岗']);
    expect(r.code).toBe(0);
    const ops = await t.db.selectFrom('admin.admin_users').selectAll().where('email', '=', 'ops@sayclaw.test').executeTakeFirstOrThrow();
    expect(ops.deleted_at).toBeInstanceOf(Date);
    const ls = json((await t.run(['users', 'admins', 'ls', '-o', 'json'])).stdout);
    expect(ls.map((a: { email: string }) => a.email)).toEqual(['root@sayclaw.test']);
    const all = json((await t.run(['users', 'admins', 'ls', '--all', '-o', 'json'])).stdout);
    expect(all.map((a: { email: string }) => a.email)).toEqual(['ops@sayclaw.test', 'root@sayclaw.test']);
    expect((await t.run(['users', 'admins', 'enable', 'ops@sayclaw.test'])).code).toBe(2); // removed
    // a new admin, then root may be disabled and enabled again
    r = await t.run(['users', 'admins', 'add', '--email', 'second@sayclaw.test', '--name', '第二', '--password-stdin'], { stdin: PW });
    expect(r.code).toBe(0);
    r = await t.run(['users', 'admins', 'disable', 'root@sayclaw.test', '--dry-run']);
    expect(r.code).toBe(0);
    r = await t.run(['users', 'admins', 'disable', 'root@sayclaw.test', '--yes']);
    expect(r.code).toBe(0);
    r = await t.run(['users', 'admins', 'rm', 'second@sayclaw.test', '--yes']);
    expect(r.code).toBe(2);
    r = await t.run(['users', 'admins', 'enable', 'root@sayclaw.test']);
    expect(r.code).toBe(0);
    expect((await t.db.selectFrom('admin.admin_users').select('status').where('email', '=', 'root@sayclaw.test').executeTakeFirstOrThrow()).status).toBe('active');
    const acts = await t.db.selectFrom('admin.admin_logs').select('action').where('target_type', '=', 'admin_user').execute();
    expect(acts.map((a) => a.action).sort()).toEqual(['admins.add', 'admins.add', 'admins.add', 'admins.disable', 'admins.disable', 'admins.enable', 'admins.passwd', 'admins.passwd', 'admins.rm'].sort());
    expect((await t.run(['users', 'admins', 'disable', 'ghost@sayclaw.test', '--yes'])).code).toBe(4);
  });

  test('concurrent disables of the last two active admins: exactly one succeeds', async () => {
    // active now: root, second? second was never disabled: root and second are active
    const active = await t.db.selectFrom('admin.admin_users').select('email').where('status', '=', 'active').where('deleted_at', 'is', null).execute();
    expect(active.map((a) => a.email).sort()).toEqual(['root@sayclaw.test', 'second@sayclaw.test']);
    const rs = await Promise.all(active.map((a) => t.run(['users', 'admins', 'disable', a.email, '--yes'])));
    expect(rs.map((r) => r.code).sort()).toEqual([0, 2]);
    const left = await t.db.selectFrom('admin.admin_users').select('email').where('status', '=', 'active').where('deleted_at', 'is', null).execute();
    expect(left).toHaveLength(1);
    await t.run(['users', 'admins', 'enable', active.find((a) => a.email !== left[0]!.email)!.email]);
  });

  test('there is no --password flag: every users verb\'s --help, and the flag itself is refused', async () => {
    const verbs: string[][] = [];
    const walk = (c: Command, path: string[]) => {
      for (const s of c.commands) {
        if (s.commands.length) walk(s, [...path, s.name()]);
        else verbs.push([...path, s.name()]);
      }
    };
    walk(buildProgram().commands.find((c) => c.name() === 'users')!, ['users']);
    expect(verbs.map((v) => v.join(' '))).toEqual(expect.arrayContaining(['users ls', 'users show', 'users add', 'users update', 'users revoke',
      'users restore', 'users quota', 'users telegram unbind', 'users admins ls', 'users admins add', 'users admins passwd',
      'users admins disable', 'users admins enable', 'users admins rm']));
    for (const v of verbs) {
      const r = await t.run([...v, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: sayclaw');
      expect(r.stdout).not.toMatch(/--password(?!-stdin)/);
      expect(r.stdout).not.toMatch(/--passwd|--pass\b|-p, /);
    }
    const before = await snapshot();
    for (const v of [['users', 'admins', 'add', '--email', 'p@sayclaw.test', '--name', 'p'], ['users', 'admins', 'passwd', 'root@sayclaw.test']]) {
      const r = await t.run([...v, '--password', PW]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown option '--password'/);
    }
    expect(await snapshot()).toBe(before);
  });

  test('on a TTY a mismatch or a too-short password is asked again with the reason, like passwd', async () => {
    const r = await t.run(['users', 'admins', 'add', '--email', 'retry@sayclaw.test', '--name', '重试', '-o', 'json'], { tty: true, answers: [PW, `${PW}x`, 'short', `${PW}2`, `${PW}2`] });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^the two passwords differ; try again \(2 tries left\)\npassword too short: at least 10 characters; try again \(1 try left\)\n/);
    expect(await bcrypt.compare(`${PW}2`, await hashOf('retry@sayclaw.test'))).toBe(true);
    expect(r.stderr + r.stdout).not.toContain(PW);
    // passwd asks the same way
    const p = await t.run(['users', 'admins', 'passwd', 'retry@sayclaw.test'], { tty: true, answers: ['tiny', PW, PW] });
    expect(p.code).toBe(0);
    expect(p.stderr).toMatch(/^password too short: .*; try again \(2 tries left\)\n/);
    expect(await bcrypt.compare(PW, await hashOf('retry@sayclaw.test'))).toBe(true);
  });
});
