import fc from 'fast-check';
import { escapeLike, naturalCompare } from '../../src/db/sql-helpers.js';
import { maskSecret, maskDeep } from '../../src/output/mask.js';

test('escapeLike escapes !, % and _ only', () => {
  expect(escapeLike('a%b_c!d\\e')).toBe('a!%b!_c!!d\\e');
  fc.assert(fc.property(fc.string(), (s) => escapeLike(s).replace(/!(.)/g, '$1') === s));
});

test('natural sort puts -2-9 before -2-10 before -2-100', () => {
  const ids = ['oc-ai-jp-2-100', 'oc-ai-jp-2-10', 'oc-ai-jp-2-9', 'oc-ai-jp-2-01'];
  expect([...ids].sort(naturalCompare)).toEqual(['oc-ai-jp-2-01', 'oc-ai-jp-2-9', 'oc-ai-jp-2-10', 'oc-ai-jp-2-100']);
});

test('natural order is a total order consistent with numbers in ids', () => {
  expect(['b2', 'a10', 'a9', 'a09', 'a', 'a1b', 'A1'].sort(naturalCompare)).toEqual(['A1', 'a', 'a1b', 'a09', 'a9', 'a10', 'b2']);
  const id = fc.stringMatching(/^[a-c0-9-]{0,8}$/);
  fc.assert(fc.property(id, id, (x, y) => Math.sign(naturalCompare(x, y)) === -Math.sign(naturalCompare(y, x))));
  fc.assert(fc.property(id, id, (x, y) => (naturalCompare(x, y) === 0) === (x === y)));
  fc.assert(fc.property(fc.nat(100000), fc.nat(100000), (m, n) => Math.sign(naturalCompare(`oc-${m}`, `oc-${n}`)) === Math.sign(m - n)));
});

test('masking hides secrets by field name, keeps counters', () => {
  expect(maskSecret('gwt_0123456789abcdef')).toBe('****cdef');
  expect(maskSecret('short')).toBe('****');
  const m = maskDeep({ gateway_token: 'gwt_0123456789abcdef', total_tokens: '5', token_name: 'oc-x', nested: { botToken: '123:abcdefghijk', apiKey: 'sk-abcdefghijklmnop' } });
  expect(m).toEqual({ gateway_token: '****cdef', total_tokens: '5', token_name: 'oc-x', nested: { botToken: '****hijk', apiKey: '****mnop' } });
});
