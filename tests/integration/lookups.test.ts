// Lookups by name are exact: ids, names and equality filters compare byte for byte although the
// tables use case-, accent- and pad-insensitive collations; emails compare case-insensitively.
// A near miss exits 4 with the closest names; the index is still used (EXPLAIN).
import { sql } from 'kysely';
import mysql from 'mysql2/promise';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { eqEmail, eqExact, inExact } from '../../src/db/sql-helpers.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';

let t: TestEnv;
let fleet: Fleet;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 11, prefixes: { 'oc-ai-jp-2-': 5 }, extraIds: ['oc-emoji-😀'], deletedRatio: 0 });
  await loadFleet(t.db, fleet);
});
afterAll(async () => { await t?.close(); });

describe('instances show: a near-miss id is "not found" (exit 4) with the closest ids, never a crash', () => {
  test.each([
    ['upper case', 'OC-AI-JP-2-03'],
    ['trailing space', 'oc-ai-jp-2-03 '],
    ['another emoji', 'oc-emoji-😁'],
  ])('%s: %p', async (_what, id) => {
    const r = await t.run(['instances', 'show', id]);
    expect(r.stderr).not.toMatch(/Cannot read properties/);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no such instance/);
    const want = id.startsWith('oc-emoji') ? 'oc-emoji-😀' : 'oc-ai-jp-2-03';
    expect(r.stderr).toContain(want);
  });

  test('the exact id still shows', async () => {
    const r = await t.run(['instances', 'show', 'oc-ai-jp-2-03', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).id).toBe('oc-ai-jp-2-03');
  });
});

/** EXPLAIN a compiled Kysely query with its parameters inlined; rows by table alias. */
async function explain(q: { compile(): { sql: string; parameters: readonly unknown[] } }): Promise<Record<string, { type: string; key: string | null }>> {
  const c = q.compile();
  const params = [...c.parameters];
  const text = c.sql.replace(/\?/g, () => mysql.escape(params.shift() as string));
  const ex = await sql.raw<{ table: string; type: string; key: string | null }>(`EXPLAIN ${text}`).execute(t.db);
  return Object.fromEntries(ex.rows.map((r) => [r.table, { type: r.type, key: r.key }]));
}

describe('exact comparisons still use the indexes (EXPLAIN)', () => {
  beforeAll(async () => {
    // enough rows that a scan is not the cheaper plan
    await t.db.insertInto('admin.oc_instances').values(Array.from({ length: 400 }, (_, i) => ({ id: `oc-bulk-${i}`, name: null, gateway_port: null }))).execute();
  });

  test('eqExact on a primary key is a const/ref lookup, inExact a range; the same plan as a bare =', async () => {
    const one = await explain(t.db.selectFrom('admin.oc_instances').select('id').where(eqExact('id', 'oc-ai-jp-2-03')));
    const bare = await explain(t.db.selectFrom('admin.oc_instances').select('id').where('id', '=', 'oc-ai-jp-2-03'));
    expect(one.oc_instances).toEqual(bare.oc_instances);
    expect(one.oc_instances!.key).toBe('PRIMARY');
    const many = await explain(t.db.selectFrom('admin.oc_instances').select(['id', 'model']).where(inExact('id', ['oc-ai-jp-2-01', 'oc-ai-jp-2-03'])));
    const manyBare = await explain(t.db.selectFrom('admin.oc_instances').select(['id', 'model']).where('id', 'in', ['oc-ai-jp-2-01', 'oc-ai-jp-2-03']));
    expect(many.oc_instances).toEqual(manyBare.oc_instances);
    expect(many.oc_instances).toEqual({ type: 'range', key: 'PRIMARY' });
  });

  test('eqEmail uses the unique email key (portal users and admin accounts)', async () => {
    const email = fleet.users[0]!.email.toUpperCase();
    const u = await explain(t.db.selectFrom('portal.users').select('id').where(eqEmail('email', email)));
    expect(u.users!.key).toMatch(/email/);
    expect(['const', 'ref', 'range']).toContain(u.users!.type);
  });

  test('instances ls: the portal user is found by its primary key (sameText keeps eq_ref)', async () => {
    const { applyFilter } = await import('../../src/fleet/instances/ls.js');
    const { sameText } = await import('../../src/db/sql-helpers.js');
    const base = t.db.selectFrom('admin.oc_instances as i').leftJoin('admin.servers as s', 's.id', 'i.server_id')
      .leftJoin('portal.users as u', (j) => j.on(sameText('u.id', 'i.assigned_user_id'))).select(['i.id', 'u.email']);
    const q = await applyFilter(t.db, base as never, { prefix: 'oc-ai-jp-2-', model: 'gpt-4o' });
    const plan = await explain(q as never);
    expect(plan.i).toEqual({ type: 'range', key: 'PRIMARY' });
    expect(plan.u).toEqual({ type: 'eq_ref', key: 'PRIMARY' });
  });
});

describe('near misses everywhere: exit 4 with the closest names; emails case-insensitive', () => {
  test('users show: other case finds the user; a typo is exit 4 with the closest email', async () => {
    const u = fleet.users[0]!;
    const ok = await t.run(['users', 'show', u.email.toUpperCase(), '-o', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).id).toBe(u.id);
    const typo = u.email.replace('.', '_');
    const r = await t.run(['users', 'show', typo]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: no such portal user: ${typo} (closest: ${u.email})\n`);
    const far = await t.run(['users', 'show', 'nobody-at-all@elsewhere.example']);
    expect(far.code).toBe(4);
    expect(far.stderr).toBe('error: no such portal user: nobody-at-all@elsewhere.example (list them with: sayclaw users ls)\n');
  });

  test('servers show/rm by name or IP: exact (case-sensitive); near misses list the closest', async () => {
    const s = fleet.servers.find((x) => !x.deleted)!;
    let r = await t.run(['servers', 'show', s.name.toUpperCase()]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^error: no such server: ${s.name.toUpperCase()} \\(closest: ${s.name}[,)]`));
    r = await t.run(['servers', 'rm', `${s.name} `, '--yes']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^error: no such server: "${s.name} " \\(closest: ${s.name}[,)]`));
    const ip = s.ip.replace(/\d+$/, (d) => String(Number(d) + 100));
    r = await t.run(['servers', 'show', ip]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/\(closest: 127\./);
    expect((await t.db.selectFrom('admin.servers').select('deleted_at').where('id', '=', s.id).executeTakeFirstOrThrow()).deleted_at).toBeNull();
  });

  test('users admins: email in any case; a typo lists the closest account', async () => {
    await t.db.insertInto('admin.admin_users').values([
      { id: 'adm-1', email: 'ops@sayclaw.test', password_hash: 'x', name: 'ops', role: 'admin', status: 'active' },
      { id: 'adm-2', email: 'root@sayclaw.test', password_hash: 'x', name: 'root', role: 'admin', status: 'active' },
    ]).execute();
    let r = await t.run(['users', 'admins', 'disable', 'OPS@sayclaw.test', '--dry-run']);
    expect(r.code).toBe(0);
    r = await t.run(['users', 'admins', 'disable', 'opz@sayclaw.test', '--dry-run']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('error: no such admin account: opz@sayclaw.test (closest: ops@sayclaw.test)\n');
  });

  test('master keys: a unique id prefix is enough (like git); ambiguous is exit 2 listing them; other case is not found', async () => {
    const row = (id: string, name: string) => ({ id, provider: 'openai', name, encrypted_key: 'v1:x', key_hint: null, master_key_id: null,
      status: 'active', rotated_from_id: null, rotated_at: null, revoked_at: null, created_at: new Date('2026-11-01T00:00:00Z'), deleted_at: null });
    await t.db.insertInto('admin.api_master_keys').values([row('aaaa1111-0000-4000-8000-000000000001', 'prod'),
      row('aaaa2222-0000-4000-8000-000000000002', 'staging'), row('bbbb3333-0000-4000-8000-000000000003', 'dev')]).execute();
    let r = await t.run(['keys', 'revoke', 'aaaa1', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/revoke openai\/prod \(aaaa1111-0000-4000-8000-000000000001/);
    r = await t.run(['keys', 'revoke', 'aaaa', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: master key id prefix aaaa is ambiguous: it matches 2 keys (aaaa1111-0000-4000-8000-000000000001 openai/prod active; '
      + 'aaaa2222-0000-4000-8000-000000000002 openai/staging active) (type more characters of the id)\n');
    r = await t.run(['keys', 'revoke', 'AAAA1111-0000-4000-8000-000000000001', '--dry-run']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('error: no such master key: AAAA1111-0000-4000-8000-000000000001 (closest: aaaa1111-0000-4000-8000-000000000001)\n');
    // a typo in a short prefix (the README's form) suggests the keys whose ids start nearly so
    r = await t.run(['keys', 'revoke', 'bbbb3334', '--dry-run']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('error: no such master key: bbbb3334 (closest: bbbb3333-0000-4000-8000-000000000003)\n');
    r = await t.run(['keys', 'revoke', 'aaaa111Z', '--dry-run']);
    expect(r.stderr).toBe('error: no such master key: aaaa111Z (closest: aaaa1111-0000-4000-8000-000000000001)\n');
    r = await t.run(['keys', 'revoke', 'bbbb3333-0000-4000-8000-000000000003', '--yes']);
    expect(r.code).toBe(0);
    expect((await t.db.selectFrom('admin.api_master_keys').select('status').where('id', '=', 'bbbb3333-0000-4000-8000-000000000003').executeTakeFirstOrThrow()).status).toBe('revoked');
  });

  test('instances assign/rm/ls name near misses the same way, and change nothing', async () => {
    const before = await t.db.selectFrom('admin.oc_instances').select(['id', 'assigned_user_id', 'deleted_at']).orderBy('id').execute();
    for (const argv of [['instances', 'assign', 'OC-AI-JP-2-03', fleet.users[0]!.email], ['instances', 'rm', 'oc-ai-jp-2-03 ', '--yes'],
      ['instances', 'ls', '--user', fleet.users[0]!.email.replace('@', '@@')]]) {
      const r = await t.run(argv);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/\(closest: /);
    }
    expect(await t.db.selectFrom('admin.oc_instances').select(['id', 'assigned_user_id', 'deleted_at']).orderBy('id').execute()).toEqual(before);
  });
});

describe('choices are checked: exit 2 listing the valid values', () => {
  test('--health sick, servers ls --status activ, --threshold 0%', async () => {
    let r = await t.run(['instances', 'ls', '--health', 'sick']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --health: unknown value sick (use one of healthy, unhealthy, unknown)\n');
    r = await t.run(['instances', 'ls', '--health', 'Healthy']);
    expect(r.code).toBe(2);
    r = await t.run(['instances', 'ls', '--health', 'unhealthy', '-o', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ health_status: string }>).every((x) => x.health_status === 'unhealthy')).toBe(true);
    // a value another tool wrote is in the vocabulary once it is stored
    await t.db.updateTable('admin.oc_instances').set({ health_status: 'degraded' }).where('id', '=', 'oc-ai-jp-2-05').execute();
    r = await t.run(['instances', 'ls', '--health', 'degraded', '-o', 'name']);
    expect(r.stdout).toBe('oc-ai-jp-2-05\n');
    r = await t.run(['instances', 'ls', '--health', 'sick']);
    expect(r.stderr).toBe('error: --health: unknown value sick (use one of healthy, unhealthy, unknown, degraded)\n');
    r = await t.run(['servers', 'ls', '--status', 'activ']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --status: unknown value activ (use one of active, maintenance, draining, retired)\n');
    r = await t.run(['audit', 'ls', '--target-type', 'instanse']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --target-type: unknown value instanse (use one of instance, server, user, admin_user, api_master_key, api_master_keys, usage_daily)\n');
    r = await t.run(['usage', 'quota', '--threshold', '0%']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --threshold must be more than 0% and at most 1000%, got "0%" (e.g. --threshold 80% or 0.01%)\n');
  });
});

describe('equality filters are exact; an empty result says which value matched nothing', () => {
  test('instances ls --region JP-2 / --model GPT-4o, servers ls --region, users ls --department', async () => {
    let r = await t.run(['instances', 'ls', '--region', 'JP-2', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toBe('0 instances (--region JP-2 matches nothing exactly; closest: jp-2)\n');
    r = await t.run(['instances', 'ls', '--model', 'GPT-4o', '-o', 'json']);
    expect(r.stderr).toBe('0 instances (--model GPT-4o matches nothing exactly; closest: gpt-4o)\n');
    r = await t.run(['instances', 'ls', '--region', 'jp-2', '-o', 'json']);
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
    r = await t.run(['servers', 'ls', '--region', 'jp-2 ']);
    expect(r.stderr).toBe('0 servers (--region "jp-2 " matches nothing exactly; closest: jp-2)\n');
    const d = fleet.users[0]!.department;
    r = await t.run(['users', 'ls', '--department', `${d} `, '-o', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toBe(`0 users (--department "${d} " matches nothing exactly; closest: ${d})\n`);
    r = await t.run(['users', 'ls', '--department', d, '-o', 'json']);
    expect((JSON.parse(r.stdout) as Array<{ department: string }>).every((u) => u.department === d)).toBe(true);
  });
});
