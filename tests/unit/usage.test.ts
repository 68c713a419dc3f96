// Property tests for the usage building blocks: exact money against decimal.js, period
// buckets in DST zones against a plain Intl oracle, the range parser, CSV fields, cut-over split.
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { costUsd, addMoney, toMicros, formatMicros } from '../../src/fleet/usage/money.js';
import { buckets, parseRange } from '../../src/fleet/usage/range.js';
import { csvField, encoder } from '../../src/output/sink.js';
import { splitAt } from '../../src/fleet/usage/sources.js';
import { parseGroups, parseTypes } from '../../src/fleet/usage/report.js';
import { parseThreshold } from '../../src/fleet/usage/quota.js';

const D = Decimal.clone({ precision: 80, rounding: Decimal.ROUND_HALF_UP });

test('costUsd equals decimal.js quota / quotaPerUsd rounded half away from zero to 6 places', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 1, max: 10_000_000 }), (q, per) => {
    const want = new D(q.toString()).div(per).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed(6);
    expect(costUsd(q, per)).toBe(want === '-0.000000' ? '0.000000' : want);
  }), { numRuns: 2000 });
});

test('money strings add exactly', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (a, b) => {
    expect(toMicros(addMoney(formatMicros(a), formatMicros(b)))).toBe(a + b);
  }));
});

const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Shanghai', 'Australia/Lord_Howe', 'UTC', 'America/Sao_Paulo'];
const dayFmt = (zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });

test('day buckets: contiguous, cover the range, and every second falls in the bucket of its local day (Intl oracle)', () => {
  fc.assert(fc.property(fc.constantFrom(...zones), fc.integer({ min: 1735689600, max: 1798761600 }), fc.integer({ min: 1, max: 40 * 86400 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (zone, from, len, probes) => {
      const r = { from, to: from + len, zone };
      const bs = buckets(r, 'day');
      expect(bs[0]!.start).toBe(from);
      expect(bs[bs.length - 1]!.end).toBe(from + len);
      for (let i = 1; i < bs.length; i++) expect(bs[i]!.start).toBe(bs[i - 1]!.end);
      const f = dayFmt(zone);
      for (const p of probes) {
        const t = from + Math.floor(p * (len - 1));
        const b = bs.find((x) => t >= x.start && t < x.end)!;
        expect(b.label).toBe(f.format(new Date(t * 1000)));
      }
    }), { numRuns: 300 });
});

test('the DST days: 25 hours in autumn, 23 in spring (Berlin and New York)', () => {
  const len = (zone: string, day: string) => {
    const r = parseRange({ date: day }, zone, new Date('2026-12-01T00:00:00Z'));
    return (r.to - r.from) / 3600;
  };
  expect(len('Europe/Berlin', '2026-10-25')).toBe(25);
  expect(len('Europe/Berlin', '2026-03-29')).toBe(23);
  expect(len('America/New_York', '2026-11-01')).toBe(25);
  expect(len('America/New_York', '2026-03-08')).toBe(23);
  const w = buckets(parseRange({ since: '2026-10-19', until: '2026-11-01' }, 'Europe/Berlin', new Date('2026-12-01T00:00:00Z')), 'week');
  expect(w.map((b) => [b.label, (b.end - b.start) / 3600])).toEqual([['2026-10-19', 169], ['2026-10-26', 168]]);
});

test('range expressions', () => {
  const now = new Date('2026-11-20T15:00:00Z'); // 16:00 in Berlin
  const z = 'Europe/Berlin';
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const r = (o: Parameters<typeof parseRange>[0]) => { const x = parseRange(o, z, now); return [iso(x.from), iso(x.to)]; };
  // --since starts the range; it runs to now unless --until ends it (a named day/week/month alone is not one period)
  const now_ = '2026-11-20T15:00:00.000Z';
  expect(r({ since: 'yesterday' })).toEqual(['2026-11-18T23:00:00.000Z', now_]);
  expect(r({ since: '2026-11-01' })).toEqual(['2026-10-31T23:00:00.000Z', now_]);
  expect(r({ since: '2026-11' })).toEqual(['2026-10-31T23:00:00.000Z', now_]);
  expect(r({ since: 'last-week' })).toEqual(['2026-11-08T23:00:00.000Z', now_]);
  expect(r({ since: '7d' })).toEqual(['2026-11-13T23:00:00.000Z', now_]);
  expect(r({ since: 'this-month' })).toEqual(['2026-10-31T23:00:00.000Z', now_]);
  expect(r({ since: 'last-month' })).toEqual(['2026-09-30T22:00:00.000Z', now_]);
  expect(r({ since: '2026-11-20T10:00' })).toEqual(['2026-11-20T09:00:00.000Z', now_]);
  // one period: the same name on both ends (--until is inclusive)
  expect(r({ since: 'yesterday', until: 'yesterday' })).toEqual(['2026-11-18T23:00:00.000Z', '2026-11-19T23:00:00.000Z']);
  expect(r({ since: 'last-month', until: 'last-month' })).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
  expect(r({ since: '2026-11-01', until: '2026-11-01' })).toEqual(['2026-10-31T23:00:00.000Z', '2026-11-01T23:00:00.000Z']);
  expect(r({ date: 'yesterday' })).toEqual(['2026-11-18T23:00:00.000Z', '2026-11-19T23:00:00.000Z']);
  // a --since in the future is an empty range: refused
  expect(() => parseRange({ since: '2026-11-21' }, z, now)).toThrow(/empty or reversed/);
  expect(r({ since: '2026-10-01', until: '2026-10-31' })).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
  expect(r({ since: '2026-11', until: 'now' })).toEqual(['2026-10-31T23:00:00.000Z', '2026-11-20T15:00:00.000Z']);
  expect(r({ since: '@1763000000', until: '@1763003600' })).toEqual([iso(1763000000), iso(1763000000 + 3600)].map((x) => x));
  for (const bad of [{ since: '2026-02-30' }, { since: 'soon' }, { since: '0d' }, { since: '2026-11-10', until: '2026-11-01' }, { date: '7d' }]) {
    expect(() => parseRange(bad, z, now)).toThrow();
  }
  expect(() => parseRange({}, 'Not/AZone', now)).toThrow(/unknown time zone/);
});

test('CSV fields follow RFC 4180; the plain-column fast path gives the same text for safe values', () => {
  expect(csvField('a,b')).toBe('"a,b"');
  expect(csvField('say "hi"')).toBe('"say ""hi"""');
  expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  expect(csvField(null)).toBe('');
  expect(encoder('csv', ['a', 'b'], [true, false]).row(['12', 'x,y'])).toBe('12,"x,y"\r\n');
  fc.assert(fc.property(fc.array(fc.option(fc.string(), { nil: null }), { minLength: 1, maxLength: 6 }), (vals) => {
    const line = encoder('csv', vals.map((_, i) => `c${i}`)).row(vals);
    // parse back with a minimal RFC 4180 reader
    const out: Array<string | null> = [];
    let i = 0;
    const s = line.slice(0, -2);
    while (i <= s.length) {
      if (s[i] === '"') {
        let v = '';
        i++;
        for (;;) { if (s[i] === '"' && s[i + 1] === '"') { v += '"'; i += 2; } else if (s[i] === '"') { i++; break; } else v += s[i++]; }
        out.push(v); i++;
      } else { const j = s.indexOf(',', i); const e = j < 0 ? s.length : j; out.push(s.slice(i, e)); i = e + 1; }
    }
    expect(out).toEqual(vals.map((v) => v ?? ''));
  }));
});

test('cut-over split: every second goes to exactly one source', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 200 }), (cut, from, len) => {
    const s = splitAt(cut, from, from + len);
    for (let t = from; t < from + len; t++) {
      const inPg = !!s.pg && t >= s.pg.from && t < s.pg.to;
      const inMy = !!s.mysql && t >= s.mysql.from && t < s.mysql.to;
      expect(inPg !== inMy).toBe(true);
      expect(inPg).toBe(t <= cut);
    }
  }), { numRuns: 300 });
});

test('flag parsers', () => {
  expect(parseGroups(['user,model', 'user'])).toEqual(['user', 'model']);
  expect(() => parseGroups('planet')).toThrow(/unknown group "planet"/);
  expect(parseTypes(undefined)).toEqual([2]);
  expect(parseTypes('2,6')).toEqual([2, 6]);
  expect(() => parseTypes('x')).toThrow();
  expect(parseThreshold('80%')).toBe(8000n);
  expect(parseThreshold('92.5')).toBe(9250n);
  expect(() => parseThreshold('-1')).toThrow();
});

test('raw export times: ISO with the zone offset of that instant, also across DST and half-hour transitions (luxon oracle)', async () => {
  const { DateTime } = await import('luxon');
  const { isoFormatter } = await import('../../src/fleet/usage/export.js');
  // Lord Howe moves by 30 minutes at 15:00/15:30 UTC; Kathmandu is +05:45; St John's -03:30
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Asia/Shanghai'];
  const edges = [Date.UTC(2026, 3, 4, 15, 0), Date.UTC(2026, 9, 3, 15, 30), Date.UTC(2026, 9, 25, 1, 0), Date.UTC(2026, 2, 8, 7, 0)].map((ms) => ms / 1000);
  for (const zone of zones) {
    const iso = isoFormatter(zone);
    // a zero offset may be written Z or +00:00
    const norm = (s: string | null) => s?.replace(/Z$/, '+00:00');
    const want = (u: number) => norm(DateTime.fromSeconds(u, { zone }).toISO({ suppressMilliseconds: true, includeOffset: true }));
    for (const e of edges) for (let d = -7200; d <= 7200; d += 59) expect(norm(iso(String(e + d)))).toBe(want(e + d));
    fc.assert(fc.property(fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), (u) => { expect(norm(iso(String(u)))).toBe(want(u)); }), { numRuns: 300 });
  }
});

test('the export sink writes exactly the UTF-8 of what it was given, across chunk boundaries (Chinese, emoji, huge strings)', async () => {
  const { openSink } = await import('../../src/output/sink.js');
  const piece = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('研发部,', '😀', '"a,b"\r\n', 'x'.repeat(100_000), '市场部'.repeat(40_000)));
  await fc.assert(fc.asyncProperty(fc.array(piece, { maxLength: 400 }), async (parts) => {
    const chunks: Buffer[] = [];
    const sink = await openSink({ stdout: { write: (b: string | Uint8Array) => { chunks.push(Buffer.from(b)); return true; } }, cwd: process.cwd(), signal: new AbortController().signal, onClose: () => undefined }, undefined);
    for (const p of parts) { if (!sink.push(p)) await sink.drained(); }
    await sink.commit();
    expect(Buffer.concat(chunks).equals(Buffer.from(parts.join(''), 'utf8'))).toBe(true);
    // every chunk holds whole characters
    for (const c of chunks) expect(Buffer.from(c.toString('utf8'), 'utf8').equals(c)).toBe(true);
  }), { numRuns: 60 });
  // and to a file: the temporary file renamed into place holds the same bytes
  const { mkdtempSync, readFileSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sayclaw-sink-'));
  try {
    await fc.assert(fc.asyncProperty(fc.array(piece, { maxLength: 200 }), async (parts) => {
      const sink = await openSink({ stdout: { write: () => true }, cwd: dir, signal: new AbortController().signal, onClose: () => undefined }, 'out.csv');
      for (const p of parts) { if (!sink.push(p)) await sink.drained(); }
      await sink.commit();
      expect(readFileSync(join(dir, 'out.csv')).equals(Buffer.from(parts.join(''), 'utf8'))).toBe(true);
      expect(readdirSync(dir)).toEqual(['out.csv']);
    }), { numRuns: 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
