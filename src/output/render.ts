// The one renderer for list and show verbs: table, wide, json, ndjson, csv, yaml, name.
// Field names are the database column names; secrets are masked before any format sees a row.
import { maskDeep, maskField } from './mask.js';
import { UsageError } from '../errors.js';
import { toCell, toData } from './format.js';

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
  write(s: string): void;
  isTTY: boolean;
  color: boolean;
  now: Date;
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
  throw new UsageError(`unknown output format "${f}"`, { hint: `use one of ${OUTPUT_FORMATS.join(', ')}` });
}

async function table(head: string[], body: string[][], color: boolean): Promise<string> {
  const { default: Table } = await import('cli-table3');
  let bold = (s: string) => s;
  if (color) { const { default: chalk } = await import('chalk'); bold = (s) => chalk.bold(s); }
  const t = new Table({
    head: head.map(bold),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of body) t.push(r);
  return t.toString().split('\n').map((l) => l.replace(/\s+$/, '')).join('\n') + '\n';
}

export async function csvText(header: string[], rows: unknown[][]): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  return stringify([header, ...rows.map((r) => r.map((v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : v)))], {
    record_delimiter: 'windows',
    cast: { boolean: (b) => (b ? 'true' : 'false') },
  });
}

async function yamlText(v: unknown): Promise<string> {
  // bundled by esbuild, yaml (CommonJS) arrives as { default: module.exports }: named exports are missing
  const m = await import('yaml');
  const stringify = m.stringify ?? (m as unknown as { default: typeof m }).default.stringify;
  return stringify(v);
}

/** Render a list of rows. */
export async function renderList<R extends object>(out: RenderTarget, rows: R[], opts: ListOptions<R>): Promise<void> {
  const cols = opts.columns;
  // Every value goes through maskField on its way out: secret-named columns are masked, nested
  // objects masked deeply (cheaper than copying whole rows first; this is the hot path of ls).
  const value = (c: Column<R>, r: R) => maskField(c.key, c.get ? c.get(r) : (r as Record<string, unknown>)[c.key]);
  switch (opts.format) {
    case 'table':
    case 'wide': {
      const shown = cols.filter((c) => opts.format === 'wide' || !c.wide);
      const body = rows.map((r) => shown.map((c) => {
        const v = value(c, r);
        const text = toCell(v, { relative: c.relative && out.isTTY, now: out.now });
        return out.color && c.color ? c.color(v, text) : text;
      }));
      if (rows.length) out.write(await table(shown.map(headerOf), body, out.color));
      return;
    }
    case 'name': {
      const k = opts.nameKey ?? 'id';
      out.write(rows.map((r) => `${String(maskField(k, (r as Record<string, unknown>)[k]))}\n`).join(''));
      return;
    }
    case 'json':
      out.write(`${JSON.stringify(rows.map((r) => dataRow(cols, r, value)), null, 2)}\n`);
      return;
    case 'ndjson':
      out.write(rows.map((r) => `${JSON.stringify(dataRow(cols, r, value))}\n`).join(''));
      return;
    case 'yaml':
      out.write(await yamlText(rows.map((r) => dataRow(cols, r, value))));
      return;
    case 'csv':
      out.write(await csvText(cols.map((c) => c.key), rows.map((r) => cols.map((c) => toData(value(c, r))))));
      return;
  }
}

function dataRow<R>(cols: Column<R>[], r: R, value: (c: Column<R>, r: R) => unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of cols) o[c.key] = toData(value(c, r)) ?? null;
  return o;
}

export interface ShowSection {
  title: string;
  /** key/value pairs, or a list of rows rendered as a small table */
  data: Record<string, unknown> | Array<Record<string, unknown>>;
  /** Raw text block (e.g. pretty JSON) for the table format. */
  text?: string;
}

/**
 * Render one object (show verbs). Data formats print `data` whole (masked); the table
 * format prints sections of key: value lines and small tables.
 */
export async function renderObject(out: RenderTarget, data: Record<string, unknown>, opts: {
  format: OutputFormat; sections: ShowSection[]; nameKey?: string;
}): Promise<void> {
  const masked = maskDeep(data);
  switch (opts.format) {
    case 'json': out.write(`${JSON.stringify(toData(masked), null, 2)}\n`); return;
    case 'ndjson': out.write(`${JSON.stringify(toData(masked))}\n`); return;
    case 'yaml': out.write(await yamlText(toData(masked))); return;
    case 'name': out.write(`${String(masked[opts.nameKey ?? 'id'])}\n`); return;
    case 'csv': {
      const flat = Object.entries(masked).filter(([, v]) => v === null || typeof v !== 'object' || v instanceof Date);
      out.write(await csvText(flat.map(([k]) => k), [flat.map(([, v]) => toData(v))]));
      return;
    }
    case 'table':
    case 'wide': {
      let bold = (s: string) => s;
      if (out.color) { const { default: chalk } = await import('chalk'); bold = (s) => chalk.bold(s); }
      const parts: string[] = [];
      for (const s of opts.sections) {
        let body: string;
        if (s.text !== undefined) body = s.text.replace(/\n?$/, '\n');
        else if (Array.isArray(s.data)) {
          const rows = s.data.map((r) => maskDeep(r));
          if (!rows.length) body = '(none)\n';
          else {
            const keys = Object.keys(rows[0]!);
            body = await table(keys.map((k) => k.toUpperCase()), rows.map((r) => keys.map((k) => toCell(r[k], { relative: out.isTTY, now: out.now }))), out.color);
          }
        } else {
          const d = maskDeep(s.data);
          const w = Math.max(0, ...Object.keys(d).map((k) => k.length));
          body = Object.entries(d).map(([k, v]) => `${k.padEnd(w)}  ${toCell(v, { relative: false })}`).join('\n') + '\n';
        }
        parts.push(`${bold(s.title)}\n${body}`);
      }
      out.write(parts.join('\n'));
    }
  }
}
