// `sayclaw users ...` through the built binary (npm run build first), as the no-DELETE MySQL user:
// Chinese text through argv and stdout, the admin password via stdin only (never in the
// process arguments), and the write/confirmation rules.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { runBin, BIN } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';

let t: TestEnv;
let fleet: Fleet;
beforeAll(async () => {
  t = await createTestEnv();
  fleet = generateFleet({ seed: 5, users: 12 });
  await loadFleet(t.db, fleet);
});
afterAll(async () => { await t?.close(); });

test('add, ls, show, quota, revoke --unassign, restore, telegram unbind with Chinese text', async () => {
  let r = await runBin(['users', 'add', '--email', 'zhuge.liang@sayclaw.test', '--name', '诸葛亮', '--department', '研发部', '--quota', '300000'], t.env);
  expect(r.stderr).toMatch(/added zhuge.liang@sayclaw.test/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/zhuge.liang@sayclaw.test\s+诸葛亮\s+研发部\s+active\s+300000/);
  r = await runBin(['users', 'ls', '--name', '诸葛', '-o', 'json'], t.env);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ email: 'zhuge.liang@sayclaw.test', name: '诸葛亮', department: '研发部', instance_ids: [] })]);
  r = await runBin(['users', 'ls', '--department', '研发部'], t.env);
  expect(r.stdout.split('\n')[0]).toMatch(/^EMAIL\s+NAME\s+DEPARTMENT/);
  expect(r.stdout).toContain('诸葛亮');

  const u = fleet.users.find((x) => x.status === 'active' && x.telegram_username && fleet.instances.some((i) => i.assigned_user_id === x.id && !i.deleted))!;
  r = await runBin(['users', 'show', u.email], t.env);
  expect(r.code).toBe(0);
  for (const s of ['User', 'Instances', 'Telegram', 'Usage today', 'Chat messages (counts only)', u.name]) expect(r.stdout).toContain(s);
  expect(r.stdout).not.toMatch(/password/);
  r = await runBin(['users', 'show', 'nobody@sayclaw.test'], t.env);
  expect(r.code).toBe(4);

  r = await runBin(['users', 'quota', u.email, '-3'], t.env);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);

  r = await runBin(['users', 'revoke', u.email, '--unassign'], t.env);
  expect(r.code).toBe(2); // no TTY, no --yes
  r = await runBin(['users', 'revoke', u.email, '--unassign', '--yes', '--reason', '离职', '-o', 'json'], t.env);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ status: 'revoked', still_assigned: [] });
  expect(out.unassigned.length).toBeGreaterThan(0);
  expect(await t.db.selectFrom('admin.oc_instances').select('id').where('assigned_user_id', '=', u.id).execute()).toEqual([]);
  r = await runBin(['users', 'restore', u.email], t.env);
  expect(r.code).toBe(0);
  r = await runBin(['users', 'telegram', 'unbind', u.email, '--yes'], t.env);
  expect(r.code).toBe(0);
  const row = await t.db.selectFrom('portal.users').select(['telegram_username', 'status']).where('id', '=', u.id).executeTakeFirstOrThrow();
  expect(row).toEqual({ telegram_username: null, status: 'active' });
});

test('admins add reads the password from stdin: the process arguments never carry it', async () => {
  const PW = 'e2e-Secret-密码-777';
  const argv = ['users', 'admins', 'add', '--email', 'e2e@sayclaw.test', '--name', '端到端', '--password-stdin'];
  const child = spawn(process.execPath, [BIN, ...argv], { env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  // what `ps` would show while the CLI waits for stdin
  const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  expect(cmdline).toEqual(expect.arrayContaining(argv));
  expect(cmdline.join(' ')).not.toContain(PW);
  child.stdin.end(`${PW}\n`);
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  expect(stderr).toMatch(/added admin account e2e@sayclaw.test/);
  expect(code).toBe(0);
  expect(stdout + stderr).not.toContain(PW);
  const { password_hash: h } = await t.db.selectFrom('admin.admin_users').select('password_hash').where('email', '=', 'e2e@sayclaw.test').executeTakeFirstOrThrow();
  expect(h.startsWith('$2b$12$')).toBe(true);
  expect(await bcrypt.compare(PW, h)).toBe(true);

  const flag = await runBin(['users', 'admins', 'passwd', 'e2e@sayclaw.test', '--password', PW], t.env);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toMatch(/unknown option '--password'/);
  const last = await runBin(['users', 'admins', 'rm', 'e2e@sayclaw.test', '--yes'], t.env);
  expect(last.code).toBe(2);
  expect(last.stderr).toMatch(/last active admin account/);
  const ls = await runBin(['users', 'admins', 'ls', '-o', 'yaml'], t.env);
  expect([ls.code, ls.stderr]).toEqual([0, '']);
  expect(ls.stdout).toContain('name: 端到端');
  expect(ls.stdout).not.toMatch(/\$2b\$/);
});
