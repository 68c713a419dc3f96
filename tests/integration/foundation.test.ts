// Foundation against real MariaDB and PostgreSQL: doctor, schema, output formats, exit codes,
// the no-DELETE user, exact BIGINT/DECIMAL, utf8mb4, the schema-map plugin and the prefix helper.
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { createTestEnv, runIn, type TestEnv } from '../support/testenv.js';
import { likePrefix } from '../../src/db/sql-helpers.js';
import { generateFleet, loadFleet } from '../support/fixtures.js';

let t: TestEnv;
beforeAll(async () => { t = await createTestEnv(); });
afterAll(async () => { await t?.close(); });

describe('doctor and schema', () => {
  test('doctor is green on a fresh schema', async () => {
    const r = await t.run(['doctor']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mysql charset\s+ok\s+utf8mb4/);
    expect(r.stdout).toMatch(/schema postgres .*ok/);
  });

  test('doctor -o json reports healthy', async () => {
    const r = await t.run(['doctor', '-o', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.healthy).toBe(true);
    expect(j.checks.find((c: { check: string }) => c.check === 'mysql time zone').detail).toMatch(/session \+00:00/);
  });

  test('schema init is idempotent and says what it skipped', async () => {
    const r = await runIn(['schema', 'init'], { ...t.env, SAYCLAW_MYSQL_URL: process.env.SAYCLAW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped .*_admin\.oc_instances \(exists\)/);
    expect(r.stderr).not.toMatch(/^created/m);
  });

  test('schema init re-creates a missing PostgreSQL index and says so (not "skipped (exists)")', async () => {
    await sql.raw('DROP INDEX idx_logs_model_name').execute(t.pg);
    const r = await runIn(['schema', 'init', '--no-mysql'], t.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^created postgres index idx_logs_model_name on logs$/m);
    expect(r.stderr).toMatch(/^skipped postgres logs \(exists\)$/m);
    expect(r.stderr).toMatch(/^skipped postgres index idx_logs_token_name on logs \(exists\)$/m);
    const again = await runIn(['schema', 'init', '--no-mysql'], t.env);
    expect(again.stderr).not.toMatch(/^created/m);
    const ix = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM pg_indexes WHERE indexname = 'idx_logs_model_name'`.execute(t.pg);
    expect(Number(ix.rows[0]!.n)).toBe(1);
  });

  test('schema init --dry-run lists what it would create and creates nothing', async () => {
    const root = process.env.SAYCLAW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
    const fresh = `${t.id}_dry`;
    const r = await runIn(['schema', 'init', '--dry-run', '--no-pg', '--yes'], { ...t.env, SAYCLAW_MYSQL_URL: root, SAYCLAW_DB_ADMIN: fresh });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^would create database ${fresh}\\nwould create ${fresh}\\.servers\\n`));
    expect(r.stderr).toMatch(/skipped .*_portal\.users \(exists\)/);
    expect(r.stderr).toMatch(/dry run: nothing changed\n$/);
    const q = await runIn(['schema', 'init', '-n', '-q', '--no-pg'], { ...t.env, SAYCLAW_MYSQL_URL: root, SAYCLAW_DB_ADMIN: fresh });
    expect(q.stdout).toMatch(new RegExp(`^would create database ${fresh}\\n`));
    expect(q.stderr).toBe('');
    const exists = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${fresh}`.execute(t.db);
    expect(exists.rows[0]!.n).toBe('0');
  });

  test('schema print carries the configured names', async () => {
    const r = await t.run(['schema', 'print']);
    expect(r.stdout).toContain(`USE \`${t.names.admin}\``);
    expect(r.stdout).toContain('CREATE TABLE `oc_instances`');
  });

  test('doctor reports a dropped column and a new oc_instances.status (exit 1), schema diff too', async () => {
    const t2 = await createTestEnv({ noDeleteUser: false, withPg: false });
    try {
      await sql.raw(`ALTER TABLE \`${t2.names.portal}\`.users DROP COLUMN quota_daily`).execute(t2.db);
      await sql.raw(`ALTER TABLE \`${t2.names.admin}\`.oc_instances ADD COLUMN status varchar(20)`).execute(t2.db);
      const env = { ...t2.env, SAYCLAW_PG_URL: t.env.SAYCLAW_PG_URL };
      const r = await runIn(['doctor', '-o', 'json'], env);
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.drift).toEqual(expect.arrayContaining([
        expect.objectContaining({ table: 'users', column: 'quota_daily', kind: 'missing_column' }),
        expect.objectContaining({ table: 'oc_instances', column: 'status', kind: 'unexpected_column' }),
      ]));
      const d = await runIn(['schema', 'diff', '-o', 'csv'], env);
      expect(d.code).toBe(1);
      expect(d.stdout.split('\r\n')[0]).toBe('database,table,column,kind,expected,actual,failing');
      expect(d.stdout).toContain('quota_daily,missing_column');
    } finally { await t2.close(); }
  });

  test('a database that refuses the connection: one line, exit 5; --debug shows the cause', async () => {
    const env = { ...t.env, SAYCLAW_MYSQL_URL: 'mysql://root@127.0.0.1:1' };
    const r = await runIn(['schema', 'diff'], env);
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot connect to MySQL at root@127.0.0.1:1: .*ECONNREFUSED/);
    const d = await runIn(['schema', 'diff', '--debug'], env);
    expect(d.stderr).toMatch(/debug: .*ECONNREFUSED/);
    const doc = await runIn(['doctor'], env);
    expect(doc.code).toBe(5);
  });

  test('wrong password is a config error (exit 5) and never echoes the password', async () => {
    const r = await runIn(['schema', 'diff'], { ...t.env, SAYCLAW_MYSQL_URL: `mysql://${t.cliUser}:wrongpw-123@127.0.0.1:3306` });
    expect(r.code).toBe(5);
    expect(r.stderr).not.toContain('wrongpw-123');
  });

  test('config errors exit 5: bad type, unknown profile, unreadable password file', async () => {
    const { writeFileSync } = await import('node:fs');
    const f = `${t.tmp}/bad.json`;
    writeFileSync(f, JSON.stringify({ ssh: { concurrency: 'x' }, profiles: { a: {} } }));
    const r1 = await t.run(['--config', f, 'doctor']);
    expect(r1.code).toBe(5);
    expect(r1.stderr).toMatch(/ssh\.concurrency.*bad\.json/);
    const g = `${t.tmp}/good.json`;
    writeFileSync(g, JSON.stringify({ profiles: { a: {} } }));
    const r2 = await t.run(['--config', g, '--profile', 'zzz', 'doctor']);
    expect(r2.code).toBe(5);
    expect(r2.stderr).toMatch(/unknown profile "zzz"/);
    writeFileSync(`${t.tmp}/pwf.json`, JSON.stringify({ mysql: { passwordFile: `${t.tmp}/nope` } }));
    const env = { ...t.env, SAYCLAW_MYSQL_URL: undefined };
    const r3 = await runIn(['--config', `${t.tmp}/pwf.json`, 'schema', 'diff'], env);
    expect(r3.code).toBe(5);
    expect(r3.stderr).toMatch(/cannot read mysql password file/);
  });
});

describe('output formats and exit codes', () => {
  const formats = ['table', 'wide', 'json', 'ndjson', 'csv', 'yaml', 'name'];
  test.each(formats)('config show -o %s', async (f) => {
    const r = await t.run(['config', 'show', '-o', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(t.env.SAYCLAW_MYSQL_URL.split(':')[2]!.split('@')[0]!); // password
    switch (f) {
      case 'json': expect(JSON.parse(r.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ setting: 'mysql.databases.admin', value: t.names.admin, source: 'env:SAYCLAW_DB_ADMIN' })])); break;
      case 'ndjson': expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).length).toBeGreaterThan(20); break;
      case 'csv': expect(r.stdout.startsWith('setting,value,source\r\n')).toBe(true); break;
      case 'yaml': expect(r.stdout).toMatch(/- setting: mysql.host\n {2}value: 127.0.0.1/); break;
      case 'name': expect(r.stdout.split('\n')).toContain('mysql.databases.portal'); break;
      default: expect(r.stdout).toMatch(/^SETTING\s+VALUE\s+SOURCE/); expect(r.stdout).toMatch(/mysql\.password\s+\*\*\*\*\s+env:SAYCLAW_MYSQL_URL/);
    }
  });

  test('colour: off without a TTY, on with FORCE_COLOR, off with NO_COLOR and --no-color', async () => {
    const plain = await t.run(['doctor']);
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    const forced = await t.run(['doctor'], { env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(/\x1b\[/);
    const nc = await t.run(['doctor'], { tty: true, env: { NO_COLOR: '1' } });
    expect(nc.stdout).not.toMatch(/\x1b\[/);
    const flag = await t.run(['doctor', '--no-color'], { tty: true });
    expect(flag.stdout).not.toMatch(/\x1b\[/);
    const tty = await t.run(['doctor'], { tty: true });
    expect(tty.stdout).toMatch(/\x1b\[/);
  });

  test('unknown verb and flag: exit 2 with a suggestion', async () => {
    const a = await t.run(['instancs']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown command 'instancs'[\s\S]*Did you mean instances\?/);
    const b = await t.run(['doctor', '--outptu', 'json']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown option '--outptu'[\s\S]*Did you mean --output\?/);
    const c = await t.run(['doctor', '-o', 'xml']);
    expect(c.code).toBe(2);
    // a refused choice reads like every other refused value
    expect(c.stderr).toBe('error: --output: unknown value xml (use one of table, wide, json, ndjson, csv, yaml, name)\n');
    const d = await t.run(['users', 'ls', '--status', 'activ e']);
    expect(d.code).toBe(2);
    expect(d.stderr).toBe('error: --status: unknown value "activ e" (use one of active, revoked)\n');
  });

  test('help exit-codes lists every code, one line each with its meaning, the same codes as the README table', async () => {
    const r = await t.run(['help', 'exit-codes']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').slice(1).filter(Boolean);
    const listed = lines.map((l) => /^\s*(\d+)\s+(\S.*\S)\s{2,}(\S.*)$/.exec(l));
    expect(listed.every(Boolean)).toBe(true);
    expect(listed.map((m) => Number(m![1]))).toEqual([0, 1, 2, 3, 4, 5, 75, 130]);
    expect(listed.map((m) => m![2])).toEqual(['ok', 'runtime', 'usage', 'partial', 'not found', 'config/connection', 'locked', 'interrupted']);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Exit codes'));
    const documented = [...table.slice(0, table.indexOf('\n\n', table.indexOf('|---'))).matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual([0, 1, 2, 3, 4, 5, 75, 130]);
  });

  test('interrupted before start: exit 130', async () => {
    const ac = new AbortController();
    ac.abort();
    const { runCli } = await import('../../commands/index.js');
    const { Readable } = await import('node:stream');
    let err = '';
    const code = await runCli(['schema', 'diff'], { io: { stdout: { write: () => true }, stderr: { write: (s: string) => { err += s; return true; } }, stdin: Readable.from([]), stdoutIsTTY: false, stdinIsTTY: false, stderrIsTTY: false, env: t.env, cwd: process.cwd() }, signal: ac.signal });
    expect(code).toBe(130);
    expect(err).toMatch(/interrupted/);
  });
});

describe('typed database layer', () => {
  test('the CLI user has no DELETE privilege', async () => {
    const { createMysql } = await import('../../src/db/mysql.js');
    const u = new URL(t.env.SAYCLAW_MYSQL_URL);
    const h = createMysql({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), passwordFile: null, databases: { logs: null, ...t.names }, timezone: '+00:00', connectTimeoutMs: 5000, poolSize: 1 }, decodeURIComponent(u.password));
    try {
      await expect(sql`DELETE FROM ${sql.table('admin.servers')}`.execute(h.db)).rejects.toThrow(/DELETE command denied/);
    } finally { await h.close(); }
  });

  test('BIGINT and DECIMAL never pass through a float; utf8mb4 round-trips; names are fully qualified', async () => {
    const big = '9007199254740993'; // 2^53 + 1
    const q = t.db.insertInto('admin.oc_instances').values({ id: 'big-1', container_id: null, server_id: null, assigned_user_id: null, name: '测试实例 🚀', gateway_port: 1, gateway_url: null, gateway_token: null, model: null, total_requests: big, total_tokens: '18446744073709551', notes: null, config_json: null });
    expect(q.compile().sql).toContain(`\`${t.names.admin}\`.\`oc_instances\``);
    await q.execute();
    const row = await t.db.selectFrom('admin.oc_instances').selectAll().where('id', '=', 'big-1').executeTakeFirstOrThrow();
    expect(row.total_requests).toBe(big);
    expect(row.name).toBe('测试实例 🚀');
    const d = await sql<{ s: string; m: string }>`SELECT SUM(x) AS s, CAST(0.1 AS DECIMAL(10,6)) + CAST(0.2 AS DECIMAL(10,6)) AS m FROM (SELECT 9007199254740993 AS x UNION ALL SELECT 1) q`.execute(t.db);
    expect(d.rows[0]).toEqual({ s: '9007199254740994', m: '0.300000' });
    const p = await sql<{ a: string; n: string }>`SELECT 9007199254740993::int8 AS a, 0.1::numeric(10,6) + 0.2::numeric(10,6) AS n`.execute(t.pg);
    expect(p.rows[0]).toEqual({ a: '9007199254740993', n: '0.300000' });
  });

  test('likePrefix is literal, case-sensitive and uses the primary key range', async () => {
    const fleet = generateFleet({ prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-jp-20-': 2 }, extraIds: ['OC-AI-JP-2-99', 'oc-ai-jp-2_x', 'a%b', 'a!b', 'aXb'] });
    await loadFleet(t.db, fleet);
    const ids = async (p: string) => (await t.db.selectFrom('admin.oc_instances').select('id').where(likePrefix('id', p)).execute()).map((r) => r.id).sort();
    expect(await ids('oc-ai-jp-2-')).toEqual(fleet.instances.map((i) => i.id).filter((i) => i.startsWith('oc-ai-jp-2-')).sort());
    expect(await ids('a%')).toEqual(['a%b']);
    expect(await ids('a!')).toEqual(['a!b']);
    expect(await ids('oc-ai-jp-2_')).toEqual(['oc-ai-jp-2_x']);
    const ex = await sql<{ key: string | null; type: string }>`EXPLAIN SELECT id FROM ${sql.table('admin.oc_instances')} WHERE ${likePrefix('id', 'oc-ai-jp-2-')}`.execute(t.db);
    expect(ex.rows[0]!.type).toBe('range');
    expect(ex.rows[0]!.key).toBe('PRIMARY');
  });
});
