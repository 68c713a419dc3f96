// The output path of the list and show verbs against real MariaDB: the streamed `instances ls`
// (same rows, same order as one query), hostile bytes stored in the database or typed as
// arguments never reaching the terminal raw, lookups keyed by user input (--sort, --profile,
// --set, --host) safe from prototype names, the count line, and --fields.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, type Fleet } from '../support/fixtures.js';
import { listInstances, withInstanceBatches, type InstanceFilter, type InstanceListRow } from '../../src/fleet/instances/ls.js';

let t: TestEnv;
let fleet: Fleet;
const EVIL = 'gpt\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\r\n';
// what a terminal must never receive raw (LF ends lines; everything else is suspect)
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
/** The colour codes sayclaw itself writes on a terminal (bold header, green/red/yellow cells) removed. */
const ownColour = (s: string) => s.replace(/\x1b\[(?:1|22|3[1-3]|39)m/g, '');

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  fleet = generateFleet({ seed: 11, prefixes: { 'oc-ai-jp-2-': 25, 'oc-ai-jp-10-': 12, 'oc-ai-us-1-': 9 }, extraIds: ['oc-ai-jp-2-100', 'oc-ai-jp-2-9'] });
  await loadFleet(t.db, fleet);
  // hostile values, stored directly as a careless writer or an attacker with portal access would
  await t.db.insertInto('portal.users').values({ id: 'u-evil', email: 'evil@sayclaw.test', name: `Mallory${EVIL}`, department: `研发部\x1b[5m`,
    status: 'active', quota_daily: 1000 } as never).execute();
  await t.db.insertInto('admin.oc_instances').values({ id: 'oc-evil-1', server_id: fleet.servers[0]!.id, assigned_user_id: 'u-evil', name: 'x',
    gateway_port: 1, gateway_url: null, gateway_token: 'gwt_secret_value_1234567890', model: EVIL, total_requests: '0', total_tokens: '0',
    container_id: null, notes: null, config_json: JSON.stringify({ note: EVIL }) } as never).execute();
});
afterAll(async () => { await t?.close(); });

describe('streamed instances ls', () => {
  const FILTERS: InstanceFilter[] = [
    {}, { sort: '-id' }, { sort: 'tokens' }, { sort: '-user' }, { sort: 'model', limit: 13 }, { limit: 1 },
    { prefix: 'oc-ai-jp-2-' }, { state: 'all', sort: '-created' }, { state: 'deleted' }, { prefix: 'no-such-' },
  ];
  const collect = async (f: InstanceFilter, batch: number) => {
    const got: InstanceListRow[] = [];
    const sizes: number[] = [];
    await withInstanceBatches(t.db, f, async (batches) => { for await (const b of batches) { sizes.push(b.length); got.push(...b); } }, batch);
    return { got, sizes };
  };

  test.each(FILTERS)('%j: the same rows in the same order as one query, in batches', async (f) => {
    const want = await listInstances(t.db, f);
    const { got, sizes } = await collect(f, 7);
    expect(got).toEqual(want);
    expect(sizes.every((n) => n <= 7)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(want.length);
  });

  test.each(FILTERS)('%j: at most one batch of rows (read by one query, without a transaction): the same rows in the same order', async (f) => {
    const want = await listInstances(t.db, f);
    const { got, sizes } = await collect(f, 1000);
    expect(got).toEqual(want);
    expect(sizes).toEqual(want.length ? [want.length] : []);
  });

  test('one more row than a batch: the listing streams in batches, as one query would have returned it', async () => {
    const n = (await listInstances(t.db, {})).length;
    for (const batch of [n - 1, n]) {
      const want = await listInstances(t.db, {});
      const { got, sizes } = await collect({}, batch);
      expect(got).toEqual(want);
      expect(sizes).toEqual(batch === n ? [n] : [n - 1, 1]);
    }
  });

  test('natural order across batches: oc-ai-jp-2-9 before -10 before -100, jp-2 before jp-10', async () => {
    const ids = (await collect({}, 5)).got.map((r) => r.id);
    expect(ids.indexOf('oc-ai-jp-2-9')).toBeLessThan(ids.indexOf('oc-ai-jp-2-10'));
    expect(ids.indexOf('oc-ai-jp-2-10')).toBeLessThan(ids.indexOf('oc-ai-jp-2-100'));
    const jp10 = ids.find((i) => i.startsWith('oc-ai-jp-10-'))!;
    expect(ids.indexOf('oc-ai-jp-2-100')).toBeLessThan(ids.indexOf(jp10));
  });

  test('the verb prints what it printed from one query, in every format', async () => {
    const r = await t.run(['instances', 'ls', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { id: string }) => x.id)).toEqual((await listInstances(t.db, {})).map((x) => x.id));
    const csv = await t.run(['instances', 'ls', '-o', 'csv', '--sort', '-tokens', '--limit', '5']);
    expect(csv.stdout.trim().split('\r\n')).toHaveLength(6);
  });
});

describe('hostile bytes never reach the terminal raw (issue #12)', () => {
  test('instances ls: the table shows them escaped; json and a piped csv keep the exact value', async () => {
    const tty = await t.run(['instances', 'ls', '--prefix', 'oc-evil-'], { tty: true });
    expect(tty.code).toBe(0);
    expect(ownColour(tty.stdout)).not.toMatch(RAW);
    expect(tty.stdout).toContain('gpt\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil\\r\\n');
    const wide = await t.run(['instances', 'ls', '--prefix', 'oc-evil-', '-o', 'wide'], { tty: true });
    expect(ownColour(wide.stdout)).not.toMatch(RAW);
    const json = await t.run(['instances', 'ls', '--prefix', 'oc-evil-', '-o', 'json'], { tty: true });
    expect(json.stdout).not.toMatch(RAW);
    expect(JSON.parse(json.stdout)[0].model).toBe(EVIL);
    const piped = await t.run(['instances', 'ls', '--prefix', 'oc-evil-', '-o', 'csv', '--fields', 'id,model']);
    expect(piped.stdout).toBe(`id,model\r\noc-evil-1,"${EVIL}"\r\n`);
    const csvTty = await t.run(['instances', 'ls', '--prefix', 'oc-evil-', '-o', 'csv', '--fields', 'id,model'], { tty: true });
    expect(csvTty.stdout.replace(/\r\n/g, '\n')).not.toMatch(RAW);
    for (const f of ['yaml', 'ndjson', 'name']) {
      const r = await t.run(['instances', 'ls', '--prefix', 'oc-evil-', '-o', f], { tty: true });
      expect(r.stdout).not.toMatch(RAW);
    }
  });

  test('users ls and users show, instances show: every section escaped', async () => {
    for (const argv of [['users', 'ls', '--email-prefix', 'evil'], ['users', 'ls', '--email-prefix', 'evil', '-o', 'wide'],
      ['users', 'show', 'evil@sayclaw.test'], ['instances', 'show', 'oc-evil-1'], ['instances', 'show', 'oc-evil-1', '-o', 'yaml']]) {
      const r = await t.run(argv, { tty: true });
      expect([argv, r.code]).toEqual([argv, 0]);
      expect(ownColour(r.stdout)).not.toMatch(RAW);
      expect(r.stderr).not.toMatch(RAW);
      expect(r.stdout).toMatch(argv.includes('yaml') ? /\\e/ : /\\x1b/);
    }
  });

  test('arguments echoed in errors are escaped the same way', async () => {
    const nf = await t.run(['instances', 'show', 'oc-\x1b[2J\x1b]0;x\x07']);
    expect(nf.code).toBe(4);
    // quoted, so the invisible ends of what was typed show; escaped like every other output
    expect(nf.stderr).toContain('no such instance: "oc-\\x1b[2J\\x1b]0;x\\x07"');
    expect(nf.stderr).not.toMatch(RAW);
    const opt = await t.run(['instances', 'ls', '--\x1b[2Jx']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option '--\\x1b[2Jx'");
    expect(opt.stderr).not.toMatch(RAW);
    const user = await t.run(['users', 'show', '\x1b[31mroot']);
    expect(user.code).toBe(4);
    expect(user.stderr).not.toMatch(RAW);
    const sort = await t.run(['instances', 'ls', '--sort', '\x1b[2J']);
    expect(sort.code).toBe(2);
    expect(sort.stderr).toContain('unknown sort field "\\x1b[2J"');
  });
});

describe('lookups keyed by user input ignore the prototype (issue #12)', () => {
  test.each(['__proto__', 'hasOwnProperty', 'constructor', 'toString', '-__proto__', '-constructor'])('--sort %s is an unknown field, exit 2', async (s) => {
    const r = await t.run(['instances', 'ls', '--sort', s, '-o', 'name']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown sort field "[-\w]+" \(use one of id, server, region/);
    expect(r.stdout).toBe('');
  });

  test('--profile constructor is an unknown profile; --set and a file cannot reach Object.prototype', async () => {
    const file = join(t.tmp, 'profiles.json');
    writeFileSync(file, JSON.stringify({ profiles: { prod: {} } }), { mode: 0o600 });
    for (const p of ['constructor', '__proto__', 'toString']) {
      const r = await t.run(['--config', file, '--profile', p, 'instances', 'ls']);
      expect([p, r.code]).toEqual([p, 5]);
      expect(r.stderr).toContain(`unknown profile "${p}"`);
    }
    for (const set of ['__proto__.polluted=1', 'constructor.prototype.polluted=1', 'mysql.__proto__.polluted=1']) {
      const r = await t.run(['--set', set, 'instances', 'ls']);
      expect([set, r.code]).toEqual([set, 5]);
      expect(r.stderr).toMatch(/invalid config key/);
    }
    const evilFile = join(t.tmp, 'evil.json');
    writeFileSync(evilFile, '{"__proto__": {"polluted": 1}, "mysql": {"__proto__": {"polluted": 2}}}', { mode: 0o600 });
    const r = await t.run(['--config', evilFile, 'instances', 'ls']);
    expect(r.code).toBe(5);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('servers inventory --host constructor is no host (exit 4)', async () => {
    for (const h of ['constructor', '__proto__', 'toString']) {
      const r = await t.run(['servers', 'inventory', '--host', h]);
      expect([h, r.code]).toEqual([h, 4]);
      expect(r.stdout).toBe('');
    }
  });
});

describe('the count line (issue #14)', () => {
  test('every list verb prints one on a terminal, singular for one', async () => {
    const one = await t.run(['instances', 'ls', '--prefix', 'oc-evil-'], { tty: true });
    expect(one.stderr).toBe('1 instance\n');
    const users = await t.run(['users', 'ls'], { tty: true });
    expect(users.stderr).toBe(`${fleet.users.length + 1} users\n`);
    const one2 = await t.run(['users', 'ls', '--email-prefix', 'evil'], { tty: true });
    expect(one2.stderr).toBe('1 user\n');
    const servers = await t.run(['servers', 'ls'], { tty: true });
    expect(servers.stderr).toMatch(/^\d+ servers\n$/);
    // every other list verb: one count line, and the count is the table's rows (header excluded)
    const inst = fleet.instances[0]!.id;
    const lists = [['keys', 'ls', '--all'], ['keys', 'oc', 'ls'], ['keys', 'oneapi', 'ls', '--all'], ['audit', 'ls'], ['jobs', 'ls'],
      ['users', 'admins', 'ls', '--all'], ['instances', 'ls', '--all'], ['servers', 'ls', '--all'], ['instances', 'history', inst]];
    for (const argv of lists) {
      const r = await t.run([...argv, '--no-color'], { tty: true });
      expect({ argv, code: r.code }).toEqual({ argv, code: 0 });
      // the count line first (a verb may add a summary line after it: keys oc ls's problems)
      const m = /^(\d+) [a-z][^\n]*\n/.exec(r.stderr);
      expect({ argv, stderr: r.stderr, ok: !!m }).toEqual({ argv, stderr: r.stderr, ok: true });
      const rows = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
      expect({ argv, rows }).toEqual({ argv, rows: Number(m![1]) === 0 ? 0 : Number(m![1]) + 1 });
    }
  });

  test('an empty admins ls says so, on a terminal and off it; -q silences it', async () => {
    const tty = await t.run(['users', 'admins', 'ls'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toBe('');
    expect(tty.stderr).toBe('0 admins (--all also shows removed ones)\n');
    const piped = await t.run(['users', 'admins', 'ls', '-o', 'json']);
    expect(piped.stdout).toBe('[]\n');
    expect(piped.stderr).toBe('0 admins (--all also shows removed ones)\n');
    expect((await t.run(['users', 'admins', 'ls', '-q'], { tty: true })).stderr).toBe('');
  });

  test('off a terminal a non-empty list prints only its data', async () => {
    const r = await t.run(['users', 'ls', '-o', 'csv']);
    expect(r.stderr).toBe('');
  });
});

describe('--fields on list and show verbs (issue #14)', () => {
  test('instances ls: those fields in that order, in every format, wide ones included', async () => {
    const json = await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-', '--fields', 'model,id,container_id', '-o', 'json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(Object.keys(r)).toEqual(['model', 'id', 'container_id']);
    const table = await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-', '--fields', 'id,gateway_token']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +TOKEN$/);
    expect(table.stdout.split('\n')[1]).toMatch(/^oc-ai-us-1-\d+ +\*\*\*\*\w{4}$/);
    expect(table.stdout).not.toMatch(/gwt_/);
    const csv = await t.run(['instances', 'ls', '--prefix', 'oc-ai-us-1-', '--fields', 'id , region', '-o', 'csv']);
    expect(csv.stdout.split('\r\n')[0]).toBe('id,region');
  });

  test('an unknown field is exit 2 with the valid names, before any output', async () => {
    const r = await t.run(['instances', 'ls', '--fields', 'id,nope', '-o', 'json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: unknown field for --fields: "nope" (valid fields: id, server_name, region, assigned_email, model, health_status, '
      + 'gateway_port, total_requests, total_tokens, last_health_at, container_id, gateway_url, gateway_token, created_at, deleted_at)\n');
    const empty = await t.run(['instances', 'ls', '--fields', ' , ']);
    expect(empty.code).toBe(2);
    const name = await t.run(['instances', 'ls', '--fields', 'id', '-o', 'name']);
    expect(name.code).toBe(2);
  });

  test('a verb without list or show output says that --fields did nothing', async () => {
    const r = await t.run(['servers', 'inventory', '--list', '--fields', 'name']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning: --fields was ignored: this verb prints no list or show output (it applies to those, in every format)\n');
    expect((await t.run(['servers', 'ls', '--fields', 'name'])).stderr).toBe('');
  });

  test('users ls, servers ls, show verbs', async () => {
    const u = await t.run(['users', 'ls', '--email-prefix', 'evil', '--fields', 'email,status', '-o', 'json']);
    expect(JSON.parse(u.stdout)).toEqual([{ email: 'evil@sayclaw.test', status: 'active' }]);
    const s = await t.run(['servers', 'ls', '--fields', 'name', '-o', 'csv']);
    expect(s.stdout.split('\r\n')[0]).toBe('name');
    const show = await t.run(['instances', 'show', 'oc-evil-1', '--fields', 'id,assignment', '-o', 'json']);
    const d = JSON.parse(show.stdout);
    expect(Object.keys(d)).toEqual(['id', 'assignment']);
    expect(d.assignment.assigned_email).toBe('evil@sayclaw.test');
    const showTable = await t.run(['instances', 'show', 'oc-evil-1', '--fields', 'id,gateway_token']);
    expect(showTable.stdout).toBe('id             oc-evil-1\ngateway_token  ****7890\n');
    const bad = await t.run(['users', 'show', 'evil@sayclaw.test', '--fields', 'password_hash']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/valid fields: id, email, name/);
  });
});
