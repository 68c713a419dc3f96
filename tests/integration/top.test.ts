// sayclaw top --once against the demo fleet (real MariaDB and PostgreSQL): the snapshot's panes
// and header agree with bare SQL and with the verbs they are a view of (instances ls, servers ls,
// usage summary, usage quota, jobs check); bad input is exit 2 with nothing changed; without a
// terminal the screen refuses and points at --once.
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { loadDemoFleet } from '../../scripts/demo-fleet.js';
import { naturalCompare } from '../../src/db/sql-helpers.js';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv();
  await loadDemoFleet(t.db, t.pg);
  // the rollup ran last night (finished 5 h ago); the export's last run failed
  const now = Date.now();
  await t.db.insertInto('admin.job_runs').values([
    { id: crypto.randomUUID(), job: 'usage rollup', status: 'ok', started_at: new Date(now - 5 * 3600e3 - 60e3), finished_at: new Date(now - 5 * 3600e3), rows_processed: 12, host: 'cron', pid: 1 },
    { id: crypto.randomUUID(), job: 'usage export', status: 'failed', started_at: new Date(now - 3600e3), finished_at: new Date(now - 3590e3), rows_processed: 0, host: 'cron', pid: 2, error: 'disk full' },
  ] as never).execute();
  // usage today whatever the hour (the demo's logs are spread over the last 7 days): a consume row
  // a few seconds ago on li.na's instance, through its One API token name
  await sql`INSERT INTO ${sql.table('oneapi.logs')} (user_id, created_at, type, content, username, token_name, model_name, quota, prompt_tokens, completion_tokens, channel_id, request_id, elapsed_time, is_stream, system_prompt_reset)
    VALUES (1, ${Math.floor(now / 1000) - 5}, 2, '', 'sayclaw', 'oc-oc-ai-jp-2-05', 'gpt-4o', 9000, 3000, 1000, 1, '', 100, 0, 0)`.execute(t.db);
}, 180000);
afterAll(async () => { await t?.close(); });

interface Snap {
  header: { servers: { total: number; up: number; down: number; unknown: number }; instances: { alive: number; healthy: number; unhealthy: number; unknown: number };
    drift: number; usage_today: { requests: string; tokens: string; cost_usd: string; quota: string; zone: string }; users_over_quota: number;
    rollup_last_ok_at: string | null; rollup_age_seconds: number | null; jobs: Array<{ job: string; state: string }>; refreshed_at: string; remote_refreshed_at: string | null };
  servers: Array<{ id: string; name: string; reachable: string; instances: number; error: string | null }>;
  instances: Array<{ id: string; health: string; user: string | null; server_name: string | null; requests_today: string; tokens_today: string; probed_by: string; reason: string | null }>;
  over_quota: Array<{ email: string }>;
}

const once = async (args: string[] = []) => {
  const r = await t.run(['top', '--once', '--no-remote', '-o', 'json', ...args]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as Snap;
};

test('--once -o json: the panes and the header agree with bare SQL', async () => {
  const s = await once();
  const alive = (await sql<{ id: string; health_status: string }>`SELECT id, health_status FROM ${sql.table('admin.oc_instances')} WHERE deleted_at IS NULL`.execute(t.db)).rows;
  expect(s.instances.map((i) => i.id)).toEqual(alive.map((a) => a.id).sort(naturalCompare));
  const by = (h: string) => alive.filter((a) => a.health_status === h).length;
  expect(s.header.instances).toEqual({ alive: alive.length, healthy: by('healthy'), unhealthy: alive.length - by('healthy') - by('unknown'), unknown: by('unknown') });
  expect(s.header.instances.unhealthy).toBeGreaterThan(0);
  const servers = (await sql<{ id: string; n: number }>`SELECT s.id, (SELECT COUNT(*) FROM ${sql.table('admin.oc_instances')} i WHERE i.server_id = s.id AND i.deleted_at IS NULL) AS n
    FROM ${sql.table('admin.servers')} s WHERE s.deleted_at IS NULL`.execute(t.db)).rows;
  expect(new Map(s.servers.map((x) => [x.id, x.instances]))).toEqual(new Map(servers.map((x) => [x.id, Number(x.n)])));
  // no remote refresh: nothing is claimed about reachability
  expect(s.header.servers).toEqual({ total: servers.length, up: 0, down: 0, unknown: servers.length });
  expect(s.header.remote_refreshed_at).toBeNull();
  expect(s.instances.every((i) => i.probed_by === 'recorded' && i.reason === null)).toBe(true);
  // the header's jobs: the rollup ok 5 h ago, the export failing
  expect(s.header.rollup_age_seconds).toBeGreaterThanOrEqual(5 * 3600 - 5);
  expect(s.header.rollup_age_seconds).toBeLessThan(6 * 3600);
  expect(s.header.jobs).toEqual([{ job: 'usage.rollup', state: 'ok', detail: '' }, expect.objectContaining({ job: 'usage.export', state: 'late,failing' })]);
}, 120000);

test('--once: usage today and users over quota are the ones usage summary and usage quota report', async () => {
  // a daily quota of 1 token: everyone who used anything today is over it
  await t.db.updateTable('portal.users').set({ quota_daily: 1 }).execute();
  const s = await once();
  const sum = await t.run(['usage', 'summary', '--since', 'today', '-o', 'json']);
  expect(sum.code).toBe(0);
  const total = JSON.parse(sum.stdout) as Array<{ requests: string; prompt_tokens: string; completion_tokens: string; cost_usd: string }>;
  expect(total).toHaveLength(1);
  expect(s.header.usage_today.requests).toBe(total[0]!.requests);
  expect(s.header.usage_today.tokens).toBe((BigInt(total[0]!.prompt_tokens) + BigInt(total[0]!.completion_tokens)).toString());
  expect(s.header.usage_today.cost_usd).toBe(total[0]!.cost_usd);
  expect(BigInt(s.header.usage_today.requests)).toBeGreaterThan(0n);
  // per instance: the summary grouped by instance
  const perInst = JSON.parse((await t.run(['usage', 'summary', '--since', 'today', '--group', 'instance', '-o', 'json'])).stdout) as Array<{ instance_id: string | null; requests: string }>;
  const want = new Map(perInst.filter((r) => r.instance_id).map((r) => [r.instance_id!, r.requests]));
  for (const i of s.instances) expect([i.id, i.requests_today]).toEqual([i.id, want.get(i.id) ?? '0']);
  const q = await t.run(['usage', 'quota', '--threshold', '100%', '-o', 'json']);
  const over = (JSON.parse(q.stdout || '[]') as Array<{ email: string; status: string }>).filter((r) => r.status === 'over');
  expect(s.over_quota.map((r) => r.email)).toEqual(over.map((r) => r.email));
  expect(s.header.users_over_quota).toBe(over.length);
  expect(over.length).toBeGreaterThan(0);
}, 120000);

test('--prefix and --region narrow the panes as instances ls does', async () => {
  const s = await once(['--prefix', 'oc-ai-jp-2-']);
  const ls = JSON.parse((await t.run(['instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'json'])).stdout) as Array<{ id: string }>;
  expect(s.instances.map((i) => i.id)).toEqual(ls.map((i) => i.id));
  expect(s.instances.length).toBeGreaterThan(5);
  const region = (await t.db.selectFrom('admin.servers').select('region').where('deleted_at', 'is', null).executeTakeFirstOrThrow()).region!;
  const r = await once(['--region', region]);
  const lsr = JSON.parse((await t.run(['instances', 'ls', '--region', region, '-o', 'json'])).stdout) as Array<{ id: string }>;
  expect(r.instances.map((i) => i.id)).toEqual(lsr.map((i) => i.id));
  const slr = JSON.parse((await t.run(['servers', 'ls', '--region', region, '-o', 'json'])).stdout) as Array<{ id: string }>;
  expect(r.servers.map((x) => x.id).sort()).toEqual(slr.map((x) => x.id).sort());
}, 120000);

test('--once with the remote refresh: unreachable servers are down with the reason, probes say why', async () => {
  // the demo servers have no SSH key here and no gateways listen: every check and probe fails, fast
  const r = await t.run(['top', '--once', '-o', 'json', '--prefix', 'oc-ai-jp-2-', '--probe-timeout', '2000']);
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout) as Snap;
  expect(s.header.servers.down).toBe(s.header.servers.total);
  expect(s.servers.every((x) => x.reachable === 'down' && /ssh/.test(x.error ?? ''))).toBe(true);
  expect(s.header.remote_refreshed_at).not.toBeNull();
  expect(s.instances.length).toBeGreaterThan(0);
  expect(s.instances.every((i) => i.probed_by === 'top' && i.health === 'unreachable' && !!i.reason)).toBe(true);
  expect(s.header.instances.unhealthy).toBe(s.instances.length);
  // no secret in any output
  const tokens = (await t.db.selectFrom('admin.oc_instances').select('gateway_token').where('gateway_token', 'is not', null).execute()).map((x) => x.gateway_token!);
  for (const tok of tokens) expect(r.stdout).not.toContain(tok);
}, 120000);

test('--once -o table and yaml print the same snapshot', async () => {
  const tbl = await t.run(['top', '--once', '--no-remote', '--prefix', 'oc-ai-jp-2-']);
  expect(tbl.code).toBe(0);
  expect(tbl.stdout).toMatch(/^Fleet\nservers \d+: 0 up, 0 down, \d+ not checked {3}instances \d+ alive: /);
  expect(tbl.stdout).toMatch(/^Instances\nID +SERVER +USER +MODEL +HEALTH +REASON +LAST_PROBE +REQUESTS_TODAY +TOKENS_TODAY$/m);
  expect(tbl.stdout).toMatch(/^oc-ai-jp-2-04 .* unhealthy /m);
  expect(tbl.stdout).toMatch(/^Jobs\n/m);
  const y = await t.run(['top', '--once', '--no-remote', '-o', 'yaml', '--prefix', 'oc-ai-jp-2-']);
  expect(y.code).toBe(0);
  expect(y.stdout).toMatch(/^header:\n {2}refreshed_at: /);
  expect(y.stdout).toMatch(/^ {2}- id: oc-ai-jp-2-01$/m);
}, 120000);

test('bad input: exit 2 with one line naming the flag; no terminal: the screen refuses', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['top', '--once', '--interval', '0s'], /^error: --interval must be between 1s and 1d, got "0s"$/m],
    [['top', '--once', '--remote-interval', 'soon'], /^error: --remote-interval expects a duration like 5s, 30s or 2m, got "soon"$/m],
    [['top', '--once', '--prefix', ''], /^error: --prefix must not be empty/m],
    [['top', '--once', '-o', 'csv'], /^error: top --once prints -o table, wide, json or yaml, not csv$/m],
    [['top', '--once', '--via', 'pigeon'], /^error: --via: unknown value pigeon \(use one of http, ssh\)$/m],
    [['top'], /^error: top needs a terminal \(stdin and stdout a TTY\) \(for scripts: sayclaw top --once -o json\)$/m],
  ];
  for (const [argv, re] of cases) {
    const r = await t.run(argv);
    expect({ argv, code: r.code, out: r.stdout }).toEqual({ argv, code: 2, out: '' });
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }
}, 60000);
