// The instance lifecycle against the lab: real Docker engines behind real sshd, the REAL
// OpenClaw gateway image for the happy path (create 2, decommission, recommission), busybox
// stand-ins for the failure paths (never ready, image missing, stopped engine, taken port, the
// database cut by the killing proxy, Ctrl-C) and the port race of two sayclaw processes.
import { jest } from '@jest/globals';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { REAL_LAB_SETUP_MS, startLab, type Lab, LAB_IMAGE, LAB_IMAGE_NEVER_READY, OPENCLAW_IMAGE } from '../support/lab.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { mysqlParts } from '../support/services.js';
import { spawnBin } from '../support/bin.js';

let t: TestEnv;
let lab: Lab;
jest.setTimeout(180000);
// the templates' port ranges: blocks of ports claimed for this file (host networking: a run of
// this file beside another, e.g. the Node 24 pass beside npm test, must not meet its containers)
let P = 0; // bb, never, missing: P .. P+511
let TINY = 0; // tiny: the one port TINY; two: TINY+40 .. TINY+41; containers run by hand: TINY+80, TINY+100
let REAL_BASE = 0; // real: REAL_BASE .. REAL_BASE+99

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 2, namePrefix: 'lc', realGateways: 2, lockAtStart: false })]);
  await lab.register(t.db);
  [P, TINY, REAL_BASE] = [lab.gatewayPort(4), lab.gatewayPort(), lab.gatewayPort()];
  const add = async (args: string[]) => { const r = await t.run(['templates', 'add', ...args]); if (r.code) throw new Error(r.stderr); };
  await add(['bb', '--image', LAB_IMAGE, '--model', 'gpt-4o', '--quota', '500000', '--memory-mb', '256', '--port-range', `${P}-${P + 511}`]);
  await add(['never', '--image', LAB_IMAGE_NEVER_READY, '--port-range', `${P}-${P + 511}`]);
  await add(['missing', '--image', 'sayclaw-lab-nothing:1', '--port-range', `${P}-${P + 99}`]);
  await add(['tiny', '--image', LAB_IMAGE, '--port-range', `${TINY}-${TINY}`]);
  await t.db.insertInto('portal.users').values({ id: 'u-1', email: 'li.na@sayclaw.test', name: '李娜' }).execute();
}, REAL_LAB_SETUP_MS + 180000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 120000);

const q = <T,>(s: ReturnType<typeof sql<T>>) => s.execute(t.db).then((r) => r.rows);
const containers = (i: number) => lab.docker(lab.servers[i]!, ['ps', '-a', '--filter', 'label=sayclaw.instance', '--format', '{{.Names}} {{.State}}']).split('\n').filter(Boolean).sort();
const volumes = (i: number) => lab.docker(lab.servers[i]!, ['volume', 'ls', '--format', '{{.Name}}']).split('\n').filter(Boolean).sort();
const rowCounts = async () => (await q(sql<{ i: string; k: string; tk: string; a: string }>`SELECT
  (SELECT COUNT(*) FROM ${sql.table('admin.oc_instances')}) AS i, (SELECT COUNT(*) FROM ${sql.table('admin.oc_api_keys')}) AS k,
  (SELECT COUNT(*) FROM ${sql.table('oneapi.tokens')}) AS tk, (SELECT COUNT(*) FROM ${sql.table('admin.admin_logs')} WHERE action = 'instances.create') AS a`))[0];

describe('create with the stand-in gateway', () => {
  test('one instance: container, ready, one transaction; secrets never printed', async () => {
    const r = await t.run(['instances', 'create', 'oc-lc-01', '--template', 'bb', '--server', 'lc-01', '--user', 'li.na@sayclaw.test', '-o', 'json']);
    expect(r.stderr).toMatch(/will create oc-lc-01 on lc-01 from template bb/);
    expect(r.code).toBe(0);
    const [res] = JSON.parse(r.stdout);
    expect(res).toMatchObject({ id: 'oc-lc-01', server_name: 'lc-01', result: 'created', gateway_port: P });
    const row = (await q(sql<Record<string, unknown>>`SELECT * FROM ${sql.table('admin.oc_instances')} WHERE id = 'oc-lc-01'`))[0]!;
    expect(row).toMatchObject({ gateway_port: P, gateway_url: `http://127.0.0.1:${P}`, model: 'gpt-4o', assigned_user_id: 'u-1', server_id: lab.servers[0]!.id });
    const token = row.gateway_token as string;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    const tok = (await q(sql<Record<string, unknown>>`SELECT * FROM ${sql.table('oneapi.tokens')} WHERE name = 'oc-lc-01'`))[0]!;
    expect(tok).toMatchObject({ status: '1', expired_time: '-1', remain_quota: '500000' });
    expect(String(tok.key)).toMatch(/^[A-Za-z0-9]{48}$/);
    const key = (await q(sql<Record<string, unknown>>`SELECT * FROM ${sql.table('admin.oc_api_keys')} WHERE instance_id = 'oc-lc-01'`))[0]!;
    expect(key).toMatchObject({ status: 'active', oneapi_token_id: String(tok.id), oneapi_token_name: 'oc-lc-01', key_hint: `sk-...${String(tok.key).slice(-4)}` });
    const ui = (await q(sql<Record<string, unknown>>`SELECT * FROM ${sql.table('portal.user_instances')} WHERE instance_id = 'oc-lc-01'`));
    expect(ui).toEqual([expect.objectContaining({ user_id: 'u-1', setup_status: 'ready' })]);
    expect(await q(sql`SELECT user_email FROM ${sql.table('admin.instance_users')} WHERE instance_id = 'oc-lc-01'`)).toEqual([{ user_email: 'li.na@sayclaw.test' }]);
    const audit = (await q(sql<{ after_json: string }>`SELECT after_json FROM ${sql.table('admin.admin_logs')} WHERE action = 'instances.create' AND target_id = 'oc-lc-01'`));
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.after_json)).toMatchObject({ template: 'bb', server: 'lc-01', gateway_port: P });
    // no secret in output, audit or config display
    for (const text of [r.stdout, r.stderr, audit[0]!.after_json]) { expect(text).not.toContain(token); expect(text).not.toContain(String(tok.key)); }
    const show = await t.run(['instances', 'show', 'oc-lc-01', '-o', 'json']);
    expect(show.stdout).not.toContain(token);
    expect(show.stdout).not.toContain(String(tok.key));
    // the container as specified
    const info = JSON.parse(lab.docker(lab.servers[0]!, ['inspect', 'oc-lc-01']))[0];
    expect(info.Config.Labels).toMatchObject({ 'sayclaw.instance': 'oc-lc-01', 'sayclaw.port': String(P), 'sayclaw.template': 'bb' });
    expect(info.HostConfig).toMatchObject({ NetworkMode: 'host', RestartPolicy: { Name: 'unless-stopped' }, Memory: 256 * 1024 * 1024 });
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: 'oc-lc-01-state', Destination: '/home/node/.openclaw' })]);
    expect(info.Config.Env).toEqual(expect.arrayContaining([`OPENCLAW_GATEWAY_PORT=${P}`, `OPENCLAW_GATEWAY_TOKEN=${token}`, `OPENAI_API_KEY=sk-${tok.key}`]));
    expect(info.State.Running).toBe(true);
  });

  test('--dry-run prints the plan and changes nothing; bad input exit 2', async () => {
    const before = await rowCounts();
    let r = await t.run(['instances', 'create', '--prefix', 'oc-lc-', '--template', 'bb', '--region', 'lab-east', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/will create 1 instance:/);
    expect(r.stderr).toMatch(new RegExp(`oc-lc-02 +lc-01 +${P + 20} \\(checked again at create\\)`));
    expect(r.stderr).toMatch(/dry run: would create 1 instance; nothing changed/);
    expect(await rowCounts()).toEqual(before);
    expect(containers(0)).toEqual(['oc-lc-01 running']);
    for (const [args, msg] of [
      [['oc-lc-01', '--template', 'bb', '--server', 'lc-01'], /instance oc-lc-01 already exists; nothing changed/],
      [['oc-lc-09', '--template', 'nope', '--server', 'lc-01'], /no template named nope/],
      [['oc-lc-09', '--server', 'lc-01'], /--template is required/],
      [['bad id', '--template', 'bb', '--server', 'lc-01'], /invalid instance id/],
      [['oc-lc-09', '--template', 'bb', '--server', 'lc-01', '--region', 'lab-east'], /--server or --region, not both/],
      [['oc-lc-09', '--template', 'bb', '--count', '2'], /--count needs --prefix/],
      [['--prefix', 'oc-lc-', '--template', 'bb', '--count', '2', '--server', 'lc-01'], /refusing to create 2 instances without confirmation/],
      [['oc-lc-09', '--template', 'bb', '--wait', 'soon'], /--wait expects a duration/],
    ] as Array<[string[], RegExp]>) {
      r = await t.run(['instances', 'create', ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: args.includes('nope') ? 4 : 2 });
      expect(r.stderr).toMatch(msg);
    }
    expect(await rowCounts()).toEqual(before);
  });

  test('never ready: step ready fails, container and volume removed, nothing committed', async () => {
    const before = await rowCounts();
    const r = await t.run(['instances', 'create', 'oc-lc-90', '--template', 'never', '--server', 'lc-02', '--wait', '3s']);
    expect(r.code).toBe(1);
    // the last answer is the reason: not_ready, or on a starved machine a first probe that timed out
    expect(r.stderr).toMatch(/error: oc-lc-90: ready failed on lc-02: gateway not ready within 3 s \((not_ready: startup-sidecars|(unreachable|not_ready): (healthz|readyz): timed out after \d+ ms)\); undone: container oc-lc-90, volume oc-lc-90-state; nothing committed/);
    expect(containers(1)).toEqual([]);
    expect(volumes(1)).not.toContain('oc-lc-90-state');
    expect(await rowCounts()).toEqual(before);
  });

  test('image missing on the server: step container fails, volume removed', async () => {
    const before = await rowCounts();
    const r = await t.run(['instances', 'create', 'oc-lc-91', '--template', 'missing', '--server', 'lc-02']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oc-lc-91: container failed on lc-02: image sayclaw-lab-nothing:1 is not on lc-02; undone: volume oc-lc-91-state; nothing committed/);
    expect(volumes(1)).not.toContain('oc-lc-91-state');
    expect(await rowCounts()).toEqual(before);
  });

  test('the only port of the range is taken on the host by something sayclaw does not know: step port fails', async () => {
    // a foreign listener on TINY, the only port of template tiny: no free port
    const net = await import('node:net');
    const srv = net.createServer().listen(TINY, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    try {
      const before = await rowCounts();
      const r = await t.run(['instances', 'create', 'oc-lc-92', '--template', 'tiny', '--server', 'lc-02']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`oc-lc-92: port failed on lc-02: no free port in ${TINY}-${TINY} on lc-02; nothing to undo; nothing committed`));
      expect(await rowCounts()).toEqual(before);
    } finally { srv.close(); }
  });

  test('a port taken on the host is passed over: the next free one is chosen', async () => {
    const net = await import('node:net');
    const srv = net.createServer().listen(TINY + 40, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    try {
      expect((await t.run(['templates', 'add', 'two', '--image', LAB_IMAGE, '--port-range', `${TINY + 40}-${TINY + 41}`])).code).toBe(0);
      const r = await t.run(['instances', 'create', 'oc-lc-50', '--template', 'two', '--server', 'lc-01', '-o', 'json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)[0]).toMatchObject({ id: 'oc-lc-50', gateway_port: TINY + 41, result: 'created' });
    } finally { srv.close(); }
  });
});

describe('decommission / recommission (stand-in gateway)', () => {
  const tokenOf = async (id: string) => (await q(sql<{ status: string }>`SELECT status FROM ${sql.table('oneapi.tokens')} WHERE name = ${id}`))[0]!.status;
  const keyOf = async (id: string) => (await q(sql<{ status: string }>`SELECT status FROM ${sql.table('admin.oc_api_keys')} WHERE instance_id = ${id}`))[0]!.status;
  const inst = async (id: string) => (await q(sql<{ deleted_at: Date | null; assigned_user_id: string | null }>`SELECT deleted_at, assigned_user_id FROM ${sql.table('admin.oc_instances')} WHERE id = ${id}`))[0]!;

  test('decommission: refused without TTY; then stop (kept), token disabled, mapping inactive, unassigned, soft-deleted, audited', async () => {
    let r = await t.run(['instances', 'decommission', 'oc-lc-01']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to decommission 1 instance without confirmation/);
    expect(containers(0)).toContain('oc-lc-01 running');
    r = await t.run(['instances', 'decommission', 'oc-lc-01', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/will decommission 1 instance:[\s\S]*oc-lc-01[\s\S]*dry run: would decommission 1 instance; nothing changed/);
    // --time 1: a stand-in that hung on SIGTERM would not hold the test up for the 60 s a real gateway gets
    r = await t.run(['instances', 'decommission', 'oc-lc-01', '--reason', 'left', '--time', '1'], { tty: true, answers: ['oc-lc-01'] });
    expect(r.stderr).toMatch(/decommissioned 1 instance\nundo: sayclaw instances recommission oc-lc-01\n/);
    expect(r.code).toBe(0);
    expect(containers(0)).toContain('oc-lc-01 exited');
    expect(volumes(0)).toContain('oc-lc-01-state');
    expect(await tokenOf('oc-lc-01')).toBe('2');
    expect(await keyOf('oc-lc-01')).toBe('inactive');
    const row = await inst('oc-lc-01');
    expect(row.deleted_at).not.toBeNull();
    expect(row.assigned_user_id).toBeNull();
    // binding rows kept as history
    expect(await q(sql`SELECT user_email FROM ${sql.table('admin.instance_users')} WHERE instance_id = 'oc-lc-01'`)).toHaveLength(1);
    const a = await q(sql<{ action: string }>`SELECT action FROM ${sql.table('admin.admin_logs')} WHERE target_id = 'oc-lc-01' AND action IN ('instances.decommission', 'instances.unassign')`);
    expect(a.map((x) => x.action).sort()).toEqual(['instances.decommission', 'instances.unassign']);
    // again: skipped, nothing to do
    r = await t.run(['instances', 'decommission', 'oc-lc-01', '--yes']);
    expect(r.stderr).toMatch(/oc-lc-01: already soft-deleted, skipped\nnothing to decommission/);
  });

  test('the port of a decommissioned instance whose container still exists stays reserved', async () => {
    const r = await t.run(['instances', 'create', 'oc-lc-02', '--template', 'bb', '--server', 'lc-01', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0].gateway_port).toBe(P + 20);
  });

  test('recommission: start, ready, row restored, token and mapping enabled; the assignment is not restored', async () => {
    const r = await t.run(['instances', 'recommission', 'oc-lc-01', '--yes']);
    expect(r.stderr).toMatch(/recommissioned 1 instance/);
    expect(r.stderr).toMatch(/the assignment is not restored/);
    expect(r.code).toBe(0);
    expect(containers(0)).toEqual(expect.arrayContaining(['oc-lc-01 running', 'oc-lc-02 running']));
    expect(await tokenOf('oc-lc-01')).toBe('1');
    expect(await keyOf('oc-lc-01')).toBe('active');
    expect(await inst('oc-lc-01')).toEqual({ deleted_at: null, assigned_user_id: null });
    const h = await t.run(['instances', 'health', 'oc-lc-01', '-o', 'json']);
    expect(JSON.parse(h.stdout)[0]).toMatchObject({ state: 'healthy' });
  });

  test('recommission of an alive instance is skipped; of an unknown id exit 4', async () => {
    let r = await t.run(['instances', 'recommission', 'oc-lc-01', '--yes']);
    expect(r.stderr).toMatch(/oc-lc-01: not deleted, skipped/);
    r = await t.run(['instances', 'recommission', 'oc-lc-77', '--yes']);
    expect(r.code).toBe(4);
  });
});

describe('faults', () => {
  let proxy: FaultProxy;
  beforeAll(async () => { const m = mysqlParts(); proxy = await FaultProxy.start({ host: m.host, port: m.port }); });
  afterAll(async () => { await proxy?.close(); });
  afterEach(async () => { proxy.clear(); await proxy.accept(); });

  test('the database connection is cut at COMMIT of create: rolled back, container removed', async () => {
    const before = await rowCounts();
    proxy.add({ match: /^\s*commit/i, action: 'cut' });
    const r = await t.run(['instances', 'create', 'oc-lc-93', '--template', 'bb', '--server', 'lc-02'], { env: { SAYCLAW_MYSQL_URL: proxy.url(t.env.SAYCLAW_MYSQL_URL) } });
    expect(r.stderr).toMatch(/oc-lc-93: commit failed on lc-02: .*rolled back.*; undone: container oc-lc-93, volume oc-lc-93-state; nothing committed/);
    expect(r.code).toBe(5);
    expect(containers(1)).toEqual([]);
    expect(await rowCounts()).toEqual(before);
  });

  test('the database is cut in the middle of the transaction of decommission: the container is started again', async () => {
    proxy.add({ match: /update `[^`]+`\.`oc_instances`/i, action: 'cut' });
    const r = await t.run(['instances', 'decommission', 'oc-lc-02', '--yes', '--time', '1'], { env: { SAYCLAW_MYSQL_URL: proxy.url(t.env.SAYCLAW_MYSQL_URL) } });
    expect(r.stdout).toMatch(/oc-lc-02 .*failed/);
    expect(r.stdout).toMatch(/the container was started again/);
    expect(r.code).toBe(1);
    expect(containers(0)).toContain('oc-lc-02 running');
    expect((await q(sql<{ d: Date | null }>`SELECT deleted_at AS d FROM ${sql.table('admin.oc_instances')} WHERE id = 'oc-lc-02'`))[0]!.d).toBeNull();
  });

  test('the engine is stopped: create fails at the container step, nothing committed', async () => {
    const before = await rowCounts();
    await lab.stopEngine(lab.servers[1]!.engine);
    try {
      const r = await t.run(['instances', 'create', 'oc-lc-94', '--template', 'bb', '--server', 'lc-02']);
      expect(r.stderr).toMatch(/oc-lc-94: port failed on lc-02: docker: .*; nothing to undo; nothing committed/);
      expect(r.code).toBe(1);
      expect(await rowCounts()).toEqual(before);
    } finally { await lab.startEngine(lab.servers[1]!.engine); }
  });

  test('a crash between container start and commit leaves a labelled container that servers check reports', async () => {
    // what a kill -9 after the start leaves: the container, no row
    lab.docker(lab.servers[1]!, ['run', '-d', '--name', 'oc-lc-crash', '--label', 'sayclaw.instance=oc-lc-crash', '--network', 'host', '-e', `OPENCLAW_GATEWAY_PORT=${TINY + 100}`, LAB_IMAGE]);
    try {
      const r = await t.run(['servers', 'check', 'lc-02', '-o', 'json']);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/unknown_container[\s\S]*oc-lc-crash|oc-lc-crash[\s\S]*unknown_container/);
    } finally { lab.docker(lab.servers[1]!, ['rm', '-f', 'oc-lc-crash']); }
  });

  test('Ctrl-C while waiting for ready: exit 130, container removed, nothing committed', async () => {
    const before = await rowCounts();
    const ac = new AbortController();
    // the subject is the interrupted wait: the SSH connect gets the time a starved machine needs
    // (seen in CI at load 12: over 10 s), and the container up to 60 s to be running
    const p = t.run(['--set', 'ssh.connectTimeoutMs=30000', 'instances', 'create', 'oc-lc-95', '--template', 'never', '--server', 'lc-02', '--wait', '120s'], { signal: ac.signal });
    // polled with the docker CLI run asynchronously: a synchronous poll would hold up the verb,
    // which runs in this process (its SSH handshake included)
    const running = async () => (await lab.dockerAsync(lab.servers[1]!, ['ps', '--filter', 'name=^oc-lc-95$', '--format', '{{.State}}']).catch(() => '')) === 'running';
    for (const t0 = Date.now(); Date.now() - t0 < 60000 && !(await running());) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 500));
    ac.abort();
    const r = await p;
    expect(r.stderr).toMatch(/oc-lc-95: ready failed on lc-02: interrupted \(Ctrl-C\); undone: container oc-lc-95, volume oc-lc-95-state; nothing committed/);
    expect(r.code).toBe(130);
    expect(containers(1)).toEqual([]);
    expect(await rowCounts()).toEqual(before);
  });
});

describe('--count and the port race', () => {
  test('--count 3 in parallel: a table of results, exit 3 when one failed, the others stand', async () => {
    // a container already has the name the second id will get: that one fails at the container step
    lab.runGateway(lab.servers[1]!, 'oc-lc-c-02', TINY + 80);
    try {
      const r = await t.run(['instances', 'create', '--prefix', 'oc-lc-c-', '--count', '3', '--template', 'bb', '--server', 'lc-02', '--yes', '-o', 'json']);
      expect(r.code).toBe(3);
      const rows = JSON.parse(r.stdout) as Array<{ id: string; result: string; step: string | null; error: string | null; gateway_port: number | null }>;
      expect(rows.map((x) => [x.id, x.result, x.step])).toEqual([['oc-lc-c-01', 'created', null], ['oc-lc-c-02', 'failed', 'container'], ['oc-lc-c-03', 'created', null]]);
      expect(rows[1]!.error).toMatch(/a container named oc-lc-c-02 already exists on lc-02/);
      expect(new Set(rows.filter((x) => x.gateway_port).map((x) => x.gateway_port)).size).toBe(2);
      expect(r.stderr).toMatch(/created 2 instances, 1 failed/);
      expect(r.stderr).toMatch(/undo: sayclaw instances decommission oc-lc-c-01 oc-lc-c-03/);
      expect((await q(sql<{ id: string }>`SELECT id FROM ${sql.table('admin.oc_instances')} WHERE id LIKE 'oc-lc-c-%' ORDER BY id`)).map((x) => x.id)).toEqual(['oc-lc-c-01', 'oc-lc-c-03']);
    } finally { lab.docker(lab.servers[1]!, ['rm', '-f', 'oc-lc-c-02']); }
  });

  test('two sayclaw processes creating on one server at once never pick the same port', async () => {
    const lock = `sayclaw:${t.names.admin}:ports:127.0.0.1`;
    // hold the port lock so both processes queue behind it, then let go: their picks overlap every time
    const both = await t.db.connection().execute(async (conn) => {
      await sql`SELECT GET_LOCK(${lock}, 5)`.execute(conn);
      const runs = ['a', 'b'].map((x) => spawnBin(['instances', 'create', '--prefix', `oc-race-${x}-`, '--count', '2', '--template', 'bb', '--server', 'lc-02', '--yes', '-o', 'json'], t.env));
      const waiting = async () => Number((await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%' AND ID <> CONNECTION_ID()`.execute(conn)).rows[0]!.n);
      for (let i = 0; i < 600 && (await waiting()) < 2; i++) await new Promise((res) => setTimeout(res, 50));
      expect(await waiting()).toBeGreaterThanOrEqual(2);
      await sql`SELECT RELEASE_LOCK(${lock})`.execute(conn);
      return Promise.all(runs);
    });
    for (const r of both) expect({ code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const rows = both.flatMap((r) => JSON.parse(r.stdout) as Array<{ gateway_port: number; result: string }>);
    expect(rows.map((x) => x.result)).toEqual(['created', 'created', 'created', 'created']);
    const ports = rows.map((x) => x.gateway_port);
    expect(new Set(ports).size).toBe(4);
    // host network: at least 20 ports apart (the gateways' derived ports)
    const sorted = [...ports].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(20);
    const db = (await q(sql<{ p: number }>`SELECT gateway_port AS p FROM ${sql.table('admin.oc_instances')} WHERE id LIKE 'oc-race-%'`)).map((x) => x.p);
    expect(db.sort()).toEqual([...ports].sort());
  });
});

describe('the real OpenClaw gateway', () => {
  // only this part starts real gateways: the rest of the file runs beside another file's
  beforeAll(() => lab.holdRealGateways(), REAL_LAB_SETUP_MS);
  test('create 2 real gateways, decommission them, recommission them', async () => {
    await Promise.all(lab.servers.map((s) => lab.openclawImage(s)));
    expect((await t.run(['templates', 'add', 'real', '--image', OPENCLAW_IMAGE, '--model', 'claude-sonnet-4', '--quota', 'unlimited', '--memory-mb', '2048', '--port-range', `${REAL_BASE}-${REAL_BASE + 99}`])).code).toBe(0);
    let r = await t.run(['instances', 'create', '--prefix', 'oc-real-', '--count', '2', '--template', 'real', '--region', 'lab-west', '--wait', '300s', '--yes', '-o', 'json']);
    expect({ code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ code: 0, out: '' });
    const made = JSON.parse(r.stdout) as Array<{ id: string; gateway_port: number; gateway_url: string }>;
    expect(made.map((m) => m.id)).toEqual(['oc-real-01', 'oc-real-02']);
    // the real gateway answers its own probes with the token it was given
    for (const m of made) {
      const row = (await q(sql<{ gateway_token: string }>`SELECT gateway_token FROM ${sql.table('admin.oc_instances')} WHERE id = ${m.id}`))[0]!;
      const res = await fetch(`${m.gateway_url}/readyz`, { headers: { authorization: `Bearer ${row.gateway_token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ready: true });
    }
    const tok = (await q(sql<{ unlimited_quota: number }>`SELECT unlimited_quota FROM ${sql.table('oneapi.tokens')} WHERE name = 'oc-real-01'`))[0]!;
    expect(Number(tok.unlimited_quota)).toBe(1);
    r = await t.run(['instances', 'decommission', '--prefix', 'oc-real-', '--yes', '-o', 'json']);
    expect(r.code).toBe(0);
    // stopped cleanly: a gateway killed half-way leaves its state lease behind and fails its next start
    expect((JSON.parse(r.stdout) as Array<{ result: string; note: string | null }>).map((x) => [x.result, x.note])).toEqual([['decommissioned', null], ['decommissioned', null]]);
    for (const m of made) await expect(fetch(`${m.gateway_url}/healthz`)).rejects.toThrow();
    r = await t.run(['instances', 'recommission', 'oc-real-01', 'oc-real-02', '--wait', '300s', '--yes', '-o', 'json']);
    const logs = r.code ? made.map((m) => lab.docker(lab.servers[1]!, ['logs', '--tail', '15', m.id])).join('\n') : '';
    expect({ code: r.code, out: r.code ? `${r.stdout}${r.stderr}${logs}` : '' }).toEqual({ code: 0, out: '' });
    expect((JSON.parse(r.stdout) as Array<{ result: string }>).map((x) => x.result)).toEqual(['recommissioned', 'recommissioned']);
    // recommission's gate saw both ready; on an overloaded machine a real gateway can report itself
    // not ready for a while afterwards (event-loop delay), so the check waits for it to settle
    let states: Array<{ state: string; reason: string | null }> = [];
    for (let i = 0; i < 60; i++) {
      const h = await t.run(['instances', 'health', '--prefix', 'oc-real-', '-o', 'json']);
      states = JSON.parse(h.stdout);
      if (states.every((x) => x.state === 'healthy')) break;
      await new Promise((res) => setTimeout(res, 2000));
    }
    expect(states.map((x) => x.state)).toEqual(['healthy', 'healthy']);
  }, 900000);
});
