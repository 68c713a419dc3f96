// Property: `instances ls --prefix P` returns exactly the ids a JavaScript startsWith(P) selects,
// for generated fleets and prefixes full of LIKE metacharacters, quotes, backslashes, Chinese
// and emoji — and never a SQL error. Each generated fleet lives under its own random tag so
// thousands of fleets share one database without deleting rows.
import fc from 'fast-check';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { listInstances } from '../../src/fleet/instances/ls.js';
import { naturalCompare } from '../../src/db/sql-helpers.js';

let t: TestEnv;
beforeAll(async () => { t = await createTestEnv({ withPg: false }); });
afterAll(async () => { await t?.close(); });

const CHARS = ['a', 'b', 'A', '-', '0', '1', '9', '%', '_', '!', '\\', "'", '"', '中', '文', '😀', '🚀', ' ', '.'];
const piece = fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 6 });
let n = 0;

/** Insert ids one by one; the table's case- and accent-insensitive key may refuse near-duplicates. */
async function insertFleet(tag: string, ids: string[]): Promise<string[]> {
  const stored: string[] = [];
  for (const suffix of ids) {
    const id = `${tag}${suffix}`;
    const r = await t.db.insertInto('admin.oc_instances').ignore()
      .values({ id, container_id: null, server_id: null, assigned_user_id: null, name: null, gateway_port: null, gateway_url: null,
        gateway_token: null, model: null, total_requests: '0', total_tokens: '0', notes: null, config_json: null })
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows) === 1) stored.push(id);
  }
  return stored;
}

test('library: prefix match equals startsWith over 1500 generated fleets', async () => {
  await fc.assert(fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), piece, fc.nat(7), async (suffixes, p, pick) => {
    const tag = `p${(n++).toString(36).padStart(5, '0')}|`;
    const stored = await insertFleet(tag, suffixes);
    // prefixes taken from the fleet itself are the interesting ones; mix them with random ones
    // (sliced by code points: a lone UTF-16 surrogate is not a string a user can type)
    const fromFleet = stored.length ? Array.from(stored[pick % stored.length]!.slice(tag.length)).slice(0, pick % 5).join('') : '';
    for (const prefix of [p, fromFleet]) {
      const got = (await listInstances(t.db, { prefix: tag + prefix })).map((r) => r.id);
      const want = stored.filter((id) => id.startsWith(tag + prefix)).sort(naturalCompare);
      expect(got).toEqual(want);
    }
  }), { numRuns: 1500 });
}, 420000); // about a minute alone; several times that on a loaded 2-core machine

test('CLI: ls --prefix over generated prefixes never errors and matches startsWith', async () => {
  const tag = 'cli|';
  const stored = await insertFleet(tag, ['a%b', 'a_b', 'a!b', 'a\\b', "a'b", 'a"b', '中文-1', '中文-10', '😀-2', 'A%B', 'ab']);
  await fc.assert(fc.asyncProperty(piece, async (p) => {
    const r = await t.run(['instances', 'ls', '--prefix', tag + p, '-o', 'json']);
    const want = stored.filter((id) => id.startsWith(tag + p)).sort(naturalCompare);
    // an empty list says so on stderr (the count line), whatever the output
    expect(r.stderr).toBe(want.length ? '' : '0 instances\n');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id)).toEqual(want);
  }), { numRuns: 150 });
}, 120000);

// ---------------------------------------------------------------------------------------------
// Equality filters and ids are exact: for generated values full of case variants, trailing
// spaces, accents, emoji and Chinese, a filter returns exactly what JavaScript's === selects
// (emails: === after toLowerCase), although the columns' collation is case-, accent- and
// pad-insensitive; a lookup by id finds the row only when it is === the stored id.

const VCHARS = ['a', 'A', 'á', 'Á', 'e', 'é', 'É', ' ', '😀', '😁', '中', '文', '-', '1'];
const value = (maxLength: number) => fc.string({ unit: fc.constantFrom(...VCHARS), minLength: 1, maxLength });
/** The near misses a careless `=` would match: other case, trailing space, accent dropped, the other emoji. */
const variants = (s: string): string[] => [s.toUpperCase(), s.toLowerCase(), `${s} `, s.normalize('NFD').replace(/\p{M}/gu, ''),
  s.replace(/😀/g, '😁'), s.replace(/😁/g, '😀'), s.replace(/中/g, '文')];
const byId = (a: { id: string }, b: { id: string }) => naturalCompare(a.id, b.id);

const KNOWN_HEALTH = ['healthy', 'unhealthy', 'unknown'];
/** every health_status ever stored in this database (the --health vocabulary's oracle) */
const storedHealth = new Set<string>();

test('library: --model, --health and ids equal === over 300 generated fleets (near misses never match)', async () => {
  const { UsageError } = await import('../../src/errors.js');
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ suffix: piece, model: value(4), health: value(2) }), { minLength: 1, maxLength: 6 }), value(4), fc.nat(7),
    async (rows, probe, pick) => {
      const tag = `q${(n++).toString(36).padStart(5, '0')}|`;
      const stored: Array<{ id: string; model: string; health: string }> = [];
      for (const r of rows) {
        const id = `${tag}${r.suffix}`;
        const x = await t.db.insertInto('admin.oc_instances').ignore()
          .values({ id, container_id: null, server_id: null, assigned_user_id: null, name: null, gateway_port: null, gateway_url: null,
            gateway_token: null, model: r.model, health_status: r.health, total_requests: '0', total_tokens: '0', notes: null, config_json: null })
          .executeTakeFirst();
        if (Number(x.numInsertedOrUpdatedRows) === 1) { stored.push({ id, model: r.model, health: r.health }); storedHealth.add(r.health); }
      }
      const one = stored[pick % stored.length];
      for (const m of [probe, ...(one ? [one.model, ...variants(one.model)] : [])]) {
        const got = (await listInstances(t.db, { prefix: tag, model: m })).map((x) => x.id);
        expect(got).toEqual(stored.filter((x) => x.model === m).sort(byId).map((x) => x.id));
      }
      for (const h of [probe.slice(0, 2), ...(one ? [one.health, ...variants(one.health)] : [])]) {
        const run = listInstances(t.db, { prefix: tag, health: h });
        if (!KNOWN_HEALTH.includes(h) && !storedHealth.has(h)) {
          await expect(run).rejects.toBeInstanceOf(UsageError);
          continue;
        }
        expect((await run).map((x) => x.id)).toEqual(stored.filter((x) => x.health === h).sort(byId).map((x) => x.id));
      }
      for (const id of one ? [one.id, ...variants(one.id)] : []) {
        const got = (await listInstances(t.db, { ids: [id], state: 'all' })).map((x) => x.id);
        expect(got).toEqual(stored.filter((x) => x.id === id).map((x) => x.id));
      }
    }), { numRuns: 300 });
}, 240000);

test('library: users by --department, by email (case-insensitive only) and id; servers by name and --region', async () => {
  const { listUsers, getUser } = await import('../../src/fleet/users/registry.js');
  const { findServer, listServers } = await import('../../src/fleet/servers/registry.js');
  const { NotFoundError, UsageError } = await import('../../src/errors.js');
  const local = fc.string({ unit: fc.constantFrom('a', 'B', 'é', 'É', '.', '中', '😀'), minLength: 1, maxLength: 4 });
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ local, department: value(4), region: value(4) }), { minLength: 1, maxLength: 5 }), value(4), fc.nat(7),
    async (rows, probe, pick) => {
      const tag = `u${(n++).toString(36).padStart(5, '0')}`;
      const users: Array<{ id: string; email: string; department: string }> = [];
      const servers: Array<{ id: string; name: string; region: string }> = [];
      for (const [i, r] of rows.entries()) {
        const u = { id: `${tag}-${i}`, email: `${r.local}.${tag}@x.test`, department: `${tag}${r.department}` };
        const x = await t.db.insertInto('portal.users').ignore().values({ id: u.id, email: u.email, name: null, password_hash: 'x', google_id: null,
          department: u.department, status: 'active', quota_daily: '1', telegram_user_id: null, telegram_username: null, telegram_bound_at: null,
          revoked_at: null }).executeTakeFirst();
        if (Number(x.numInsertedOrUpdatedRows) === 1) users.push(u);
        const s = { id: `${tag}-s${i}`, name: `${tag}-${r.local}`, region: `${tag}${r.region}` };
        const y = await t.db.insertInto('admin.servers').ignore().values({ id: s.id, name: s.name, ip: null, region: s.region, provider: 'gcp', cpu_cores: null,
          memory_gb: null, disk_gb: null, status: 'active', ssh_user: 'root', ssh_port: 22, docker_port: 2376, notes: null }).executeTakeFirst();
        if (Number(y.numInsertedOrUpdatedRows) === 1) servers.push(s);
      }
      const u = users[pick % users.length]!;
      for (const d of [`${tag}${probe}`, u.department, ...variants(u.department)]) {
        const got = (await listUsers(t.db, { department: d })).map((x) => x.id).sort();
        expect(got).toEqual(users.filter((x) => x.department === d).map((x) => x.id).sort());
      }
      for (const ref of [u.email, ...variants(u.email), u.id, ...variants(u.id)]) {
        const want = users.find((x) => x.email.toLowerCase() === ref.toLowerCase() || x.id === ref);
        if (want) expect((await getUser(t.db, ref)).id).toBe(want.id);
        else await expect(getUser(t.db, ref)).rejects.toBeInstanceOf(NotFoundError);
      }
      const s = servers[pick % servers.length];
      if (!s) return;
      for (const ref of [s.name, ...variants(s.name)]) {
        // names are not unique: two servers of that exact name are refused (exit 2), never guessed
        const want = servers.filter((x) => x.name === ref || x.id === ref);
        if (want.length === 1) expect((await findServer(t.db, ref)).id).toBe(want[0]!.id);
        else await expect(findServer(t.db, ref)).rejects.toBeInstanceOf(want.length ? UsageError : NotFoundError);
      }
      for (const reg of [`${tag}${probe}`, s.region, ...variants(s.region)]) {
        const got = (await listServers(t.db, { region: reg })).map((x) => x.id).sort();
        expect(got).toEqual(servers.filter((x) => x.region === reg).map((x) => x.id).sort());
      }
    }), { numRuns: 60 });
}, 240000);

test('CLI: show and filters on near misses: exit 0 with exactly the === rows, or exit 4 with the closest; never a crash', async () => {
  const tag = 'cl2|';
  const ids = ['oc-Ab-1', 'oc-ab-2', 'oc-中文-😀', 'oc-é-3'];
  for (const [i, id] of ids.entries()) {
    await t.db.insertInto('admin.oc_instances').values({ id: tag + id, container_id: null, server_id: null, assigned_user_id: null, name: null,
      gateway_port: null, gateway_url: null, gateway_token: null, model: ['M-á', 'm-a', 'M-á ', '中'][i]!, total_requests: '0', total_tokens: '0',
      notes: null, config_json: null }).execute();
  }
  await fc.assert(fc.asyncProperty(fc.constantFrom(...ids), fc.nat(6), async (id, k) => {
    const probe = tag + [id, ...variants(id)][k]!;
    const r = await t.run(['instances', 'show', probe, '-o', 'json']);
    expect(r.stderr).not.toMatch(/Cannot read|TypeError|undefined/);
    if (ids.map((x) => tag + x).includes(probe)) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).id).toBe(probe);
    } else {
      expect(r.code).toBe(4);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: no such instance: .*\(closest: /);
    }
  }), { numRuns: 40 });
  for (const m of ['M-á', 'm-a', 'M-á ', 'M-a', 'm-á', '中']) {
    const r = await t.run(['instances', 'ls', '--prefix', tag, '--model', m, '-o', 'json']);
    expect(r.code).toBe(0);
    const want = ids.filter((_, i) => ['M-á', 'm-a', 'M-á ', '中'][i] === m).map((x) => tag + x).sort(naturalCompare);
    expect((JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id)).toEqual(want);
  }
}, 120000);
