// The one renderer for list and show verbs: table, wide, json, ndjson, csv, yaml, name.
// Field names are the database column names; secrets are masked before any format sees a row.
// Lists arrive as an array or as batches from a stream (large listings): every format costs
// linear time in its rows, and the data formats write each batch as it comes (memory stays flat);
// only the table keeps its rows, as one compact string each, because its widths need them all.
// Terminal safety: no control byte reaches a terminal raw (see escape.ts). Table and name cells
// show them escaped (\x1b); JSON escapes them (C0 by JSON itself, DEL/C1/bidi as \u); YAML
// double-quotes and escapes them; CSV keeps exact bytes for a pipe or file and shows them escaped
// on a terminal (CSV has no escapes of its own).
import { maskDeep, maskField } from './mask.js';
import { UsageError } from '../errors.js';
import { toCell, toData } from './format.js';
import { escapeControl, escapeJsonText, escapeMessage } from './escape.js';
import { csvField } from './sink.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'ndjson', 'csv', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Column<R = Record<string, unknown>> {
  key: string;
  /** Table header; defaults to key upper-cased. */
  header?: string;
  /** Only in -o wide (and always in data formats). */
  wide?: boolean;
  /** Value getter; defaults to row[key]. */
  get?: (row: R) => unknown;
  /** Show Dates relative ("5m ago") in tables on a TTY. */
  relative?: boolean;
  /** Colour a table cell (only when colour is on). */
  color?: (value: unknown, text: string) => string;
}

export interface RenderTarget {
  /** Append text; false means "wait for drain() before writing much more" (backpressure). */
  write(s: string): boolean | void;
  /** Resolves when the destination can take more; absent: it always can. */
  drain?(): Promise<void>;
  isTTY: boolean;
  color: boolean;
  now: Date;
  /** --fields: print these fields, in this order (any format). */
  fields?: readonly string[];
  /** Checked between batches: a listing stops early on Ctrl-C. */
  signal?: AbortSignal;
}

export interface ListOptions<R> {
  format: OutputFormat;
  columns: Column<R>[];
  /** Field printed by -o name. */
  nameKey?: string;
}

function headerOf(c: Column<never>): string {
  return c.header ?? c.key.toUpperCase();
}

export function assertFormat(f: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(f)) return f as OutputFormat;
  throw new UsageError(`unknown output format "${escapeMessage(f)}"`, { hint: `use one of ${OUTPUT_FORMATS.join(', ')}` });
}

/** --fields given: those names in that order; an unknown name is a usage error naming the valid ones. */
export function pickFields<T>(fields: readonly string[], valid: readonly string[], get: (name: string) => T): T[] {
  const known = new Set(valid);
  const unknown = fields.filter((f) => !known.has(f));
  if (unknown.length) {
    throw new UsageError(`unknown field${unknown.length === 1 ? '' : 's'} for --fields: ${unknown.map((f) => `"${escapeMessage(f)}"`).join(', ')}`,
      { hint: `valid fields: ${valid.join(', ')}` });
  }
  return [...new Set(fields)].map(get);
}

/** The columns a format prints: --fields when given, else table the narrow ones, every other format all. */
function columnsFor<R>(cols: Column<R>[], format: OutputFormat, fields: readonly string[] | undefined): Column<R>[] {
  if (fields) {
    if (format === 'name') throw new UsageError('--fields does not apply to -o name (it prints one name per line)', { hint: 'use -o csv --fields NAME' });
    const byKey = new Map(cols.map((c) => [c.key, c]));
    return pickFields(fields, cols.map((c) => c.key), (k) => byKey.get(k)!);
  }
  return format === 'table' ? cols.filter((c) => !c.wide) : cols;
}

async function loadYaml(): Promise<typeof import('yaml')> {
  // bundled by esbuild, yaml (CommonJS) arrives as { default: module.exports }: named exports are missing
  const m = await import('yaml');
  return (m as Partial<typeof m>).stringify ? m : (m as unknown as { default: typeof m }).default;
}

/**
 * yaml escapes C0 controls itself but writes DEL, C1 and bidi characters raw, even inside quotes:
 * such strings are forced into double quotes and the characters written as YAML escapes.
 */
const YAML_UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
function yamlText(Y: typeof import('yaml'), v: unknown): string {
  let quoted = false;
  const prep = (x: unknown): unknown => {
    if (typeof x === 'string') {
      if (!YAML_UNSAFE.test(x)) return x;
      quoted = true;
      const s = new Y.Scalar(x);
      s.type = 'QUOTE_DOUBLE';
      return s;
    }
    if (Array.isArray(x)) return x.map(prep);
    if (x && typeof x === 'object' && !(x instanceof Y.Scalar)) {
      const o: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x)) o[k] = prep(y);
      return o;
    }
    return x;
  };
  const text = Y.stringify(prep(v));
  return quoted ? escapeJsonText(text) : text;
}

/**
 * YAML for list rows without the yaml library's document model (~0.7 ms a row, 100x JSON): a row
 * of plain values is written directly, as `- key: value` lines, when every value is one the
 * library itself writes plain (ids, names, URLs, ISO times, numbers) or double-quoted (digit
 * strings, ""). Any other row (CJK, spaces, punctuation, nested values) goes through the library,
 * so the text is the library's in every case (a property test compares them).
 */
const YAML_PLAIN = /^[A-Za-z][A-Za-z0-9._@/:-]*$/;
const YAML_KEYWORDS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
function yamlScalarFast(v: unknown): string | null {
  if (v === null) return 'null';
  if (typeof v === 'string') {
    if (v === '') return '""';
    if (YAML_PLAIN.test(v)) return v.endsWith(':') || YAML_KEYWORDS.has(v) ? null : v;
    if (/^\d+$/.test(v)) return `"${v}"`;
    // a masked secret (`****wxyz`): `*` would start an alias, so the library double-quotes it
    if (v.length <= 40 && /^\*[A-Za-z0-9*._-]*$/.test(v)) return `"${v}"`;
    return ISO_TIME.test(v) ? v : null;
  }
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return null;
}
export function yamlRows(Y: typeof import('yaml'), rows: Array<Record<string, unknown>>): string {
  let out = '';
  for (const r of rows) {
    let item = '';
    let fast = true;
    for (const k in r) {
      const key = yamlScalarFast(k);
      const v = yamlScalarFast(r[k]);
      if (key === null || key !== k || v === null) { fast = false; break; }
      item += `${item ? '  ' : '- '}${k}: ${v}\n`;
    }
    out += fast && item ? item : yamlText(Y, [r]);
  }
  return out;
}

/** CSV cells: '' for null, JSON for objects, true/false; on a terminal control bytes escaped. */
function csvLine(r: unknown[], tty: boolean): string {
  let line = '';
  for (let i = 0; i < r.length; i++) {
    const v = r[i];
    let x = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (tty) x = escapeMessage(x);
    line += i ? `,${csvField(x)}` : csvField(x);
  }
  return `${line}\r\n`;
}

export function csvText(header: string[], rows: unknown[][], tty = false): string {
  return [header, ...rows].map((r) => csvLine(r, tty)).join('');
}

/** How one format turns batches of rows into text. */
interface ListEncoder<R> {
  head(): string;
  batch(rows: R[]): string;
  /** After the last batch: the rest of the text, in pieces. */
  tail(count: number): Iterable<string> | Promise<Iterable<string>>;
}

async function listEncoder<R>(out: RenderTarget, opts: ListOptions<R>): Promise<ListEncoder<R>> {
  const format = opts.format;
  const cols = columnsFor(opts.columns, format, out.fields);
  // Every value goes through maskField on its way out: secret-named columns are masked, nested
  // objects masked deeply (cheaper than copying whole rows first; this is the hot path of ls).
  const value = (c: Column<R>, r: R) => maskField(c.key, c.get ? c.get(r) : (r as Record<string, unknown>)[c.key]);
  const dataRow = (r: R): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const c of cols) o[c.key] = toData(value(c, r)) ?? null;
    return o;
  };
  switch (format) {
    case 'table':
    case 'wide': {
      const { TextTable } = await import('./table.js');
      const bold = out.color ? (s: string) => `\x1b[1m${s}\x1b[22m` : (s: string) => s;
      const t = new TextTable(cols.map((c) => bold(escapeControl(headerOf(c)))));
      return {
        head: () => '',
        batch: (rows) => {
          for (const r of rows) {
            t.push(cols.map((c) => {
              const v = value(c, r);
              const text = escapeControl(toCell(v, { relative: c.relative && out.isTTY, now: out.now }));
              return out.color && c.color ? c.color(v, text) : text;
            }));
          }
          return '';
        },
        // an empty list prints nothing (the count line on a TTY says so)
        tail: async () => { if (!t.size) return []; await t.ready(); return t.chunks(); },
      };
    }
    case 'name': {
      const k = opts.nameKey ?? 'id';
      return {
        head: () => '',
        batch: (rows) => rows.map((r) => `${escapeControl(String(maskField(k, (r as Record<string, unknown>)[k])))}\n`).join(''),
        tail: () => [],
      };
    }
    case 'json': {
      let first = true;
      return {
        head: () => '',
        // the same text as JSON.stringify(rows, null, 2), a row at a time
        // (escaped row by row: a regular expression over a whole batch's concatenation costs 5x more)
        batch: (rows) => {
          let s = '';
          for (const r of rows) {
            s += `${first ? '[\n' : ',\n'}  ${escapeJsonText(JSON.stringify(dataRow(r), null, 2)).replace(/\n/g, '\n  ')}`;
            first = false;
          }
          return s;
        },
        tail: (n) => [n ? '\n]\n' : '[]\n'],
      };
    }
    case 'ndjson':
      return { head: () => '', batch: (rows) => rows.map((r) => `${escapeJsonText(JSON.stringify(dataRow(r)))}\n`).join(''), tail: () => [] };
    case 'yaml': {
      const Y = await loadYaml();
      let any = false;
      return {
        head: () => '',
        // a YAML sequence is its items one after another: each batch is stringified alone
        batch: (rows) => { if (rows.length) any = true; return yamlRows(Y, rows.map(dataRow)); },
        tail: () => (any ? [] : ['[]\n']),
      };
    }
    case 'csv':
      // the export's RFC 4180 field encoder (csv-stringify, used before, cost 50-100 us a row)
      return {
        head: () => csvLine(cols.map((c) => c.key), out.isTTY),
        batch: (rows) => { let s = ''; for (const r of rows) s += csvLine(cols.map((c) => toData(value(c, r))), out.isTTY); return s; },
        tail: () => [],
      };
  }
}

async function emit(out: RenderTarget, s: string): Promise<void> {
  if (!s) return;
  if (out.write(s) === false && out.drain) await out.drain();
}

function throwIfAborted(out: RenderTarget): void {
  if (out.signal?.aborted) {
    const e = new Error('interrupted');
    e.name = 'AbortError';
    throw e;
  }
}

/**
 * Render a list of rows: an array, or batches (arrays) from an async source, written as they come.
 * Returns the number of rows.
 */
export async function renderList<R extends object>(out: RenderTarget, rows: R[] | AsyncIterable<R[]>, opts: ListOptions<R>): Promise<number> {
  const enc = await listEncoder(out, opts);
  let n = 0;
  await emit(out, enc.head());
  if (Array.isArray(rows)) {
    n = rows.length;
    // big arrays go out in slices too, so a data format never builds one huge string
    for (let i = 0; i < rows.length; i += 1000) {
      await emit(out, enc.batch(rows.slice(i, i + 1000)));
      throwIfAborted(out);
    }
  } else {
    for await (const batch of rows) {
      n += batch.length;
      await emit(out, enc.batch(batch));
      throwIfAborted(out);
    }
  }
  for (const s of await enc.tail(n)) await emit(out, s);
  return n;
}

export interface ShowSection {
  title: string;
  /** key/value pairs, or a list of rows rendered as a small table */
  data: Record<string, unknown> | Array<Record<string, unknown>>;
  /** Raw text block (e.g. pretty JSON) for the table format. */
  text?: string;
  /** The caller escaped `text` itself (escapeControl) and may have coloured it: written as is. */
  textIsSafe?: boolean;
}

function keyValueLines(d: Record<string, unknown>): string {
  const w = Math.max(0, ...Object.keys(d).map((k) => k.length));
  return Object.entries(d).map(([k, v]) => `${escapeControl(k).padEnd(w)}  ${escapeControl(toCell(v, { relative: false }))}`).join('\n') + '\n';
}

/**
 * Render one object (show verbs). Data formats print `data` whole (masked); the table
 * format prints sections of key: value lines and small tables. With --fields, every format
 * prints only those top-level fields of `data` (the table as key: value lines).
 */
export async function renderObject(out: RenderTarget, data: Record<string, unknown>, opts: {
  format: OutputFormat; sections: ShowSection[]; nameKey?: string;
}): Promise<void> {
  let masked = maskDeep(data);
  let sections = opts.sections;
  if (out.fields) {
    if (opts.format === 'name') throw new UsageError('--fields does not apply to -o name (it prints one name)', { hint: 'use -o json --fields NAME' });
    masked = Object.fromEntries(pickFields(out.fields, Object.keys(masked), (k) => [k, masked[k]] as const));
    sections = [];
  }
  switch (opts.format) {
    case 'json': out.write(`${escapeJsonText(JSON.stringify(toData(masked), null, 2))}\n`); return;
    case 'ndjson': out.write(`${escapeJsonText(JSON.stringify(toData(masked)))}\n`); return;
    case 'yaml': out.write(yamlText(await loadYaml(), toData(masked))); return;
    case 'name': out.write(`${escapeControl(String(masked[opts.nameKey ?? 'id']))}\n`); return;
    case 'csv': {
      const flat = Object.entries(masked).filter(([, v]) => v === null || typeof v !== 'object' || v instanceof Date);
      out.write(csvText(flat.map(([k]) => k), [flat.map(([, v]) => toData(v))], out.isTTY));
      return;
    }
    case 'table':
    case 'wide': {
      if (out.fields) { out.write(keyValueLines(masked)); return; }
      const bold = out.color ? (s: string) => `\x1b[1m${s}\x1b[22m` : (s: string) => s;
      const parts: string[] = [];
      for (const s of sections) {
        let body: string;
        if (s.text !== undefined) body = (s.textIsSafe ? s.text : escapeMessage(s.text)).replace(/\n?$/, '\n');
        else if (Array.isArray(s.data)) {
          const rows = s.data.map((r) => maskDeep(r));
          if (!rows.length) body = '(none)\n';
          else {
            const { TextTable } = await import('./table.js');
            const keys = Object.keys(rows[0]!);
            const t = new TextTable(keys.map((k) => bold(escapeControl(k.toUpperCase()))));
            for (const r of rows) t.push(keys.map((k) => escapeControl(toCell(r[k], { relative: out.isTTY, now: out.now }))));
            await t.ready();
            body = t.toString();
          }
        } else body = keyValueLines(maskDeep(s.data));
        parts.push(`${bold(escapeControl(s.title))}\n${body}`);
      }
      out.write(parts.join('\n'));
    }
  }
}
