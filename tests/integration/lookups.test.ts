// Lookups by name are exact: ids, names and equality filters compare byte for byte although the
// tables use case-, accent- and pad-insensitive collations; emails compare case-insensitively.
// A near miss exits 4 with the closest names; the index is still used (EXPLAIN).
import { createTestEnv, type TestEnv } from '../support/testenv.js';
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
