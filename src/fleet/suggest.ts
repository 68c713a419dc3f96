// "closest: ..." for a name that matched nothing exactly (instances, servers, users, admins, keys).
// Lookups are exact (src/db/sql-helpers.ts eqExact); the candidates for a near miss are read
// by the column's own collation, which is case-, accent- and pad-insensitive, so the rows a
// careless `=` would have matched are among them, then rows sharing a prefix; closest() ranks.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { MysqlDB } from '../db/types.js';
import { eqExact, escapeLike } from '../db/sql-helpers.js';
import { closest } from './closest.js';
import { escapeOne } from '../output/escape.js';

/** Where the candidates live: a logical table ('admin.servers'), its name columns, a row filter. */
export interface NameSource {
  table: string;
  columns: string[];
  /** e.g. sql`deleted_at IS NULL` */
  where?: RawBuilder<unknown>;
  /** small tables (users, servers, admins, keys): rank every row, so a typo anywhere is found */
  scanAll?: boolean;
}

const SCAN_LIMIT = 20000;
const PREFIX_LIMIT = 200;

/** Prefixes to look near: the input without its trailing number, then its first half, then 3 characters. */
function stems(input: string): string[] {
  const cps = Array.from(input.trim());
  const base = cps.join('').replace(/[-_.]?\d+$/, '');
  const b = Array.from(base);
  const out = [base, b.slice(0, Math.ceil(b.length / 2)).join(''), cps.slice(0, 3).join('')];
  return [...new Set(out.filter((s) => s.length > 0))];
}

/** The closest names to a missing one, read from the database (see the top of this file). */
export async function closestNames(db: Kysely<MysqlDB>, src: NameSource, input: string, limit = 3): Promise<string[]> {
  const found = new Set<string>();
  const where = src.where ? sql`AND (${src.where})` : sql``;
  for (const column of src.columns) {
    const col = sql.ref(column);
    if (src.scanAll) {
      const r = await sql<{ v: string | null }>`SELECT DISTINCT ${col} AS v FROM ${sql.table(src.table)} WHERE ${col} IS NOT NULL ${where} LIMIT ${sql.lit(SCAN_LIMIT)}`.execute(db);
      for (const x of r.rows) if (x.v !== null) found.add(String(x.v));
      continue;
    }
    for (const stem of stems(input)) {
      // by the column's collation: `=` finds the case/accent/pad variants, LIKE the same prefix (index ranges)
      const r = await sql<{ v: string | null }>`SELECT ${col} AS v FROM ${sql.table(src.table)}
        WHERE (${col} = ${input} OR ${col} LIKE ${`${escapeLike(stem)}%`} ESCAPE '!') ${where} LIMIT ${sql.lit(PREFIX_LIMIT)}`.execute(db);
      for (const x of r.rows) if (x.v !== null) found.add(String(x.v));
      if (closest(input, found, limit, { near: true }).length >= limit) break;
    }
  }
  return closest(input, found, limit, { near: true });
}

/** The hint of a "no such ..." error: the closest names, else how to list them. */
export function closestHint(closest: string[], listWith: string): string {
  return closest.length ? `closest: ${closest.map(shownName).join(', ')}` : `list them with: ${listWith}`;
}

/** A name as typed, safe and visible on a terminal: quoted when it has spaces or invisible/control characters. */
export function shownName(s: string): string {
  if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}]+$/u.test(s)) return s;
  const esc = s.replace(/[\p{C}\p{Zl}\p{Zp}"\\]/gu, (c) => (c === '"' || c === '\\' ? `\\${c}` : escapeOne(c)));
  return `"${esc}"`;
}

/** An equality filter as typed: `--region JP-2` compared with admin.servers.region. */
export interface FilterValue { flag: string; value: string | undefined; table: string; column: string }

/**
 * For an empty listing: the filters whose value no row has exactly, with the closest values
 * (matching is exact and case-sensitive, so `--region JP-2` no longer finds jp-2), as one note.
 */
export async function exactMissNote(db: Kysely<MysqlDB>, filters: FilterValue[]): Promise<string | undefined> {
  const notes: string[] = [];
  for (const f of filters) {
    if (f.value === undefined) continue;
    const hit = await sql`SELECT 1 AS one FROM ${sql.table(f.table)} WHERE ${eqExact(f.column, f.value)} LIMIT 1`.execute(db);
    if (hit.rows.length) continue;
    const close = await closestNames(db, { table: f.table, columns: [f.column], scanAll: true }, f.value);
    notes.push(`${f.flag} ${shownName(f.value)} matches nothing exactly${close.length ? `; closest: ${close.map(shownName).join(', ')}` : ''}`);
  }
  return notes.length ? `(${notes.join('; ')})` : undefined;
}
