// Input rules for portal users and admin accounts, checked against plain oracles with fast-check:
// every rejection is a UsageError (exit 2), never another error; accepted values come back exact.
import fc from 'fast-check';
import { parseEmail, parseDepartment, parseName, parseQuota, BIGINT_MAX } from '../../src/fleet/users/registry.js';
import { parseRole, checkPassword } from '../../src/fleet/users/admins.js';
import { percent } from '../../src/fleet/users/show.js';
import { UsageError } from '../../src/errors.js';

const outcome = (f: () => unknown): unknown => {
  try { return f(); } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    expect(e.message.split('\n')).toHaveLength(1);
    return UsageError;
  }
};

test('quota: exactly the digit strings 0..BIGINT max, as an exact decimal string', () => {
  const oracle = (s: string) => (/^\d+$/.test(s.trim()) && BigInt(s.trim()) <= BIGINT_MAX ? BigInt(s.trim()).toString() : UsageError);
  fc.assert(fc.property(fc.oneof(fc.string(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom('1e5', '1.0', '-0', '+5', '0x10', '１２', '9223372036854775807', '9223372036854775808', ' 42 ', '')),
  (s) => { expect(outcome(() => parseQuota(s))).toBe(oracle(s)); }), { numRuns: 3000 });
  expect(parseQuota('9223372036854775807')).toBe('9223372036854775807');
  expect(parseQuota('007')).toBe('7');
});

test('email: accepted ones are lower-cased, contain one @ and no whitespace; everything else is a usage error', () => {
  fc.assert(fc.property(fc.oneof(fc.emailAddress(), fc.string(), fc.string({ unit: 'binary' })), (s) => {
    const r = outcome(() => parseEmail(s));
    if (r !== UsageError) {
      expect(r).toBe(s.toLowerCase());
      expect(s.split('@')).toHaveLength(2);
      expect(s).not.toMatch(/\s/);
      expect(s.length).toBeLessThanOrEqual(254);
    }
  }), { numRuns: 3000 });
  for (const ok of ['li.na@sayclaw.test', 'Zhang.Wei+ops@Example.COM', 'a_b-c@sub.example.cn']) expect(outcome(() => parseEmail(ok))).toBe(ok.toLowerCase());
  for (const bad of ['', 'plain', '@x.test', 'a@', 'a@b', 'a b@x.test', 'a@@x.test', 'a..b@x.test', '.a@x.test', '李娜@x.test', 'a@x.test\n', `${'a'.repeat(65)}@x.test`]) {
    expect(outcome(() => parseEmail(bad))).toBe(UsageError);
  }
});

test('department and name: Chinese kept byte for byte; control characters and edge spaces refused', () => {
  for (const ok of ['研发部', '市场部(华东)', 'R&D Platform', 'Operations', '人力资源部/招聘', '部'.repeat(100)]) expect(parseDepartment(ok)).toBe(ok);
  for (const bad of ['', ' 研发部', '研发部 ', '研发部\n', 'a;b', '<script>', '部'.repeat(101), '-x', 'a  b', '研发部🚀']) {
    expect(outcome(() => parseDepartment(bad))).toBe(UsageError);
  }
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (s) => {
    const r = outcome(() => parseName(s));
    if (r !== UsageError) {
      expect(Buffer.from(r as string, 'utf8').equals(Buffer.from(s, 'utf8'))).toBe(true);
      expect([...s].length).toBeLessThanOrEqual(100);
      expect(s).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
    outcome(() => parseDepartment(s));
  }), { numRuns: 3000 });
  for (const ok of ['欧阳娜娜', '王伟', 'Zhang Wei', '👩‍💻 李']) expect(parseName(ok)).toBe(ok);
});

test('role and password rules; messages never contain the password', () => {
  expect(parseRole('admin')).toBe('admin');
  for (const bad of ['', 'Admin', 'root admin', 'a'.repeat(21), '1admin']) expect(outcome(() => parseRole(bad))).toBe(UsageError);
  for (const bad of ['short-pw', '密'.repeat(25), 'has\u0000nul-xxxxxx']) {
    try { checkPassword(bad); throw new Error('accepted'); } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).not.toContain(bad);
    }
  }
  expect(() => checkPassword('long-enough-密码')).not.toThrow();
});

test('used percent: one decimal, rounded, exact for huge values', () => {
  expect(percent(1800n, 1000n)).toBe('180.0');
  expect(percent(1n, 3n)).toBe('33.3');
  expect(percent(2n, 3n)).toBe('66.7');
  expect(percent(5n, 0n)).toBeNull();
  expect(percent(BIGINT_MAX, BIGINT_MAX)).toBe('100.0');
});
