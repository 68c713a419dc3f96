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
}, 180000);

test('CLI: ls --prefix over generated prefixes never errors and matches startsWith', async () => {
  const tag = 'cli|';
  const stored = await insertFleet(tag, ['a%b', 'a_b', 'a!b', 'a\\b', "a'b", 'a"b', '中文-1', '中文-10', '😀-2', 'A%B', 'ab']);
  await fc.assert(fc.asyncProperty(piece, async (p) => {
    const r = await t.run(['instances', 'ls', '--prefix', tag + p, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id)).toEqual(stored.filter((id) => id.startsWith(tag + p)).sort(naturalCompare));
  }), { numRuns: 150 });
}, 120000);
