// AES-256-GCM stored format, master key parsing, fingerprints and exact money: pure functions,
// with fast-check properties against plain oracles.
import fc from 'fast-check';
import { randomBytes, createHash } from 'node:crypto';
import {
  aadFor, decryptSecret, DecryptError, encryptSecret, masterKeyId, parseMasterKey, secretFingerprint, fingerprintHash,
  MasterKeyFormatError,
} from '../../src/crypto/aesgcm.js';
import { quotaToUsd, parseDurationSeconds, effectiveStatus, tokenStatusName } from '../../src/fleet/keys/oneapi-tokens.js';

const K = randomBytes(32);

describe('stored format', () => {
  test('round trip; layout is 0x01 | iv(12) | tag(16) | ct; a fresh IV every time', () => {
    const aad = aadFor('id-1', 'openai');
    const a = encryptSecret(K, 'sk-hello-世界-123456', aad);
    const b = encryptSecret(K, 'sk-hello-世界-123456', aad);
    expect(a).not.toBe(b);
    const raw = Buffer.from(a, 'base64');
    expect(raw[0]).toBe(1);
    expect(raw.length).toBe(1 + 12 + 16 + Buffer.byteLength('sk-hello-世界-123456'));
    expect(decryptSecret(K, a, aad)).toBe('sk-hello-世界-123456');
  });

  test('every single-bit flip anywhere in the blob is refused', () => {
    const aad = aadFor('id-2', 'anthropic');
    const blob = encryptSecret(K, 'sk-ant-0123456789abcdef', aad);
    const raw = Buffer.from(blob, 'base64');
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const t = Buffer.from(raw); t[i]! ^= bit;
        expect(() => decryptSecret(K, t.toString('base64'), aad)).toThrow(DecryptError);
      }
    }
  });

  test('another key, another id or provider (AAD), truncation and junk are refused with a reason', () => {
    const aad = aadFor('id-3', 'openai');
    const blob = encryptSecret(K, 'sk-0123456789', aad);
    const reason = (f: () => unknown) => { try { f(); return 'none'; } catch (e) { return (e as DecryptError).reason; } };
    expect(reason(() => decryptSecret(randomBytes(32), blob, aad))).toBe('authentication');
    expect(reason(() => decryptSecret(K, blob, aadFor('id-4', 'openai')))).toBe('authentication');
    expect(reason(() => decryptSecret(K, blob, aadFor('id-3', 'deepseek')))).toBe('authentication');
    expect(reason(() => decryptSecret(K, Buffer.from(blob, 'base64').subarray(0, 29).toString('base64'), aad))).toBe('malformed');
    expect(reason(() => decryptSecret(K, 'not base64 !!', aad))).toBe('malformed');
    const v2 = Buffer.from(blob, 'base64'); v2[0] = 2;
    expect(reason(() => decryptSecret(K, v2.toString('base64'), aad))).toBe('unknown_version');
  });

  test('property: any secret round-trips and never appears in the blob', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.uuid(), (s, id) => {
      const blob = encryptSecret(K, s, aadFor(id, 'p'));
      expect(decryptSecret(K, blob, aadFor(id, 'p'))).toBe(s);
      if (s.length >= 4) expect(blob.includes(s)).toBe(false);
    }), { numRuns: 300 });
  });
});

describe('master key parsing', () => {
  test('hex, base64 and url-safe base64, whitespace ignored', () => {
    expect(parseMasterKey(`  ${K.toString('hex')}\n`)).toEqual(K);
    expect(parseMasterKey(K.toString('hex').toUpperCase())).toEqual(K);
    expect(parseMasterKey(`${K.toString('base64').slice(0, 20)}\n  ${K.toString('base64').slice(20)}\n`)).toEqual(K);
    expect(parseMasterKey(K.toString('base64url'))).toEqual(K);
  });
  test('wrong lengths and junk are refused without quoting the text', () => {
    for (const bad of ['', '   ', 'ab'.repeat(31), 'ab'.repeat(33), randomBytes(16).toString('base64'), randomBytes(48).toString('base64'), 'not a key!']) {
      try { parseMasterKey(bad); throw new Error('accepted'); } catch (e) {
        expect(e).toBeInstanceOf(MasterKeyFormatError);
        if (bad.trim().length > 3) expect((e as Error).message).not.toContain(bad.trim());
      }
    }
  });
  test('property: 32 random bytes survive hex and base64 with any whitespace', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.constantFrom(' ', '\n', '\t', '\r\n'), { maxLength: 5 }), (bytes, ws) => {
      const b = Buffer.from(bytes);
      const sprinkle = (s: string) => ws.reduce((acc, w, i) => { const at = Math.floor((acc.length * (i + 1)) / (ws.length + 1)); return acc.slice(0, at) + w + acc.slice(at); }, s);
      expect(parseMasterKey(sprinkle(b.toString('hex')))).toEqual(b);
      expect(parseMasterKey(sprinkle(b.toString('base64')))).toEqual(b);
    }));
  });
  test('master key id is stable, 8 hex, and differs between keys', () => {
    expect(masterKeyId(K)).toMatch(/^[0-9a-f]{8}$/);
    expect(masterKeyId(Buffer.from(K))).toBe(masterKeyId(K));
    expect(masterKeyId(randomBytes(32))).not.toBe(masterKeyId(K));
  });
});

describe('fingerprints', () => {
  test('vendor prefix, last 4 and sha256/8; fits key_hint varchar(32)', () => {
    const s = 'sk-ant-api03-abcdefghijklmnop-WXYZ';
    const h = createHash('sha256').update(s).digest('hex').slice(0, 8);
    expect(secretFingerprint(s)).toBe(`sk-ant-...WXYZ ${h}`);
    expect(secretFingerprint('AIzaSyAbcdefghijklmnopqrstuvwxyz')).toMatch(/^\.\.\.wxyz [0-9a-f]{8}$/);
    expect(fingerprintHash(secretFingerprint(s))).toBe(h);
    fc.assert(fc.property(fc.string({ minLength: 8, maxLength: 300 }), (x) => {
      const f = secretFingerprint(x);
      expect(f.length).toBeLessThanOrEqual(32);
      expect(x.length < 12 || !f.includes(x)).toBe(true);
    }));
  });
});

describe('money and token facts', () => {
  test('quotaToUsd is exact: BigInt oracle for quotaPerUsd 500000', () => {
    const oracle = (q: bigint) => {
      const neg = q < 0n; const a = neg ? -q : q;
      const micro = a * 2n; // 1 quota = 0.000002 USD exactly
      const s = `${micro / 1000000n}.${String(micro % 1000000n).padStart(6, '0')}`;
      return neg && micro !== 0n ? `-${s}` : s;
    };
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (q) => {
      expect(quotaToUsd(q.toString(), 500000)).toBe(oracle(q));
    }), { numRuns: 500 });
    expect(quotaToUsd('9007199254740993', 500000)).toBe('18014398509.481986');
    expect(quotaToUsd(null, 500000)).toBeNull();
  });
  test('other quotaPerUsd values round half away from zero to 6 places, like the usage reports', () => {
    expect(quotaToUsd('1', 300000)).toBe('0.000003');
    expect(quotaToUsd('500000', 300000)).toBe('1.666667');
    expect(quotaToUsd('1', 2000000)).toBe('0.000001'); // 0.0000005 -> 0.000001
    expect(quotaToUsd('3', 2000000)).toBe('0.000002'); // 0.0000015 -> 0.000002
    expect(quotaToUsd('-1', 2000000)).toBe('-0.000001');
  });
  test('durations and status names', () => {
    expect(parseDurationSeconds('7d')).toBe(604800);
    expect(parseDurationSeconds('12h')).toBe(43200);
    expect(parseDurationSeconds('2w')).toBe(1209600);
    expect(() => parseDurationSeconds('7 days')).toThrow(/invalid duration/);
    expect(['1', '2', '3', '4', '9', null].map((x) => tokenStatusName(x))).toEqual(['enabled', 'disabled', 'expired', 'exhausted', 'unknown(9)', 'unknown']);
    const now = new Date(Date.UTC(2026, 0, 1));
    const sec = now.getTime() / 1000;
    expect(effectiveStatus({ status: '1', expired_time: String(sec), remain_quota: '5', unlimited_quota: 0 }, now)).toBe('expired');
    expect(effectiveStatus({ status: '1', expired_time: '-1', remain_quota: '0', unlimited_quota: 0 }, now)).toBe('exhausted');
    expect(effectiveStatus({ status: '1', expired_time: '-1', remain_quota: '0', unlimited_quota: 1 }, now)).toBe('enabled');
    expect(effectiveStatus({ status: '2', expired_time: '1', remain_quota: '0', unlimited_quota: 0 }, now)).toBe('disabled');
  });
});
