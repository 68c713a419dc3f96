// templates ls|show|add|update|rm|restore against real MariaDB: validation (exit 2, nothing
// written), unique names among alive templates (also under concurrency), soft delete, restore,
// audit rows, confirmation rules.
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';

let t: TestEnv;
beforeAll(async () => { t = await createTestEnv({ withPg: false }); }, 60000);
afterAll(async () => { await t?.close(); });

const count = async (where = sql`1 = 1`) => Number((await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table('admin.instance_templates')} WHERE ${where}`.execute(t.db)).rows[0]!.n);
const audits = async (action: string) => (await sql<{ target_id: string; before_json: string | null; after_json: string | null }>`SELECT target_id, before_json, after_json FROM ${sql.table('admin.admin_logs')} WHERE action = ${action} ORDER BY created_at, id`.execute(t.db)).rows;

test('add with every field, show, ls; audited', async () => {
  const r = await t.run(['templates', 'add', 'standard', '--image', 'sayclaw-lab-openclaw:1', '--command', '["/usr/local/bin/node","/app/node_modules/openclaw/openclaw.mjs","gateway","run","--allow-unconfigured","--bind","loopback"]',
    '--env', 'TZ=Asia/Tokyo', '--env', 'LANG=ja_JP.UTF-8', '--network', 'host', '--model', 'claude-sonnet-4', '--quota', '5000000', '--memory-mb', '2048', '--port-range', '20000-20099']);
  expect(r.stderr).toMatch(/^added template standard \(/);
  expect(r.code).toBe(0);
  const show = await t.run(['templates', 'show', 'standard', '-o', 'json']);
  expect(show.code).toBe(0);
  const j = JSON.parse(show.stdout);
  expect(j).toMatchObject({ name: 'standard', image: 'sayclaw-lab-openclaw:1', network: 'host', container_port: 18789, model: 'claude-sonnet-4', quota: '5000000',
    memory_mb: 2048, port_min: 20000, port_max: 20099, port_range: '20000-20099', env: { TZ: 'Asia/Tokyo', LANG: 'ja_JP.UTF-8' }, deleted_at: null });
  expect(j.command[0]).toBe('/usr/local/bin/node');
  const a = await audits('templates.add');
  expect(a).toHaveLength(1);
  expect(a[0]!.target_id).toBe(j.id);
  expect(JSON.parse(a[0]!.after_json!)).toMatchObject({ name: 'standard', quota: '5000000' });
  // defaults
  expect((await t.run(['templates', 'add', 'plain', '--image', 'img:1'])).code).toBe(0);
  const p = JSON.parse((await t.run(['templates', 'show', 'plain', '-o', 'json'])).stdout);
  expect(p).toMatchObject({ network: 'host', container_port: 18789, quota: 'unlimited', memory_mb: null, port_min: 18789, port_max: 19788, command: null, env: {} });
  const ls = await t.run(['templates', 'ls', '-o', 'name']);
  expect(ls.stdout).toBe('plain\nstandard\n');
});

test.each([
  [['--image', 'img:1', '--quota', '-5'], /--quota expects a whole number/],
  [['--image', 'img:1', '--quota', '1.5'], /--quota expects/],
  [['--image', 'img:1', '--network', 'overlay'], /^error: invalid --network "overlay" \(use host or bridge\)\n$/],
  [['--image', 'img:1', '--port-range', '19000-18000'], /--port-range expects A-B/],
  [['--image', 'img:1', '--port-range', '80-90'], /--port-range expects A-B/],
  [['--image', 'img:1', '--command', 'node app.js'], /--command is not valid JSON/],
  [['--image', 'img:1', '--command', '[]'], /--command must be a non-empty JSON array of strings/],
  [['--image', 'img:1', '--env', 'OPENAI_API_KEY=sk-abc'], /sayclaw sets this per instance/],
  [['--image', 'img:1', '--env', 'SLACK_BOT_TOKEN=x'], /looks like a secret; templates hold no secrets/],
  [['--image', 'img:1', '--env', 'NOEQUALS'], /--env expects NAME=VALUE/],
  [['--image', 'bad image'], /invalid image reference/],
  [['--image', 'img:1', '--memory-mb', '10'], /--memory-mb/],
  [[], /--image is required/],
])('bad input %j: exit 2, one line, nothing written', async (flags, msg) => {
  const before = await count();
  const r = await t.run(['templates', 'add', 'bad-one', ...(flags as string[])]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(msg as RegExp);
  expect(r.stderr).not.toMatch(/sk-abc/);
  expect(await count()).toBe(before);
});

test('bad name; duplicate name among alive is exit 2', async () => {
  let r = await t.run(['templates', 'add', 'has space', '--image', 'img:1']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/invalid template name/);
  r = await t.run(['templates', 'add', 'standard', '--image', 'img:2']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/a template named standard already exists; nothing changed/);
  r = await t.run(['templates', 'show', 'standrd']);
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/closest: standard/);
});

test('concurrent adds of one name: exactly one wins', async () => {
  const rs = await Promise.all([1, 2, 3].map((i) => t.run(['templates', 'add', 'racy', '--image', `img:${i}`])));
  expect(rs.map((r) => r.code).sort()).toEqual([0, 2, 2]);
  expect(await count(sql`name = 'racy' AND deleted_at IS NULL`)).toBe(1);
});

test('update: changes only what is given, audited with before/after; dry run writes nothing', async () => {
  let r = await t.run(['templates', 'update', 'standard', '--quota', 'unlimited', '--memory-mb', '3072', '--dry-run']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/would change standard quota: "5000000" -> "unlimited"/);
  expect(JSON.parse((await t.run(['templates', 'show', 'standard', '-o', 'json'])).stdout).quota).toBe('5000000');
  r = await t.run(['templates', 'update', 'standard', '--quota', 'unlimited', '--memory-mb', '3072']);
  expect(r.code).toBe(0);
  const j = JSON.parse((await t.run(['templates', 'show', 'standard', '-o', 'json'])).stdout);
  expect(j).toMatchObject({ quota: 'unlimited', memory_mb: 3072, model: 'claude-sonnet-4', port_range: '20000-20099' });
  const a = await audits('templates.update');
  expect(JSON.parse(a[0]!.before_json!)).toEqual({ name: 'standard', quota: '5000000', memory_mb: 2048 });
  expect(JSON.parse(a[0]!.after_json!)).toEqual({ name: 'standard', quota: 'unlimited', memory_mb: 3072 });
  r = await t.run(['templates', 'update', 'standard', '--port-range', '20100-20199', '--memory-mb', '3072']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/standard port_range: "20000-20099" -> "20100-20199"/);
  expect(r.stderr).not.toMatch(/memory_mb/);
  r = await t.run(['templates', 'update', 'standard']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/nothing to update/);
});

test('rm: refused without TTY, type the name on a TTY, soft delete, undo line; restore rules', async () => {
  let r = await t.run(['templates', 'rm', 'plain']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/refusing to soft-delete 1 template without confirmation/);
  r = await t.run(['templates', 'rm', 'plain'], { tty: true, answers: ['plan'] });
  expect(r.code).toBe(2);
  expect(await count(sql`name = 'plain' AND deleted_at IS NULL`)).toBe(1);
  r = await t.run(['templates', 'rm', 'plain', '--reason', 'replaced'], { tty: true, answers: ['plain'] });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/undo: sayclaw templates restore plain/);
  expect(await count(sql`name = 'plain' AND deleted_at IS NOT NULL`)).toBe(1);
  expect((await t.run(['templates', 'ls', '-o', 'name'])).stdout).not.toMatch(/^plain$/m);
  expect((await t.run(['templates', 'ls', '--deleted', '-o', 'name'])).stdout).toBe('plain\n');
  // the name is free again; then restoring the old one is refused
  expect((await t.run(['templates', 'add', 'plain', '--image', 'img:9'])).code).toBe(0);
  r = await t.run(['templates', 'restore', 'plain', '--yes']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/a template named plain already exists; nothing changed/);
  expect((await t.run(['templates', 'rm', 'plain', '--yes'])).code).toBe(0);
  r = await t.run(['templates', 'restore', 'plain', '--yes']);
  expect(r.code).toBe(0);
  // the most recently deleted one came back: img:9
  expect(JSON.parse((await t.run(['templates', 'show', 'plain', '-o', 'json'])).stdout).image).toBe('img:9');
  expect((await audits('templates.rm')).length).toBe(2);
  expect((await audits('templates.restore')).length).toBe(1);
});
