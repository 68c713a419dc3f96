// The raw export's byte path (MySQL rows written from their wire bytes) against the string path
// it replaces: ByteRows cells against Encoder.row() in every format (quotes, commas, CR/LF,
// control characters, backslashes, Chinese, emoji, invalid UTF-8), the text-protocol cell
// splitter against an encoder of the protocol, the per-row cost writer against costUsd (BigInt,
// itself tested against decimal.js), and whole rows (crafted packets through rawMysqlRows into
// the real sink) against the row the mysql2 path builds from the same values.
import fc from 'fast-check';
import { ByteRows } from '../../src/output/byte-rows.js';
import { encoder, openSink, type Cell, type DataFormat } from '../../src/output/sink.js';
import { rawIntegerColumn, rawTextColumn, readCells, type RawColumn } from '../../src/db/mysql-raw.js';
import { costBytesWriter, costUsd, parseQuotaRate, type QuotaRate } from '../../src/fleet/usage/money.js';
import { isoFormatter, rawMysqlRows, RAW_COLUMNS } from '../../src/fleet/usage/export.js';
import { UNMAPPED_ATTRIBUTION, type Attribution } from '../../src/fleet/usage/mapping.js';

const FORMATS: DataFormat[] = ['csv', 'json', 'ndjson'];
const HOSTILE = ['a,b', 'say "hi"', 'line\nbreak', 'cr\rlf\r\n', 'back\\slash', 'tab\there', '\u0001\u001f\u007f', '研发部,"北京"', '😀 emoji', '', ' ', 'plain'];
/** text cells: hostile pieces, any code point, any byte 0-255 as a character */
const textCell = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'binary-ascii', maxLength: 30 }));
const cell = fc.option(textCell, { nil: null });

/** Build one row through ByteRows: every cell text (from its UTF-8 bytes), or plain digits. */
function byteRow(w: ByteRows, cells: Array<{ v: Buffer | null; plain: boolean }>): Buffer {
  const out = Buffer.alloc(w.room(cells.reduce((a, c) => a + (c.v?.length ?? 0), 0), 0));
  let at = w.open(out, 0);
  cells.forEach((c, i) => {
    if (c.v === null) at = w.nullCell(i, out, at);
    else at = c.plain ? w.plain(i, c.v, 0, c.v.length, out, at) : w.text(i, c.v, 0, c.v.length, out, at);
  });
  return out.subarray(0, w.end(out, at));
}

test('ByteRows writes every cell exactly as Encoder.row does, in every format, across rows (JSON separators)', () => {
  for (const format of FORMATS) {
    fc.assert(fc.property(fc.array(fc.array(fc.oneof(cell.map((v) => ({ v, plain: false })), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((n) => ({ v: String(n), plain: true }))),
      { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), (rows) => {
      const cols = rows[0]!.map((_, i) => `c${i}`);
      const plain = rows[0]!.map((c) => c.plain);
      const strEnc = encoder(format, cols, plain);
      const byteEnc = encoder(format, cols, plain);
      const w = new ByteRows(byteEnc.parts);
      const fit = rows.map((r) => cols.map((_, i) => r[i] ?? { v: null, plain: plain[i]! }).map((c, i) => (c.plain === plain[i] ? c : { v: null, plain: plain[i]! })));
      const want = strEnc.head() + fit.map((r) => strEnc.row(r.map((c) => c.v))).join('') + strEnc.tail();
      const got = byteEnc.head() + fit.map((r) => byteRow(w, r.map((c) => ({ v: c.v === null ? null : Buffer.from(c.v, 'utf8'), plain: c.plain }))).toString('utf8')).join('') + byteEnc.tail();
      expect(got).toBe(want);
    }), { numRuns: 300 });
  }
});

test('ByteRows: a cell that is not valid UTF-8 is written as the decoded string would be (U+FFFD), never as raw bytes', () => {
  for (const format of FORMATS) {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const b = Buffer.from(bytes);
      const enc = encoder(format, ['x']);
      const want = enc.row([b.toString('utf8')]);
      const got = byteRow(new ByteRows(encoder(format, ['x']).parts), [{ v: b, plain: false }]);
      expect(got.equals(Buffer.from(want, 'utf8'))).toBe(true);
    }), { numRuns: 400 });
  }
});

test('segment(): cells from strings, as row() writes them', () => {
  for (const format of FORMATS) {
    fc.assert(fc.property(fc.array(cell, { minLength: 4, maxLength: 4 }), (cells) => {
      const enc = encoder(format, ['a', 'b', 'c', 'd', 'e']);
      const w = new ByteRows(encoder(format, ['a', 'b', 'c', 'd', 'e']).parts);
      const row = enc.row(['', ...cells]);
      const tail = Buffer.from(w.segment(1, cells as Cell[])).toString('utf8');
      expect(row.endsWith(tail + enc.parts.close)).toBe(true);
    }), { numRuns: 200 });
  }
});

/** A MySQL text-protocol row: each cell length-coded (1, 3, 4 or 9 bytes), NULL as 0xfb. */
function packet(cells: Array<Buffer | null>, wide = false): Buffer {
  const parts: Buffer[] = [];
  for (const c of cells) {
    if (c === null) { parts.push(Buffer.from([0xfb])); continue; }
    const n = c.length;
    if (n < 251 && !wide) parts.push(Buffer.from([n]));
    else if (n < 0x10000 && !wide) parts.push(Buffer.from([0xfc, n & 0xff, n >> 8]));
    else if (n < 0x1000000 && !wide) parts.push(Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]));
    else { const l = Buffer.alloc(9); l[0] = 0xfe; l.writeUInt32LE(n, 1); parts.push(l); }
    parts.push(c);
  }
  return Buffer.concat(parts);
}

test('readCells splits text-protocol rows (every length encoding, NULL) and refuses rows that do not hold the cells exactly', () => {
  fc.assert(fc.property(fc.array(fc.option(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(70000))), { nil: null }), { minLength: 1, maxLength: 12 }),
    fc.boolean(), fc.nat(8), (cells, wide, lead) => {
      const bufs = cells.map((c) => (c === null ? null : Buffer.from(c)));
      const p = Buffer.concat([Buffer.alloc(lead, 0xee), packet(bufs, wide)]);
      const got = new Int32Array(cells.length * 2);
      expect(readCells(p, lead, p.length, got)).toBe(true);
      bufs.forEach((b, i) => {
        if (b === null) expect([got[2 * i], got[2 * i + 1]]).toEqual([-1, -1]);
        else expect(p.subarray(got[2 * i]!, got[2 * i + 1]!).equals(b)).toBe(true);
      });
      // one cell fewer or more than the packet holds; a truncated packet
      expect(readCells(p, lead, p.length, new Int32Array((cells.length + 1) * 2))).toBe(false);
      if (cells.length > 1) expect(readCells(p, lead, p.length, new Int32Array((cells.length - 1) * 2))).toBe(false);
      expect(readCells(p, lead, p.length - 1, new Int32Array(cells.length * 2))).toBe(false);
    }), { numRuns: 300 });
});

const RATES = ['500000', '7.5', '1', '3', '0.002', '123456.789', '300000', '0.000001', '999999999', '1000000.5', '2000000', '64000000', '24000000', '0.6', '1e-12', '98765432109876.5'].map((r) => parseQuotaRate(r, 'test')!);
const writeCost = (rate: QuotaRate, q: number) => {
  const out = Buffer.alloc(200);
  return out.toString('latin1', 0, costBytesWriter(rate)(q, out, 0));
};

test('the per-row cost writer equals costUsd (exact BigInt) for every rate and quota, also at and past the safe-integer limit', () => {
  for (const rate of RATES) {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(0, -0, 1, -1, 499999, 500000, 250000, -250000, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER)), (q) => {
      expect(writeCost(rate, q)).toBe(costUsd(BigInt(q), rate));
    }), { numRuns: 3000 });
    // around where the Number path ends (2 |q| mul + div < 2^53): both sides of it
    const g = (a: bigint, b: bigint): bigint => (b ? g(b, a % b) : a);
    const mul = (rate.den * 1_000_000n) / g(rate.den * 1_000_000n, rate.num);
    const div = rate.num / g(rate.den * 1_000_000n, rate.num);
    const limit = (2n ** 53n - 1n - div) / (2n * mul);
    for (let d = -3n; d <= 3n; d++) {
      const q = limit + d;
      if (q > BigInt(Number.MAX_SAFE_INTEGER) || q < 0n) continue;
      expect(writeCost(rate, Number(q))).toBe(costUsd(q, rate));
      expect(writeCost(rate, -Number(q))).toBe(costUsd(-q, rate));
    }
  }
});

// mysql2 ColumnDefinition shapes (types: LONGLONG 8, LONG 3, NEWDECIMAL 246, VAR_STRING 253, BLOB 252, JSON 245)
const col = (columnType: number, o: Partial<RawColumn> = {}): RawColumn => ({ name: 'x', columnType, flags: 0, characterSet: 224, encoding: 'utf8', ...o });

test('the byte path only takes integer columns without ZEROFILL and UTF-8 (or binary) text', () => {
  expect(rawIntegerColumn(col(8))).toBe(true);
  expect(rawIntegerColumn(col(3))).toBe(true);
  expect(rawIntegerColumn(col(8, { flags: 0x40 }))).toBe(false); // ZEROFILL: mysql2's number drops the zeros
  expect(rawIntegerColumn(col(246))).toBe(false);
  expect(rawIntegerColumn(col(253))).toBe(false);
  expect(rawTextColumn(col(253))).toBe(true);
  expect(rawTextColumn(col(252, { characterSet: 63, encoding: 'binary' }))).toBe(true);
  expect(rawTextColumn(col(253, { characterSet: 8, encoding: 'latin1' }))).toBe(false);
  expect(rawTextColumn(col(252, { extendedFormat: 'json' }))).toBe(false); // MariaDB's JSON alias: mysql2 parses it
  expect(rawTextColumn(col(245))).toBe(false);
  expect(rawTextColumn(col(8))).toBe(false);
});

const digits = (n: bigint | number) => Buffer.from(String(n), 'latin1');
const ATTR: Record<string, Attribution> = {
  'oc-a': { instance_id: 'oc-a', user_id: 'u-1', user_email: '"x,y"@a.test', user_name: null, department: '研发部,\n"R&D"' },
  'oc-b': { instance_id: 'oc-b', user_id: 'u-2', user_email: null, user_name: null, department: '(none)' },
};

test('whole rows: crafted MySQL packets through rawMysqlRows into the real sink equal the rows the mysql2 path writes', async () => {
  const plain = RAW_COLUMNS.map((c) => ['source', 'id', 'created_at', 'type', 'channel_id', 'prompt_tokens', 'completion_tokens', 'quota', 'cost_usd'].includes(c));
  const int = (min: bigint, max: bigint) => fc.bigInt({ min, max });
  const row = fc.record({
    id: int(1n, 2n ** 63n - 1n), created_at: fc.option(int(1_600_000_000n, 1_900_000_000n), { nil: null }), type: int(0n, 6n),
    token: cell, instance: fc.option(fc.constantFrom('oc-a', 'oc-b', 'oc-missing', '研发-实例'), { nil: null }), model: cell,
    channel: fc.option(int(0n, 99n), { nil: null }), pt: int(0n, 10n ** 7n), ct: int(0n, 10n ** 7n),
    quota: fc.option(fc.oneof(int(-(10n ** 6n), 10n ** 7n), int(-(10n ** 19n), 10n ** 19n)), { nil: null }),
  });
  for (const format of FORMATS) {
    for (const zone of ['UTC', 'Europe/Berlin', 'Asia/Kathmandu']) {
      await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 30 }), fc.constantFrom(...RATES), async (rows, rate) => {
        const chunks: Buffer[] = [];
        const sink = await openSink({ stdout: { write: (b: string | Uint8Array) => { chunks.push(Buffer.from(b)); return true; } }, cwd: process.cwd(),
          signal: new AbortController().signal, onClose: () => undefined }, undefined);
        const enc = encoder(format, [...RAW_COLUMNS], plain);
        const iso = isoFormatter(zone);
        const w = rawMysqlRows(enc.parts, iso, rate, (i) => (i === null ? UNMAPPED_ATTRIBUTION : ATTR[i] ?? UNMAPPED_ATTRIBUTION), sink);
        await sink.write(enc.head());
        for (const r of rows) {
          const cells = [digits(r.id), r.created_at === null ? null : digits(r.created_at), digits(r.type), r.token === null ? null : Buffer.from(r.token, 'utf8'),
            r.instance === null ? null : Buffer.from(r.instance, 'utf8'), r.model === null ? null : Buffer.from(r.model, 'utf8'),
            r.channel === null ? null : digits(r.channel), digits(r.pt), digits(r.ct), r.quota === null ? null : digits(r.quota)];
          // the packet inside a bigger buffer, as mysql2 hands it over
          const p = Buffer.concat([Buffer.from([1, 2, 3]), packet(cells), Buffer.from([9])]);
          if (!w.row(p, 3, p.length - 1)) await sink.drained();
        }
        await sink.write(enc.tail());
        await sink.commit();
        // the oracle: the mysql2 path's row, from the values mysql2 would have given
        const oracle = encoder(format, [...RAW_COLUMNS], plain);
        const want = oracle.head() + rows.map((r) => {
          const a = r.instance === null ? UNMAPPED_ATTRIBUTION : ATTR[r.instance] ?? UNMAPPED_ATTRIBUTION;
          const s = (v: bigint | null) => (v === null ? null : String(v));
          return oracle.row(['mysql', s(r.id), isoFormatter(zone)(s(r.created_at)), s(r.type), r.token, a.instance_id, a.user_id, a.user_email, a.department,
            r.model, s(r.channel), s(r.pt), s(r.ct), s(r.quota), r.quota === null ? null : costUsd(r.quota, rate)]);
        }).join('') + oracle.tail();
        expect(Buffer.concat(chunks).toString('utf8')).toBe(want);
      }), { numRuns: 40 });
    }
  }
});

test('the sink takes byte rows across chunk boundaries and rows bigger than a chunk', async () => {
  const chunks: Buffer[] = [];
  const sink = await openSink({ stdout: { write: (b: string | Uint8Array) => { chunks.push(Buffer.from(b)); return true; } }, cwd: process.cwd(),
    signal: new AbortController().signal, onClose: () => undefined }, undefined);
  const want: Buffer[] = [];
  for (const n of [10, 200_000, 100_000, 300_000, 5, 1_000_000, 70_000]) {
    const b = Buffer.alloc(n, 0x61 + (n % 26));
    want.push(b);
    sink.pushBytes(n + 100, (out, at) => at + b.copy(out, at));
  }
  await sink.commit();
  expect(Buffer.concat(chunks).equals(Buffer.concat(want))).toBe(true);
  // a writer that runs past the room it asked for fails instead of corrupting the next chunk
  expect(() => sink.pushBytes(4, (_out, at) => at + 5)).toThrow(/overran/);
});

test('a file sink reuses a chunk only once it is written: a burst of rows pushed without waiting lands intact', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sayclaw-sink-reuse-'));
  try {
    for (let round = 0; round < 5; round++) {
      const sink = await openSink({ stdout: { write: () => true }, cwd: dir, signal: new AbortController().signal, onClose: () => undefined }, 'out.bin');
      const want: Buffer[] = [];
      // 60 x 100 KB, each its own byte, pushed in one go (backpressure ignored): many chunks in flight
      for (let i = 0; i < 60; i++) {
        const b = Buffer.alloc(100_000, (i * 7 + round) % 251);
        want.push(b);
        sink.pushBytes(b.length, (out, at) => at + b.copy(out, at));
        if (i % 20 === 19) await new Promise((r) => setImmediate(r)); // let some writes finish: their chunks come back
      }
      await sink.commit();
      expect(readFileSync(join(dir, 'out.bin')).equals(Buffer.concat(want))).toBe(true);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
