// Three databases created under three different collations (as happens in production: One API
// takes the server default, ours were created apart): every verb that compares text across
// admin, portal and One API still works ("Illegal mix of collations" otherwise) and compares
// exactly. Oracles come from the fixture in JavaScript.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';
import { naturalCompare } from '../../src/db/sql-helpers.js';

const SETS: Array<[string, { admin: string; portal: string; oneapi: string }]> = [
  ['unicode_ci / unicode_520_ci / general_ci', { admin: 'utf8mb4_unicode_ci', portal: 'utf8mb4_unicode_520_ci', oneapi: 'utf8mb4_general_ci' }],
  ['general_ci / bin / unicode_520_ci', { admin: 'utf8mb4_general_ci', portal: 'utf8mb4_bin', oneapi: 'utf8mb4_unicode_520_ci' }],
];

describe.each(SETS)('admin / portal / oneapi under %s', (_name, collations) => {
  let t: TestEnv;
  let fleet: Fleet;
  const emailOf = (userId: string | null) => fleet.users.find((u) => u.id === userId)?.email ?? null;
  const alive = () => fleet.instances.filter((i) => !i.deleted);

  beforeAll(async () => {
    t = await createTestEnv({ collations });
    fleet = generateFleet({ seed: 23, prefixes: { 'oc-ai-jp-2-': 8, 'oc-ai-us-1-': 4 }, users: 6, logsPerInstance: 2, deletedRatio: 0.1 });
    await loadFleet(t.db, fleet);
  }, 120000);
  afterAll(async () => { await t?.close(); });

  test('the columns really carry the three collations, and a bare cross-database = fails', async () => {
    const r = await sql<{ TABLE_SCHEMA: string; TABLE_NAME: string; COLLATION_NAME: string }>`SELECT TABLE_SCHEMA, TABLE_NAME, COLLATION_NAME
      FROM information_schema.COLUMNS WHERE (TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME) IN
      ((${t.names.admin}, 'oc_instances', 'assigned_user_id'), (${t.names.portal}, 'users', 'id'), (${t.names.oneapi}, 'tokens', 'name'))`.execute(t.db);
    const by = Object.fromEntries(r.rows.map((x) => [x.TABLE_NAME, x.COLLATION_NAME]));
    expect(by).toEqual({ oc_instances: collations.admin, users: collations.portal, tokens: collations.oneapi });
    if (collations.portal !== 'utf8mb4_bin') {
      // the reason for sameText(): two implicit collations of one character set do not compare
      await expect(sql`SELECT COUNT(*) FROM ${sql.table('admin.oc_instances')} i JOIN ${sql.table('portal.users')} u ON u.id = i.assigned_user_id`.execute(t.db))
        .rejects.toThrow(/Illegal mix of collations/);
    }
  });

  test('the cross-database join still finds the user by its primary key (eq_ref), whatever the collations', async () => {
    const { sameText } = await import('../../src/db/sql-helpers.js');
    const c = t.db.selectFrom('admin.oc_instances as i').leftJoin('portal.users as u', (j) => j.on(sameText('u.id', 'i.assigned_user_id')))
      .select(['i.id', 'u.email']).compile();
    const params = [...c.parameters];
    const ex = await sql.raw<{ table: string; type: string; key: string | null }>(`EXPLAIN ${c.sql.replace(/\?/g, () => `'${params.shift()}'`)}`).execute(t.db);
    expect(ex.rows.find((r) => r.table === 'u')).toMatchObject({ type: 'eq_ref', key: 'PRIMARY' });
  });

  test('instances ls: every assigned email shown, filters by --user', async () => {
    const r = await t.run(['instances', 'ls', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ id: string; assigned_email: string | null }>;
    expect(rows.map((x) => [x.id, x.assigned_email])).toEqual(
      alive().sort((a, b) => naturalCompare(a.id, b.id)).map((i) => [i.id, emailOf(i.assigned_user_id)]));
    const u = fleet.users.find((x) => alive().some((i) => i.assigned_user_id === x.id))!;
    const r2 = await t.run(['instances', 'ls', '--user', u.email.toUpperCase(), '-o', 'name']);
    expect(r2.code).toBe(0);
    expect(r2.stdout.trim().split('\n')).toEqual(alive().filter((i) => i.assigned_user_id === u.id).map((i) => i.id).sort(naturalCompare));
  });

  test('instances show and check-bindings: the three records agree', async () => {
    const i = alive().find((x) => x.assigned_user_id)!;
    const r = await t.run(['instances', 'show', i.id, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.assignment).toMatchObject({ assigned_email: emailOf(i.assigned_user_id), consistent: true });
    const b = await t.run(['instances', 'check-bindings', '-o', 'json']);
    expect(b.stderr).toBe('all assignment records agree\n');
    expect(b.code).toBe(0);
  });

  test('users show and users ls --no-instance', async () => {
    const u = fleet.users.find((x) => alive().some((i) => i.assigned_user_id === x.id))!;
    const r = await t.run(['users', 'show', u.email, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).current_instance_ids).toEqual(fleet.instances.filter((i) => i.assigned_user_id === u.id).map((i) => i.id).sort(naturalCompare));
    const n = await t.run(['users', 'ls', '--no-instance', '-o', 'json']);
    expect(n.code).toBe(0);
    expect((JSON.parse(n.stdout) as Array<{ email: string }>).map((x) => x.email).sort())
      .toEqual(fleet.users.filter((x) => !alive().some((i) => i.assigned_user_id === x.id)).map((x) => x.email).sort());
  });

  test('keys oc ls: every instance finds its One API token (no token_missing)', async () => {
    const r = await t.run(['keys', 'oc', 'ls', '-o', 'json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ instance_id: string; oneapi_token_name: string; problems: string[] }>;
    expect(rows.filter((x) => x.problems.includes('token_missing'))).toEqual([]);
    expect(rows.length).toBe(fleet.instances.length);
  });

  test('usage summary by user, department and instance, and the raw export, attribute every row', async () => {
    const range = ['--since', '2026-11-01', '--until', '2026-11-21', '--tz', 'UTC'];
    const instOf = new Map(fleet.instances.map((i) => [i.token_name, i]));
    const byUser = new Map<string, number>();
    for (const l of fleet.logs) {
      const u = instOf.get(l.token_name)!.assigned_user_id ?? '(unmapped)';
      byUser.set(u, (byUser.get(u) ?? 0) + 1);
    }
    const r = await t.run(['usage', 'summary', ...range, '--group', 'user', '-o', 'json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ user_id: string; requests: string }>;
    expect(Object.fromEntries(rows.map((x) => [x.user_id, Number(x.requests)]))).toEqual(Object.fromEntries(byUser));
    for (const g of ['department', 'instance']) {
      const x = await t.run(['usage', 'summary', ...range, '--group', g, '-o', 'json']);
      expect(x.code).toBe(0);
      expect((JSON.parse(x.stdout) as Array<Record<string, string>>).some((row) => row[g === 'instance' ? 'instance_id' : g] === '(unmapped)')).toBe(
        g === 'department' && byUser.has('(unmapped)'));
    }
    const out = join(t.tmp, `export-${collations.portal}.csv`);
    const e = await t.run(['usage', 'export', ...range, '--raw', '--out', out]);
    expect(e.stderr).not.toMatch(/error/);
    expect(e.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const col = head.indexOf('instance_id');
    expect(lines.length - 1).toBe(fleet.logs.length);
    expect(lines.slice(1).filter((l) => l.split(',')[col] === '(unmapped)')).toEqual([]);
  });
});
