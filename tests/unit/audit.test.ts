// Pure parts of the audit and jobs verbs: change summaries, field diffs, masking of stored JSON,
// the optional time window and the --max-age parser.
import fc from 'fast-check';
import { changeSummary, fieldChanges, flatten } from '../../src/fleet/audit/read.js';
import { maskJsonText } from '../../src/output/mask.js';
import { timeWindow } from '../../src/fleet/window.js';
import { parseMaxAge } from '../../src/fleet/jobs/check.js';
import { humanDuration, jobKey } from '../../src/fleet/jobs/ls.js';
import { parseActions } from '../../src/fleet/audit/ls.js';

test('changeSummary: changed fields, readable ones first; creations list what was recorded', () => {
  expect(changeSummary({ deleted_at: null, id: 'x' }, { deleted_at: '2026-12-01T00:00:00.000Z', id: 'x' })).toBe('deleted_at: null \u2192 2026-12-01T00:00:00.000Z');
  expect(changeSummary({ assigned_user_id: '0e090276-8648-4d51-a914-6f7ba10fca05', assigned_email: 'a@x.test' },
    { assigned_user_id: 'fb8bd77b-7aa4-4e14-a006-db9dc36562e3', assigned_email: 'b@x.test' }))
    .toMatch(/^assigned_email: a@x\.test \u2192 b@x\.test; assigned_user_id: /);
  expect(changeSummary(null, { name: 'jp-2-srv-04', ip: '10.0.2.4', notes: null })).toBe('name=jp-2-srv-04, ip=10.0.2.4');
  expect(changeSummary({ a: 1 }, { a: 1 })).toBe('no field changed');
  expect(changeSummary(null, null)).toBe('');
  expect(changeSummary({ gone: true }, null)).toBe('was gone=true');
  expect(changeSummary({ s: 'x'.repeat(500) }, { s: 'y' }).length).toBeLessThanOrEqual(120);
});

test('fieldChanges covers every leaf of both sides, in order, and marks exactly the changed ones', () => {
  const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 5 }));
  const obj = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof(leaf, fc.dictionary(fc.constantFrom('x', 'y'), leaf, { minKeys: 1 })));
  fc.assert(fc.property(obj, obj, (b, a) => {
    const ch = fieldChanges(b, a);
    const fb = flatten(b); const fa = flatten(a);
    expect(new Set(ch.map((c) => c.field))).toEqual(new Set([...fb.keys(), ...fa.keys()]));
    for (const c of ch) {
      const differs = !fa.has(c.field) || !fb.has(c.field) ? (fb.has(c.field) || fa.get(c.field) !== null) : JSON.stringify(fb.get(c.field)) !== JSON.stringify(fa.get(c.field));
      expect(c.changed).toBe(differs);
    }
  }));
});

test('maskJsonText: secret keys, JSON inside strings, key-shaped values; non-JSON is not shown', () => {
  const v = maskJsonText(JSON.stringify({ gateway_token: 'gwt_abcdefghijklmnop', nested: JSON.stringify({ botToken: '123:abcdefghijklmnopqrstuvwxyzABCDEFGHIJ' }),
    any: 'sk-abcdefghijklmnopqrstuvwxyz', tg: '7000000123:AAHabcdefghijklmnopqrstuvwxyz0123', secrets: { k: 'v' }, total_tokens: 123, token_name: 'oc-1' })) as Record<string, unknown>;
  expect(v.gateway_token).toBe('****mnop');
  expect(JSON.parse(v.nested as string).botToken).toBe('****GHIJ');
  expect(v.any).toBe('****wxyz');
  expect(v.tg).toBe('****0123');
  expect(v.secrets).toBe('****');
  expect(v.total_tokens).toBe(123);
  expect(v.token_name).toBe('oc-1');
  expect(maskJsonText('token=abc')).toEqual({ unreadable: 'not JSON (9 bytes, not shown)' });
  expect(maskJsonText(null)).toBeNull();
});

test('timeWindow: open sides stay open; the usage forms for the given sides', () => {
  const now = new Date('2026-11-30T12:34:56.789Z');
  expect(timeWindow({}, 'UTC', now)).toEqual({});
  expect(timeWindow({ since: '7d' }, 'UTC', now)).toEqual({ from: new Date('2026-11-24T00:00:00Z') });
  expect(timeWindow({ until: '2026-11-01' }, 'UTC', now)).toEqual({ to: new Date('2026-11-02T00:00:00Z') });
  expect(timeWindow({ since: '2026-11-01', until: '2026-11-01' }, 'Asia/Shanghai', now))
    .toEqual({ from: new Date('2026-10-31T16:00:00Z'), to: new Date('2026-11-01T16:00:00Z') });
  expect(() => timeWindow({}, 'Mars/Base', now)).toThrow(/unknown time zone/);
  expect(() => timeWindow({ since: 'soon' }, 'UTC', now)).toThrow(/cannot read the date/);
});

test('parseMaxAge, jobKey, humanDuration, parseActions', () => {
  expect(parseMaxAge(['usage.rollup=26h,usage export=2h', 'x=90s'])).toEqual([
    { job: 'usage.rollup', max_age_seconds: 93600 }, { job: 'usage.export', max_age_seconds: 7200 }, { job: 'x', max_age_seconds: 90 }]);
  expect(() => parseMaxAge([])).toThrow(/--max-age JOB=AGE/);
  expect(() => parseMaxAge(['a=1h,a=2h'])).toThrow(/twice/);
  expect(jobKey(' Usage  Rollup ')).toBe('usage.rollup');
  expect([850, 12_345, 245_000, 26 * 3600_000, 3 * 86400_000 + 4 * 3600_000].map(humanDuration)).toEqual(['850 ms', '12.3 s', '4m 05s', '26h 00m', '3d 04h']);
  expect(parseActions(['instances.*,users.quota', 'keys.reveal'])).toEqual(['instances.*', 'users.quota', 'keys.reveal']);
  expect(parseActions(['*'])).toBeUndefined();
  expect(() => parseActions(['a*b'])).toThrow(/invalid --action/);
});

test('runIdOfMarker: the run of an id markerId made; none for a random UUID', async () => {
  const { runIdOfMarker } = await import('../../src/db/transaction.js');
  expect(runIdOfMarker('3f0c9a1e-5b2d-4c1a-9e7f-000001000002')).toBe('3f0c9a1e-5b2d-4c1a-9e7f');
  expect(runIdOfMarker('3f0c9a1e-5b2d-4c1a-9e7f-0003e80013a7')).toBe('3f0c9a1e-5b2d-4c1a-9e7f');
  for (const id of ['3f0c9a1e-5b2d-4c1a-9e7f-0a1b2c3d4e5f', '3f0c9a1e-5b2d-4c1a-9e7f-000000000001', 'not-an-id']) expect(runIdOfMarker(id)).toBeNull();
  // random UUIDs pass about 1 time in 65,536
  let passed = 0;
  for (let i = 0; i < 20000; i++) if (runIdOfMarker(crypto.randomUUID())) passed++;
  expect(passed).toBeLessThan(5);
});
