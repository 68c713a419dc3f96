// The renderer without a database: the text table (widths, CJK, trimming, colour), terminal
// safety of every format, --fields, and that batches render exactly what one array does.
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import YAML from 'yaml';
import { stringify as csvStringify } from 'csv-stringify/sync';
import { renderList, renderObject, yamlRows, type Column, type OutputFormat, type RenderTarget } from '../../src/output/render.js';
import { escapeControl, escapeMessage } from '../../src/output/escape.js';
import { displayWidth, loadDisplayWidth, TextTable } from '../../src/output/table.js';
import { plural } from '../../src/output/format.js';

function target(opts: Partial<RenderTarget> = {}): RenderTarget & { text: () => string } {
  let text = '';
  return { write: (s: string) => { text += s; return true; }, isTTY: false, color: false, now: new Date('2026-12-01T00:00:00Z'), ...opts, text: () => text };
}
async function render<R extends object>(rows: R[] | AsyncIterable<R[]>, format: OutputFormat, columns: Column<R>[], t = target()): Promise<string> {
  await renderList(t, rows, { format, columns });
  return t.text();
}

const ESC_VALUE = 'gpt\x1b]0;pwned\x07\x1b[2J\x9b1m\u202eevil\r\nx\x7f';
const cols: Column[] = [{ key: 'id' }, { key: 'name' }, { key: 'model' }, { key: 'n', header: 'COUNT' }, { key: 'note', wide: true }];

describe('text table', () => {
  test('columns two spaces apart, as wide as their widest cell; CJK counts two columns; trailing spaces trimmed', async () => {
    const out = await render([
      { id: 'oc-1', name: '张伟', model: 'gpt-4o', n: 5, note: 'x' },
      { id: 'oc-10', name: 'bob', model: null, n: 12345, note: null },
    ], 'table', cols);
    expect(out).toBe([
      'ID     NAME  MODEL   COUNT',
      'oc-1   张伟  gpt-4o  5',
      'oc-10  bob   -       12345',
      '',
    ].join('\n'));
    const lines = out.trimEnd().split('\n');
    await loadDisplayWidth();
    // every column starts at the same display column on every line
    const starts = (l: string) => { const w: number[] = []; let col = 0; let prevSpace = true; for (const ch of l) { if (ch !== ' ' && prevSpace) w.push(col); prevSpace = ch === ' '; col += displayWidth(ch); } return w; };
    expect(new Set(lines.map((l) => starts(l).join(','))).size).toBe(1);
  });

  test('-o wide adds the wide columns; an empty list prints nothing', async () => {
    expect(await render([{ id: 'a', note: 'hello' }], 'wide', cols)).toBe('ID  NAME  MODEL  COUNT  NOTE\na   -     -      -      hello\n');
    expect(await render([], 'table', cols)).toBe('');
  });

  test('colour codes take no width, and the header is bold only with colour on', async () => {
    const c: Column[] = [{ key: 'status', color: (v, t) => (v === 'ok' ? `\x1b[32m${t}\x1b[39m` : t) }, { key: 'x' }];
    const out = await render([{ status: 'ok', x: 1 }, { status: 'failing', x: 2 }], 'table', c, target({ color: true, isTTY: true }));
    expect(out).toBe('\x1b[1mSTATUS\x1b[22m   \x1b[1mX\x1b[22m\n\x1b[32mok\x1b[39m       1\nfailing  2\n');
  });

  test('property: every cell is found in its line, in order, and no line ends in a space', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '张', '😀', '-', 'é', '\x1b', '\t'), maxLength: 8 });
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 20 }), async (rows) => {
      const t = new TextTable(['A', 'B', 'C']);
      for (const r of rows) t.push(r.map(escapeControl));
      await t.ready();
      const lines = t.toString().split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(rows.length + 1);
      rows.forEach((r, i) => {
        const line = lines[i + 1]!;
        expect(line).toBe(line.trimEnd());
        let at = 0;
        for (const c of r.map(escapeControl)) { const j = line.indexOf(c.trimEnd(), at); expect(j).toBeGreaterThanOrEqual(at); at = j + c.trimEnd().length; }
      });
    }), { numRuns: 200 });
  });
});

describe('terminal safety (issue #12)', () => {
  const row = { id: 'oc-1', name: ESC_VALUE, model: 'm', n: 1, note: ESC_VALUE };
  // what a terminal must never receive raw
  const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

  test('table, wide and name show control bytes escaped', async () => {
    for (const f of ['table', 'wide'] as const) {
      const out = await render([row], f, cols);
      expect(out).not.toMatch(RAW);
      expect(out).toContain('gpt\\x1b]0;pwned\\x07\\x1b[2J\\x9b1m\\u202eevil\\r\\nx\\x7f');
    }
    const t = target();
    await renderList(t, [{ id: ESC_VALUE }], { format: 'name', columns: [{ key: 'id' }] });
    expect(t.text()).toBe(`${escapeControl(ESC_VALUE)}\n`);
    expect(t.text()).not.toMatch(RAW);
  });

  test('json and ndjson escape them and still parse back to the exact value', async () => {
    for (const f of ['json', 'ndjson'] as const) {
      const out = await render([row], f, cols);
      expect(out).not.toMatch(RAW);
      const back = f === 'json' ? JSON.parse(out) : out.trim().split('\n').map((l) => JSON.parse(l));
      expect(back[0].name).toBe(ESC_VALUE);
    }
  });

  test('yaml quotes and escapes them and parses back exactly', async () => {
    const out = await render([row], 'yaml', cols);
    expect(out).not.toMatch(RAW);
    expect(YAML.parse(out)[0].name).toBe(ESC_VALUE);
  });

  test('csv: exact bytes for a pipe, escaped on a terminal', async () => {
    const piped = await render([row], 'csv', cols);
    expect((parseCsv(piped, { columns: true }) as Array<Record<string, string>>)[0]!.name).toBe(ESC_VALUE);
    const tty = await render([row], 'csv', cols, target({ isTTY: true }));
    expect(tty.replace(/\r\n/g, '')).not.toMatch(RAW);
    expect((parseCsv(tty, { columns: true }) as Array<Record<string, string>>)[0]!.name).toBe(escapeMessage(ESC_VALUE));
  });

  test('show verbs: titles, key/value lines and small tables are escaped too', async () => {
    const t = target();
    await renderObject(t, { id: 'x', name: ESC_VALUE }, { format: 'table', sections: [
      { title: `T${ESC_VALUE}`, data: { name: ESC_VALUE } }, { title: 'rows', data: [{ name: ESC_VALUE }] },
    ] });
    expect(t.text().replace(/\n/g, '')).not.toMatch(RAW);
    for (const f of ['json', 'yaml'] as const) {
      const u = target();
      await renderObject(u, { id: 'x', name: ESC_VALUE }, { format: f, sections: [] });
      expect(u.text()).not.toMatch(RAW);
      expect((f === 'json' ? JSON.parse(u.text()) : YAML.parse(u.text())).name).toBe(ESC_VALUE);
    }
  });

  test('escapeMessage keeps line breaks; escapeControl does not', () => {
    expect(escapeMessage('a\x1b[2Jb\nc\td')).toBe('a\\x1b[2Jb\nc\\td');
    expect(escapeControl('a\nb')).toBe('a\\nb');
    expect(escapeControl('plain 张伟 😀')).toBe('plain 张伟 😀');
  });
});

describe('formats: batches render exactly what one array does, and what the libraries print', () => {
  const rows = Array.from({ length: 2500 }, (_, i) => ({ id: `oc-${i}`, name: i % 7 ? `n${i}` : '李娜, "x"', model: i % 3 ? 'gpt-4o' : null, n: BigInt(i) * 10n, note: i % 5 ? new Date(Date.UTC(2026, 0, 1, 0, 0, i)) : null }));
  async function* batches(size: number) { for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size); }

  test.each(['table', 'wide', 'json', 'ndjson', 'csv', 'yaml', 'name'] as const)('%s', async (f) => {
    const whole = await render(rows, f, cols);
    expect(await render(batches(333), f, cols)).toBe(whole);
    const data = rows.map((r) => ({ id: r.id, name: r.name, model: r.model, n: r.n.toString(), note: r.note ? r.note.toISOString() : null }));
    if (f === 'json') expect(whole).toBe(`${JSON.stringify(data, null, 2)}\n`);
    if (f === 'ndjson') expect(whole).toBe(data.map((d) => `${JSON.stringify(d)}\n`).join(''));
    if (f === 'yaml') expect(whole).toBe(YAML.stringify(data));
    if (f === 'csv') expect(parseCsv(whole, { columns: true })).toEqual(data.map((d) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v ?? '']))));
  });

  test('property: the fast YAML rows are exactly what the yaml library writes', () => {
    const unit = fc.constantFrom('a', 'Z', 'e', 'x', '0', '9', '.', '-', '_', '@', '/', ':', ' ', '#', "'", '"', '张', '\n', '~', '*', '!', '&', ',', '[', '?', '%');
    const word = fc.oneof(fc.string({ unit, maxLength: 12 }), fc.constantFrom('null', 'True', 'FALSE', 'yes', 'on', 'NaN', '.inf', '0x1F', '1e3', '007', '-1',
      '2026-12-01T19:34:36.698Z', '2026-12-01T19:34:36+08:00', 'http://127.0.0.1:18790', 'oc-ai-jp-2-01', 'x:', 'a'.repeat(90),
      // masked secrets, as the listings print them
      '****', '****abcd', '****Ab9_', '*', '*.-', `****${'z'.repeat(36)}`, `****${'z'.repeat(37)}`));
    const value = fc.oneof(word, fc.constant(null), fc.integer(), fc.double({ noNaN: false }), fc.boolean(), fc.array(word, { maxLength: 2 }));
    const key = fc.oneof(fc.constantFrom('id', 'server_name', 'null', 'on', 'x:y'), fc.string({ unit, minLength: 1, maxLength: 5 }));
    fc.assert(fc.property(fc.array(fc.dictionary(key, value, { maxKeys: 6 }), { maxLength: 5 }), (rows) => {
      if (!rows.length) return;
      expect(yamlRows(YAML, rows)).toBe(YAML.stringify(rows));
    }), { numRuns: 500 });
  });

  test('property: CSV parses back to the exact values, and is what csv-stringify wrote before (except that it left a lone CR or LF unquoted)', async () => {
    const unit = fc.constantFrom('a', ',', '"', '\r', '\n', ' ', '张', "'", ';', '0');
    const value = fc.oneof(fc.string({ unit, maxLength: 6 }), fc.constant(null), fc.integer(), fc.boolean());
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(value, value, value), { maxLength: 6 }), async (rows) => {
      const c: Column<unknown[]>[] = [0, 1, 2].map((i) => ({ key: `c${i}`, get: (r) => r[i] }));
      const text = await render(rows, 'csv', c);
      const cells = rows.map((r) => r.map((v) => (v === null ? '' : String(v))));
      expect(parseCsv(text, { relax_column_count: false })).toEqual([['c0', 'c1', 'c2'], ...cells]);
      if (!cells.flat().some((v) => /[\r\n]/.test(v))) {
        expect(text).toBe(csvStringify([['c0', 'c1', 'c2'], ...rows.map((r) => r.map((v) => v ?? ''))],
          { record_delimiter: 'windows', cast: { boolean: (b) => (b ? 'true' : 'false') } }));
      }
    }), { numRuns: 300 });
  });

  test('empty lists: json [], yaml [], the rest nothing', async () => {
    expect(await render([], 'json', cols)).toBe('[]\n');
    expect(await render([], 'yaml', cols)).toBe('[]\n');
    expect(await render([], 'ndjson', cols)).toBe('');
    expect(await render([], 'csv', cols)).toBe('id,name,model,n,note\r\n');
  });

  test('backpressure: a full destination is waited for', async () => {
    let waits = 0;
    let text = '';
    const t: RenderTarget = { write: (s) => { text += s; return false; }, drain: async () => { waits++; }, isTTY: false, color: false, now: new Date() };
    await renderList(t, rows, { format: 'ndjson', columns: cols });
    expect(waits).toBeGreaterThanOrEqual(3);
    expect(text.split('\n')).toHaveLength(rows.length + 1);
  });
});

describe('--fields', () => {
  const rows = [{ id: 'a', name: 'x', model: 'm', n: 1, note: 'w' }];
  test('picks and orders the fields in every format, wide ones included', async () => {
    expect(await render(rows, 'table', cols, target({ fields: ['note', 'id'] }))).toBe('NOTE  ID\nw     a\n');
    expect(JSON.parse(await render(rows, 'json', cols, target({ fields: ['model', 'id'] })))).toEqual([{ model: 'm', id: 'a' }]);
    expect(await render(rows, 'csv', cols, target({ fields: ['n', 'n', 'id'] }))).toBe('n,id\r\n1,a\r\n');
  });
  test('an unknown field is a usage error (exit 2) naming the valid ones', async () => {
    await expect(render(rows, 'json', cols, target({ fields: ['id', 'nope', 'constructor'] }))).rejects.toMatchObject({
      exitCode: 2, message: 'unknown fields for --fields: "nope", "constructor"', hint: 'valid fields: id, name, model, n, note' });
    await expect(render(rows, 'name', cols, target({ fields: ['id'] }))).rejects.toMatchObject({ exitCode: 2 });
  });
  test('show verbs: top-level fields of the object', async () => {
    const t = target({ fields: ['model', 'id'] });
    await renderObject(t, { id: 'a', model: 'm', secret: 's' }, { format: 'table', sections: [{ title: 'X', data: {} }] });
    expect(t.text()).toBe('model  m\nid     a\n');
    const u = target({ fields: ['toString'] });
    await expect(renderObject(u, { id: 'a' }, { format: 'json', sections: [] })).rejects.toMatchObject({ exitCode: 2, hint: 'valid fields: id' });
  });
});

test('plural', () => {
  expect([plural(0, 'row'), plural(1, 'row'), plural(2, 'row'), plural(1n, 'request'), plural(1, 'day'), plural(3, 'key')]).toEqual(['0 rows', '1 row', '2 rows', '1 request', '1 day', '3 keys']);
});
