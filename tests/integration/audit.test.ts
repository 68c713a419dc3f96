// audit ls / audit show and the history timelines (instances, users, servers) against real
// MariaDB, the CLI running as a MySQL user without DELETE. Rows come from real sayclaw writes
// (rm, restore, assign, quota, keys add/reveal) and from "another tool" writing admin_logs,
// oc_health_logs and binding rows directly; oracles are plain JavaScript over the table itself.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CompiledQuery, sql } from 'kysely';
import { createTestEnv, type TestEnv, type RunResult } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';
import { mysqlParts } from '../support/services.js';
import { auditQuery, listAudit, type AuditFilter } from '../../src/fleet/audit/ls.js';
import { OUTPUT_FORMATS } from '../../src/output/render.js';

let t: TestEnv;
let fleet: Fleet;
const FORMATS = OUTPUT_FORMATS;

/** rows written by "another tool" straight into admin_logs */
async function insertAudit(rows: Array<{ id?: string; action: string; target_type: string; target_id: string; created_at: Date;
  os_user?: string | null; operator?: string | null; reason?: string | null; before_json?: string | null; after_json?: string | null; tool?: string }>) {
  await t.db.insertInto('admin.admin_logs').values(rows.map((r) => ({
    id: r.id ?? crypto.randomUUID(), os_user: r.os_user ?? 'web', operator: r.operator ?? null, action: r.action, target_type: r.target_type,
    target_id: r.target_id, before_json: r.before_json ?? null, after_json: r.after_json ?? null, reason: r.reason ?? null,
    tool: r.tool ?? 'admin-web', created_at: r.created_at, deleted_at: null,
  }))).execute();
}

/** a TTY's table without its colour codes (bold headers) */
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

const json = (r: RunResult) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
};

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 18, servers: 5, users: 10, prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-jp-20-': 2 } });
  await loadFleet(t.db, fleet);
});
afterAll(async () => { await t?.close(); });

const aliveAssigned = () => fleet.instances.filter((i) => !i.deleted && i.assigned_user_id);
const userOf = (id: string) => fleet.users.find((u) => u.id === id)!;

describe('audit ls: what sayclaw wrote, newest first', () => {
  const REASON = '员工离职，交接完成 🙂👍🏽 — naïve «ok»';
  let inst: string;

  test('rm/restore/unassign/assign/quota through the CLI are listed newest first with a one-line change', async () => {
    inst = aliveAssigned()[0]!.id;
    const other = fleet.users.find((u) => u.status === 'active' && u.id !== aliveAssigned()[0]!.assigned_user_id)!;
    expect((await t.run(['instances', 'rm', inst, '--yes', '--reason', REASON])).code).toBe(0);
    expect((await t.run(['instances', 'restore', inst, '--yes'], { env: { SAYCLAW_OPERATOR: 'ops-zhang' } })).code).toBe(0);
    expect((await t.run(['instances', 'unassign', inst, '--yes', '--reason', '换人'])).code).toBe(0);
    expect((await t.run(['instances', 'assign', inst, other.email])).code).toBe(0);
    expect((await t.run(['users', 'quota', other.email, '300000', '--reason', '试点项目'])).code).toBe(0);
    const rows = json(await t.run(['audit', 'ls', '-o', 'json']));
    expect(rows.slice(0, 5).map((r) => r.action)).toEqual(['users.quota', 'instances.assign', 'instances.unassign', 'instances.restore', 'instances.rm']);
    const times = rows.map((r) => Date.parse(r.created_at as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const [quota, assign, , restore, rm] = rows;
    expect(rm).toMatchObject({ target_type: 'instance', target_id: inst, target_name: inst, os_user: 'tester', operator: null, reason: REASON, tool: 'sayclaw' });
    expect(rm!.summary).toMatch(/^deleted_at: null → \d{4}-\d\d-\d\dT/);
    expect(restore).toMatchObject({ operator: 'ops-zhang', os_user: 'tester' });
    expect(restore!.summary).toMatch(/^deleted_at: \d{4}-.* → null$/);
    expect(assign!.summary).toContain(`assigned_email: null → ${other.email}`);
    expect(quota).toMatchObject({ target_type: 'user', target_id: other.id, target_name: other.email, reason: '试点项目' });
    expect(quota!.summary).toMatch(/quota_daily: \d+ → 300000/);
  });

  test('utf8mb4 reasons come back byte for byte in every format', async () => {
    const stored = await sql<{ hex: string }>`SELECT HEX(reason) AS hex FROM ${sql.table('admin.admin_logs')} WHERE action = 'instances.rm' AND target_id = ${inst}`.execute(t.db);
    expect(stored.rows[0]!.hex).toBe(Buffer.from(REASON, 'utf8').toString('hex').toUpperCase());
    const j = json(await t.run(['audit', 'ls', '--target', inst, '--action', 'instances.rm', '-o', 'json']));
    expect(j[0]!.reason).toBe(REASON);
    for (const f of FORMATS.filter((x) => x !== 'name')) {
      const r = await t.run(['audit', 'ls', '--target', inst, '--action', 'instances.rm', '-o', f]);
      expect(r.code).toBe(0);
      expect(Buffer.from(r.stdout, 'utf8').includes(Buffer.from(REASON, 'utf8'))).toBe(true);
    }
    const nd = await t.run(['audit', 'ls', '--target', inst, '-o', 'ndjson']);
    expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l).reason)).toContain('换人');
  });

  test('--target takes an instance id, a user email or a server name/IP; --target-prefix is literal', async () => {
    const other = json(await t.run(['audit', 'ls', '--action', 'users.quota', '-o', 'json']))[0]!;
    const byEmail = json(await t.run(['audit', 'ls', '--target', String(other.target_name), '-o', 'json']));
    expect(byEmail.map((r) => r.action)).toEqual(['users.quota']);
    const s = fleet.servers.find((x) => !x.deleted)!;
    expect((await t.run(['servers', 'update', s.name, '--status', 'maintenance', '--reason', '换盘'])).code).toBe(0);
    for (const ref of [s.name, s.ip, s.id]) {
      const r = json(await t.run(['audit', 'ls', '--target', ref, '-o', 'json']));
      expect(r.map((x) => [x.action, x.target_id, x.target_name])).toEqual([['servers.update', s.id, s.name]]);
    }
    await insertAudit([{ action: 'instances.restart', target_type: 'instance', target_id: 'oc-ai-jp-20-01', created_at: new Date() },
      { action: 'instances.restart', target_type: 'instance', target_id: 'oc_ai-jp-2-x', created_at: new Date() }]);
    const p = json(await t.run(['audit', 'ls', '--target-prefix', 'oc-ai-jp-2-', '--limit', '0', '-o', 'json']));
    expect(p.length).toBeGreaterThanOrEqual(4);
    expect(p.every((r) => String(r.target_id).startsWith('oc-ai-jp-2-'))).toBe(true);
    const none = await t.run(['audit', 'ls', '--target', 'no-such-thing', '-o', 'json']);
    expect(json(none)).toEqual([]);
  });

  test('--action exact, a list, and prefixes with *; bad patterns are exit 2', async () => {
    const a = json(await t.run(['audit', 'ls', '--action', 'instances.*', '--limit', '0', '-o', 'json']));
    expect(a.length).toBeGreaterThan(3);
    expect(a.every((r) => String(r.action).startsWith('instances.'))).toBe(true);
    const b = json(await t.run(['audit', 'ls', '--action', 'users.quota,servers.update', '-o', 'json']));
    expect(new Set(b.map((r) => r.action))).toEqual(new Set(['users.quota', 'servers.update']));
    const c = json(await t.run(['audit', 'ls', '--action', 'servers.update', '--action', 'users.*', '-o', 'json']));
    expect(new Set(c.map((r) => r.action))).toEqual(new Set(['users.quota', 'servers.update']));
    for (const bad of ['instances.*.rm', 'rm; DROP', '%', '']) {
      const r = await t.run(['audit', 'ls', '--action', bad]);
      if (bad === '') { expect(r.code).toBe(0); continue; }
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: invalid --action/);
    }
  });

  test('--since/--until take the usage forms; reversed or unreadable ranges are exit 2', async () => {
    const base = Date.UTC(2025, 5, 10, 12, 0, 0);
    await insertAudit([0, 1, 2, 3].map((d) => ({ action: 'servers.add', target_type: 'server', target_id: `range-${d}`, created_at: new Date(base + d * 86400000) })));
    const run = async (argv: string[]) => json(await t.run(['audit', 'ls', ...argv, '--target-prefix', 'range-', '-o', 'json'])).map((r) => r.target_id);
    expect(await run(['--since', '2025-06-11', '--until', '2025-06-12'])).toEqual(['range-2', 'range-1']);
    expect(await run(['--until', '2025-06-10'])).toEqual(['range-0']);
    expect(await run(['--since', '2025-06-12T12:00:00Z'])).toEqual(['range-3', 'range-2']);
    expect(await run(['--since', `@${base / 1000 + 86400 * 3}`])).toEqual(['range-3']);
    expect(await run(['--since', '2025-06', '--until', '2025-06'])).toEqual(['range-3', 'range-2', 'range-1', 'range-0']);
    expect(await run(['--since', '30d'])).toEqual([]);
    for (const bad of [['--since', '2025-06-12', '--until', '2025-06-10'], ['--since', 'last tuesday'], ['--tz', 'Mars/Olympus', '--since', 'today']]) {
      const r = await t.run(['audit', 'ls', ...bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
  });

  test('--actor matches the OS user or the operator; --limit; table on a TTY has relative times and a count', async () => {
    const ops = json(await t.run(['audit', 'ls', '--actor', 'ops-zhang', '-o', 'json']));
    expect(ops.map((r) => r.action)).toEqual(['instances.restore']);
    const tester = json(await t.run(['audit', 'ls', '--actor', 'tester', '--limit', '0', '-o', 'json']));
    expect(tester.length).toBeGreaterThanOrEqual(6);
    expect(tester.every((r) => r.os_user === 'tester' || r.operator === 'tester')).toBe(true);
    expect(json(await t.run(['audit', 'ls', '--limit', '2', '-o', 'json']))).toHaveLength(2);
    const tty = await t.run(['audit', 'ls', '--actor', 'tester', '--limit', '3'], { tty: true });
    expect(plain(tty.stdout).split('\n')[0]).toMatch(/^TIME\s+OS USER\s+OPERATOR\s+ACTION\s+TYPE\s+TARGET\s+REASON\s+CHANGE/);
    expect(tty.stdout).toMatch(/\d+[smhd] ago/);
    expect(tty.stderr).toMatch(/3 audit rows \(the newest 3; --limit N or 0 for more\)/);
    const pipe = await t.run(['audit', 'ls', '--actor', 'tester', '--limit', '3']);
    expect(pipe.stdout).not.toMatch(/ ago/);
    expect(pipe.stdout).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    expect(pipe.stderr).toBe('');
    const csv = await t.run(['audit', 'ls', '--limit', '1', '-o', 'csv']);
    expect(csv.stdout.split('\r\n')[0]).toBe('created_at,os_user,operator,action,target_type,target_name,reason,summary,id,target_id,tool,run_id,before,after');
    const names = await t.run(['audit', 'ls', '--limit', '3', '-o', 'name']);
    expect(names.stdout.trim().split('\n')).toHaveLength(3);
    expect(names.stdout).toMatch(/^[0-9a-f-]{36}\n/);
  });
});

describe('audit: never a secret, never a control byte', () => {
  const LEAK = 'LEAKCHECK';
  const target = 'oc-ai-jp-2-leak';
  const ctrlReason = 'bad\x1b[2J\x1b]0;pwned\x07 reason\r\nnext';

  beforeAll(async () => {
    await t.db.insertInto('admin.oc_instances').values({ id: target, container_id: null, server_id: fleet.servers[0]!.id, assigned_user_id: null,
      name: target, gateway_port: 1, gateway_url: null, gateway_token: `gwt_${LEAK}_0123456789abcdef`, model: 'gpt-4o', total_requests: '0',
      total_tokens: '0', notes: null, config_json: null }).execute();
    await insertAudit([{
      id: 'aaaaaaaa-0000-4000-8000-00000000leak', action: 'instances.update', target_type: 'instance', target_id: target, created_at: new Date(Date.now() - 60000),
      before_json: JSON.stringify({ gateway_token: `gwt_${LEAK}_old_0123456789`, note: `7000000123:AAH_${LEAK}_abcdefghijklmnopqrstuvwxyz`,
        value: `sk-${LEAK}abcdefghijklmnopqrstuv`, config_json: JSON.stringify({ gateway: { token: `nested_${LEAK}_token_123456` }, agent: { model: 'gpt-4o' } }),
        secrets: { a: `obj_${LEAK}_secret_987654` }, headers: [{ authorization: `Bearer ${LEAK}0123456789` }] }),
      after_json: `password=plain_${LEAK}_pw_111222 (not JSON)`, reason: ctrlReason,
    }]);
  });

  test('rows another tool wrote unmasked are masked in every format of ls, show and history', async () => {
    const runs: RunResult[] = [];
    for (const f of FORMATS) {
      runs.push(await t.run(['audit', 'ls', '--target', target, '-o', f]));
      runs.push(await t.run(['audit', 'show', 'aaaaaaaa-0000-4000-8000-00000000leak', '-o', f]));
      runs.push(await t.run(['instances', 'history', target, '-o', f]));
      runs.push(await t.run(['audit', 'ls', '--target', target, '-o', f], { tty: true }));
    }
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(LEAK);
    }
    const shown = JSON.parse((await t.run(['audit', 'show', 'aaaaaaaa-0000-4000-8000-00000000leak', '-o', 'json'])).stdout);
    expect(shown.before.gateway_token).toMatch(/^\*\*\*\*/);
    expect(shown.before.note).toMatch(/^\*\*\*\*/);
    expect(shown.before.value).toMatch(/^\*\*\*\*/);
    expect(shown.before.secrets).toBe('****');
    expect(JSON.parse(shown.before.config_json)).toEqual({ gateway: { token: expect.stringMatching(/^\*\*\*\*/) }, agent: { model: 'gpt-4o' } });
    expect(shown.after).toEqual({ unreadable: expect.stringMatching(/^not JSON \(\d+ bytes, not shown\)$/) });
  });

  test('secrets buried in free text another tool wrote are masked too, also where the summary cuts the text', async () => {
    const id = 'aaaaaaaa-0000-4000-8000-0000000bleak';
    // the bot token starts at character 33 of its value, so a summary cut at 40 characters used to show 7 of it
    const bot = `7000000123:AAH${LEAK}abcdefghijklmnopqrstuvwxyz0123`;
    await insertAudit([{
      id, action: 'instances.update', target_type: 'instance', target_id: target, created_at: new Date(Date.now() - 30000),
      before_json: JSON.stringify({ notes: 'old note' , tg: 'none' }),
      after_json: JSON.stringify({ notes: `new key is sk-proj-${LEAK}ABCDEFGHIJ ok; db mysql://app:pw_${LEAK}@db.internal/x`, tg: `the bot xx ${bot} here`,
        header: `sent Authorization: Bearer ${LEAK}0123456789abcdef` }),
      reason: null,
    }]);
    const runs: RunResult[] = [];
    for (const f of FORMATS) {
      runs.push(await t.run(['audit', 'ls', '--target', target, '-o', f]));
      runs.push(await t.run(['audit', 'show', id, '-o', f]));
      runs.push(await t.run(['instances', 'history', target, '-o', f]));
    }
    runs.push(await t.run(['audit', 'show', id], { tty: true }));
    runs.push(await t.run(['audit', 'ls', '--target', target], { tty: true }));
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(LEAK);
      // not even the start of the bot token's secret part (the summary cut used to leave it)
      expect(r.stdout + r.stderr).not.toContain('7000000123:AAH');
    }
    const shown = JSON.parse((await t.run(['audit', 'show', id, '-o', 'json'])).stdout);
    expect(shown.after.notes).toBe('new key is ****GHIJ ok; db mysql://app:****@db.internal/x');
    expect(shown.after.tg).toBe('the bot xx ****0123 here');
  });

  test('what sayclaw itself writes about keys holds a fingerprint, never the key (add, reveal)', async () => {
    const mk = join(t.tmp, 'audit-mk.key');
    writeFileSync(mk, randomBytes(32).toString('hex'), { mode: 0o600 });
    const secret = `sk-proj-${LEAK}0001aaaaBBBBccccDDDD1111`;
    const env = { SAYCLAW_MASTER_KEY_FILE: mk };
    const add = await t.run(['keys', 'add', '--provider', 'openai', '--name', 'audit-test', '--secret-stdin', '-o', 'json'], { stdin: secret, env });
    expect(add.code).toBe(0);
    const id = JSON.parse(add.stdout).id as string;
    const rev = await t.run(['keys', 'reveal', id, '--yes', '--reason', 'migrate'], { env });
    expect(rev.stdout).toBe(`${secret}\n`);
    for (const f of FORMATS) {
      const r = await t.run(['audit', 'ls', '--action', 'keys.*', '-o', f]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(LEAK);
    }
    const rows = json(await t.run(['audit', 'ls', '--action', 'keys.*', '-o', 'json']));
    expect(rows.map((r) => r.action)).toEqual(['keys.reveal', 'keys.add']);
    expect(rows.every((r) => r.target_name === 'audit-test')).toBe(true);
  });

  test('control characters in stored text are escaped on the terminal, kept exact in data formats', async () => {
    for (const tty of [false, true]) {
      for (const argv of [['audit', 'ls', '--target', target], ['audit', 'show', 'aaaaaaaa-0000-4000-8000-00000000leak'], ['instances', 'history', target]]) {
        const r = await t.run(argv, { tty, env: { NO_COLOR: '1' } });
        expect(r.code).toBe(0);
        // eslint-disable-next-line no-control-regex
        expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
        expect(r.stdout).toContain('bad\\x1b[2J\\x1b]0;pwned\\x07 reason\\r\\nnext');
      }
    }
    const j = json(await t.run(['audit', 'ls', '--target', target, '-o', 'json']));
    expect(j.find((r) => r.id === 'aaaaaaaa-0000-4000-8000-00000000leak')!.reason).toBe(ctrlReason);
  });
});

describe('audit show', () => {
  test('before/after as a diff; colour only on a TTY; every format', async () => {
    const id = String(json(await t.run(['audit', 'ls', '--action', 'users.quota', '-o', 'json']))[0]!.id);
    const plain = await t.run(['audit', 'show', id]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^Audit row\nid +.+\n/);
    expect(plain.stdout).toMatch(/\n- quota_daily: \d+\n\+ quota_daily: 300000\n/);
    expect(plain.stdout).toMatch(/\n {2}email: \S+@sayclaw\.test\n/);
    expect(plain.stdout).not.toContain('\x1b[');
    const tty = await t.run(['audit', 'show', id], { tty: true });
    expect(tty.stdout).toContain('\x1b[31m- quota_daily');
    expect(tty.stdout).toContain('\x1b[32m+ quota_daily: 300000');
    const j = JSON.parse((await t.run(['audit', 'show', id, '-o', 'json'])).stdout);
    expect(j).toMatchObject({ id, action: 'users.quota', changes: expect.arrayContaining([{ field: 'quota_daily', before: expect.any(String), after: '300000', changed: true }]) });
    for (const f of FORMATS) expect((await t.run(['audit', 'show', id, '-o', f])).code).toBe(0);
    expect((await t.run(['audit', 'show', id, '-o', 'name'])).stdout).toBe(`${id}\n`);
    // a unique start of the id works like git
    expect(JSON.parse((await t.run(['audit', 'show', id.slice(0, 13), '-o', 'json'])).stdout).id).toBe(id);
  });

  test('the run id: rows one bulk write wrote share it; audit show names it and how many rows it wrote', async () => {
    const ids = fleet.instances.filter((i) => !i.deleted && i.id.startsWith('oc-ai-jp-20-')).map((i) => i.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect((await t.run(['instances', 'rm', '--prefix', 'oc-ai-jp-20-', '--yes', '--reason', '机房关闭'])).code).toBe(0);
    const rows = json(await t.run(['audit', 'ls', '--action', 'instances.rm', '--target-prefix', 'oc-ai-jp-20-', '-o', 'json']));
    expect(rows).toHaveLength(ids.length);
    const runs = new Set(rows.map((r) => r.run_id));
    expect(runs.size).toBe(1);
    const run = [...runs][0] as string;
    expect(run).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/);
    expect(rows.every((r) => String(r.id).startsWith(`${run}-`))).toBe(true);
    const show = await t.run(['audit', 'show', String(rows[0]!.id)]);
    expect(show.stdout).toMatch(new RegExp(`\nrun_id +${run}\nrun_rows +${ids.length}\n`));
    expect(show.stderr).toBe(`its run wrote ${ids.length} audit rows: sayclaw audit ls --run ${run}\n`);
    expect(JSON.parse((await t.run(['audit', 'show', String(rows[0]!.id), '-o', 'json'])).stdout)).toMatchObject({ run_id: run, run_rows: ids.length });
    expect(json(await t.run(['audit', 'ls', '--run', run, '-o', 'json'])).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    // rows with random ids (another tool, or written outside a sayclaw transaction) have no run
    const other = JSON.parse((await t.run(['audit', 'show', 'aaaaaaaa-0000-4000-8000-00000000leak', '-o', 'json'])).stdout);
    expect(other).toMatchObject({ run_id: null, run_rows: null });
    expect((await t.run(['instances', 'restore', '--prefix', 'oc-ai-jp-20-', '--yes'])).code).toBe(0);
  });

  test('unknown id: exit 4 with the closest ids; ambiguous start: exit 2; nothing on stdout', async () => {
    await insertAudit([1, 2].map((n) => ({ id: `bbbbbbbb-1111-4000-8000-00000000000${n}`, action: 'servers.add', target_type: 'server', target_id: `amb-${n}`, created_at: new Date(Date.UTC(2024, 0, n)) })));
    const miss = await t.run(['audit', 'show', 'bbbbbbbb-1111-4000-8000-000000000009']);
    expect(miss.code).toBe(4);
    expect(miss.stdout).toBe('');
    expect(miss.stderr).toBe('error: no such audit row: bbbbbbbb-1111-4000-8000-000000000009 (closest: bbbbbbbb-1111-4000-8000-000000000001, bbbbbbbb-1111-4000-8000-000000000002)\n');
    const amb = await t.run(['audit', 'show', 'bbbbbbbb-1111']);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toMatch(/^error: "bbbbbbbb-1111" is the start of 2 audit ids/);
    const junk = await t.run(['audit', 'show', 'zz']);
    expect(junk.code).toBe(4);
  });
});

describe('indexes: schema init creates them, the filters use them (EXPLAIN)', () => {
  beforeAll(async () => {
    // 20,000 older rows from "another tool", so the optimizer has a real choice to make: mostly
    // health and restart rows, as on a real fleet, and few of the rare actions one looks for
    await sql.raw(`INSERT INTO \`${t.names.admin}\`.admin_logs (id, os_user, operator, action, target_type, target_id, before_json, after_json, reason, tool, created_at)
      SELECT CONCAT('cccccccc-', LPAD(LOWER(HEX(seq)), 4, '0'), '-4000-8000-', LPAD(LOWER(HEX(seq)), 12, '0')), ELT(1 + seq % 3, 'alice', 'bob', 'web'), NULL,
        CASE WHEN seq % 100 < 60 THEN 'instances.health' WHEN seq % 100 < 80 THEN 'instances.restart' WHEN seq % 100 < 90 THEN 'instances.rm'
          WHEN seq % 100 < 95 THEN 'instances.restore' WHEN seq % 100 < 98 THEN 'users.quota' WHEN seq % 100 < 99 THEN 'servers.update' ELSE 'keys.reveal' END, 'instance', CONCAT('bulk-', seq % 2000), NULL, '{"deleted_at":null}', NULL, 'admin-web',
        TIMESTAMP('2024-01-01') + INTERVAL seq * 1237 SECOND
      FROM seq_1_to_20000`).execute(t.db);
    await sql.raw(`ANALYZE TABLE \`${t.names.admin}\`.admin_logs`).execute(t.db);
  });

  async function explain(f: AuditFilter) {
    const c = auditQuery(t.db, f).compile();
    const r = await t.db.executeQuery<{ key: string | null; type: string; rows: string }>(CompiledQuery.raw(`EXPLAIN ${c.sql}`, [...c.parameters]));
    return r.rows[0]!;
  }

  test('--target (with --since) uses (target_id, created_at); --action uses (action, created_at)', async () => {
    const since = new Date(Date.UTC(2024, 3, 1));
    expect((await explain({ targets: ['bulk-17'], from: since, limit: 50 })).key).toBe('idx_target_created');
    expect((await explain({ targets: ['bulk-17', 'bulk-18'], limit: 50 })).key).toBe('idx_target_created');
    expect((await explain({ targetPrefix: 'bulk-199', limit: 50 })).key).toBe('idx_target_created');
    expect((await explain({ actions: ['keys.reveal'], from: since, to: new Date(Date.UTC(2024, 4, 1)), limit: 0 })).key).toBe('idx_action_created');
    expect((await explain({ actions: ['keys.*'], from: since, limit: 0 })).key).toBe('idx_action_created');
    // and the answer is the oracle's
    const got = await listAudit(t.db, { targets: ['bulk-17'], from: since, limit: 0 });
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((r) => r.target_id === 'bulk-17' && r.created_at >= since)).toBe(true);
  });

  test('schema init adds the audit indexes to an admin_logs that lacks them, and says so', async () => {
    for (const ix of ['idx_target_created', 'idx_action_created']) await sql.raw(`ALTER TABLE \`${t.names.admin}\`.admin_logs DROP INDEX ${ix}`).execute(t.db);
    const m = mysqlParts();
    const root = { SAYCLAW_MYSQL_URL: `mysql://${m.user}${m.password ? `:${encodeURIComponent(m.password)}` : ''}@${m.host}:${m.port}` };
    const r = await t.run(['schema', 'init', '--no-pg'], { env: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`created index ${t.names.admin}.admin_logs.idx_target_created (target_id, created_at)`);
    expect(r.stderr).toContain(`created index ${t.names.admin}.admin_logs.idx_action_created (action, created_at)`);
    const again = await t.run(['schema', 'init', '--no-pg'], { env: root });
    expect(again.stderr).not.toContain('created');
    expect((await explain({ targets: ['bulk-17'], limit: 50 })).key).toBe('idx_target_created');
  });

  test('property: listAudit equals a JavaScript filter of the whole table, in order', async () => {
    const all = (await t.db.selectFrom('admin.admin_logs').selectAll().where('deleted_at', 'is', null).execute());
    const targets = [...new Set(all.map((r) => r.target_id))];
    const actors = ['alice', 'bob', 'web', 'tester', 'ops-zhang', 'nobody'];
    const acts = ['instances.rm', 'instances.*', 'users.*', 'keys.reveal', 'servers.update', 'nope.*', 'instances.health'];
    const day = 86400000;
    const t0 = Date.UTC(2024, 0, 1);
    await fc.assert(fc.asyncProperty(
      fc.record({
        targets: fc.option(fc.array(fc.constantFrom(...targets), { minLength: 1, maxLength: 3 }), { nil: undefined }),
        targetPrefix: fc.option(fc.constantFrom('bulk-1', 'oc-ai-jp-2-', 'bulk-', 'range-', 'oc'), { nil: undefined }),
        actor: fc.option(fc.constantFrom(...actors), { nil: undefined }),
        actions: fc.option(fc.array(fc.constantFrom(...acts), { minLength: 1, maxLength: 3 }), { nil: undefined }),
        from: fc.option(fc.integer({ min: 0, max: 400 }).map((d) => new Date(t0 + d * day)), { nil: undefined }),
        span: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
        limit: fc.constantFrom(0, 1, 7, 50),
      }),
      async (p) => {
        const f: AuditFilter = { targets: p.targets, targetPrefix: p.targetPrefix, actor: p.actor, actions: p.actions, from: p.from, limit: p.limit,
          to: p.from && p.span ? new Date(p.from.getTime() + p.span * day) : undefined };
        const want = all.filter((r) => (!f.targets || f.targets.includes(r.target_id)) && (!f.targetPrefix || r.target_id.startsWith(f.targetPrefix))
          && (!f.actor || r.os_user === f.actor || r.operator === f.actor)
          && (!f.actions || f.actions.some((a) => (a.endsWith('*') ? r.action.startsWith(a.slice(0, -1)) : r.action === a)))
          && (!f.from || r.created_at >= f.from) && (!f.to || r.created_at < f.to))
          .sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
          .slice(0, f.limit || undefined).map((r) => r.id);
        expect((await listAudit(t.db, f)).map((r) => r.id)).toEqual(want);
      }), { numRuns: 120 });
  }, 120000);
});

describe('instances history', () => {
  const id = 'oc-ai-jp-2-hist';
  let server: Fleet['servers'][number];
  let u1: Fleet['users'][number];
  let u2: Fleet['users'][number];
  const at = (s: string) => new Date(s);

  beforeAll(async () => {
    server = fleet.servers.find((s) => !s.deleted)!;
    [u1, u2] = fleet.users.filter((u) => u.status === 'active');
    await t.db.insertInto('admin.oc_instances').values({ id, container_id: null, server_id: server.id, assigned_user_id: null, name: id,
      gateway_port: 2, gateway_url: null, gateway_token: 'gwt_hist_0123456789abcdef', model: 'gpt-4o', total_requests: '0', total_tokens: '0',
      notes: null, config_json: null, created_at: at('2026-01-05T08:00:00Z') }).execute();
    // probes: healthy x3, unhealthy x2, healthy, a deleted probe (ignored), unknown
    const probes: Array<[string, string, string | null]> = [
      ['2026-01-05T09:00:00Z', 'healthy', null], ['2026-01-05T09:05:00Z', 'healthy', null], ['2026-01-05T09:10:00Z', 'healthy', null],
      ['2026-01-06T03:00:00Z', 'unhealthy', 'readyz: HTTP 503'], ['2026-01-06T03:05:00Z', 'unhealthy', 'readyz: HTTP 503'],
      ['2026-01-06T04:00:00Z', 'healthy', null], ['2026-01-07T00:00:00Z', 'unknown', 'timeout'],
    ];
    await t.db.insertInto('admin.oc_health_logs').values(probes.map(([when, status, error]) => ({
      id: crypto.randomUUID(), instance_id: id, status, live: status === 'healthy' ? 1 : 0, ready: status === 'healthy' ? 1 : 0, latency_ms: 5,
      http_status: status === 'healthy' ? 200 : 503, error, via: 'http', checked_at: at(when), deleted_at: when.startsWith('2026-01-07') ? at(when) : null,
    }))).execute();
    // the probe run that saw it go unhealthy left an instances.health audit row (as `instances health --record` does)
    await insertAudit([{ action: 'instances.health', target_type: 'instance', target_id: id, created_at: at('2026-01-06T03:00:00.020Z'), os_user: 'cron',
      before_json: JSON.stringify({ health_status: 'healthy', health_fail_count: 0 }), after_json: JSON.stringify({ health_status: 'unhealthy', health_fail_count: 1 }) }]);
    // a binding row written by another tool before sayclaw ever assigned it
    await t.db.insertInto('admin.instance_users').values({ instance_id: id, user_email: 'former@sayclaw.test', assigned_at: at('2026-01-05T10:00:00Z') }).execute();
  });

  test('one timeline, oldest first: created, bindings, health transitions (not every probe), sayclaw writes', async () => {
    expect((await t.run(['instances', 'assign', id, u1.email, '--reason', '新员工'])).code).toBe(0);
    expect((await t.run(['instances', 'reassign', id, u2.email, '--yes', '--reason', '调岗'])).code).toBe(0);
    expect((await t.run(['instances', 'rm', id, '--yes', '--reason', '离职'])).code).toBe(0);
    expect((await t.run(['instances', 'restore', id, '--yes'])).code).toBe(0);
    const ev = json(await t.run(['instances', 'history', id, '-o', 'json']));
    expect(ev.map((e) => e.event)).toEqual(['created', 'health', 'binding', 'health', 'health',
      'instances.assign', 'instances.reassign', 'instances.rm', 'instances.restore']);
    const times = ev.map((e) => Date.parse(e.at as string));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(ev[0]).toMatchObject({ source: 'record', detail: 'oc_instances row created (no sayclaw audit row)', at: '2026-01-05T08:00:00.000Z' });
    expect(ev.filter((e) => e.event === 'health').map((e) => [e.at, e.detail, e.actor])).toEqual([
      ['2026-01-05T09:00:00.000Z', 'first probe: healthy via http', null],
      ['2026-01-06T03:00:00.000Z', 'healthy → unhealthy (readyz: HTTP 503) via http', 'cron'],
      ['2026-01-06T04:00:00.000Z', 'unhealthy → healthy via http', null],
    ]);
    // the health audit row is that transition, not a second event
    expect(ev.filter((e) => e.event === 'instances.health')).toEqual([]);
    expect(ev[2]).toMatchObject({ event: 'binding', detail: expect.stringContaining('former@sayclaw.test'), source: 'binding' });
    // sayclaw's assign wrote binding rows too: shown once, as the audit row
    expect(ev.filter((e) => e.event === 'binding')).toHaveLength(1);
    expect(ev.find((e) => e.event === 'instances.reassign')).toMatchObject({ actor: 'tester', reason: '调岗', target: id,
      detail: expect.stringContaining(`assigned_email: ${u1.email} → ${u2.email}`), audit_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  test('a delete done outside sayclaw shows as such; --since/--until cut the window', async () => {
    await t.db.updateTable('admin.oc_instances').set({ deleted_at: at('2027-01-01T00:00:00Z') }).where('id', '=', id).execute();
    const ev = json(await t.run(['instances', 'history', id, '-o', 'json']));
    expect(ev[ev.length - 1]).toMatchObject({ event: 'deleted', source: 'record', at: '2027-01-01T00:00:00.000Z',
      detail: expect.stringContaining('changed outside sayclaw') });
    const w = json(await t.run(['instances', 'history', id, '--since', '2026-01-06', '--until', '2026-01-06', '-o', 'json']));
    expect(w.map((e) => [e.event, e.detail])).toEqual([['health', 'healthy → unhealthy (readyz: HTTP 503) via http'], ['health', 'unhealthy → healthy via http']]);
    // the window starts after a probe: the first probe in it is only an event if the status changed
    const w2 = json(await t.run(['instances', 'history', id, '--since', '2026-01-05T09:01:00Z', '--until', '2026-01-05', '-o', 'json']));
    expect(w2.map((e) => e.event)).toEqual(['binding']);
    await t.db.updateTable('admin.oc_instances').set({ deleted_at: null }).where('id', '=', id).execute();
  });

  test('every format; table on a TTY with relative times; unknown id exit 4 with closest ids', async () => {
    for (const f of FORMATS) expect((await t.run(['instances', 'history', id, '-o', f])).code).toBe(0);
    const tty = await t.run(['instances', 'history', id], { tty: true });
    expect(plain(tty.stdout).split('\n')[0]).toMatch(/^TIME\s+EVENT\s+TARGET\s+ACTOR\s+DETAIL\s+REASON$/);
    expect(tty.stdout).toMatch(/\d+d ago\s+created/);
    expect(tty.stderr).toMatch(/^\d+ events for oc-ai-jp-2-hist\n$/);
    const csv = await t.run(['instances', 'history', id, '-o', 'csv']);
    expect(csv.stdout.split('\r\n')[0]).toBe('at,event,target,actor,detail,reason,source,audit_id,target_type,target_id');
    const nf = await t.run(['instances', 'history', 'oc-ai-jp-2-99']);
    expect(nf.code).toBe(4);
    expect(nf.stdout).toBe('');
    expect(nf.stderr).toMatch(/^error: no such instance: oc-ai-jp-2-99 \(closest: oc-ai-jp-2-0\d, /);
  });

  test('an id that only admin_logs knows is shown with a warning, not refused', async () => {
    await insertAudit([{ action: 'instances.rm', target_type: 'instance', target_id: 'oc-gone-01', created_at: at('2025-02-02T00:00:00Z'), reason: 'old tool' }]);
    const r = await t.run(['instances', 'history', 'oc-gone-01', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: oc-gone-01 has no oc_instances row/);
    expect(json(r).map((e) => [e.event, e.reason])).toEqual([['instances.rm', 'old tool']]);
  });
});

describe('users history and servers history', () => {
  test('a user: own changes and the assignment events of instances they have or had, oldest first', async () => {
    const id = 'oc-ai-jp-2-hist';
    const [u1, u2] = fleet.users.filter((u) => u.status === 'active');
    expect((await t.run(['users', 'quota', u1!.email, '123456', '--reason', '配额调整'])).code).toBe(0);
    expect((await t.run(['users', 'revoke', u2!.email, '--unassign', '--yes', '--reason', '离职'])).code).toBe(0);
    const e1 = json(await t.run(['users', 'history', u1!.email, '-o', 'json']));
    const mine = e1.filter((e) => e.target_id === id).map((e) => e.event);
    expect(mine).toEqual(['instances.assign', 'instances.reassign']);
    expect(e1.find((e) => e.event === 'users.quota')).toMatchObject({ target: u1!.email, reason: '配额调整', actor: 'tester' });
    expect(e1[0]).toMatchObject({ event: 'created', source: 'record' });
    const times = e1.map((e) => Date.parse(e.at as string));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const e2 = json(await t.run(['users', 'history', u2!.email, '-o', 'json']));
    const seq = e2.map((e) => e.event);
    expect(seq.slice(-2)).toEqual(['instances.unassign', 'users.revoke']);
    expect(seq).toContain('instances.reassign');
    expect(e2.find((e) => e.event === 'users.revoke')).toMatchObject({ reason: '离职', target: u2!.email });
    // a revoke outside sayclaw (revoked_at set directly) is a record event
    const u3 = fleet.users.find((u) => u.status === 'active' && u.id !== u1!.id && u.id !== u2!.id)!;
    await t.db.updateTable('portal.users').set({ status: 'revoked', revoked_at: new Date('2026-03-03T03:03:03Z') }).where('id', '=', u3.id).execute();
    const e3 = json(await t.run(['users', 'history', u3.email, '-o', 'json']));
    expect(e3.find((e) => e.event === 'revoked')).toMatchObject({ source: 'record', detail: expect.stringContaining('outside sayclaw') });
    const nf = await t.run(['users', 'history', u1!.email.replace('@', 'x@')]);
    expect(nf.code).toBe(4);
    expect(nf.stderr).toContain(`(closest: ${u1!.email}`);
  });

  test('a server by name, IP or id: its audit rows and dates; unknown is exit 4', async () => {
    const s = fleet.servers.find((x) => !x.deleted)!;
    expect((await t.run(['servers', 'update', s.name, '--notes', '机柜 B-07', '--reason', '搬迁'])).code).toBe(0);
    const want = json(await t.run(['servers', 'history', s.id, '-o', 'json']));
    expect(want.map((e) => e.event)).toEqual(['created', 'servers.update', 'servers.update']);
    expect(want[2]).toMatchObject({ target: s.name, reason: '搬迁', detail: expect.stringContaining('notes: null → 机柜 B-07') });
    for (const ref of [s.name, s.ip]) expect(json(await t.run(['servers', 'history', ref, '-o', 'json']))).toEqual(want);
    const del = fleet.servers.find((x) => x.deleted)!;
    const d = json(await t.run(['servers', 'history', del.name, '-o', 'json']));
    expect(d.map((e) => e.event)).toEqual(['created', 'deleted']);
    const nf = await t.run(['servers', 'history', 'no-such-srv']);
    expect(nf.code).toBe(4);
    expect(nf.stderr).toMatch(/^error: no such server: no-such-srv/);
  });
});
