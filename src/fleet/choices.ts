// Flag values from a vocabulary (--health, servers --status, --role): a value outside it is a
// usage error listing the valid ones (exit 2), instead of a filter that silently matches
// nothing (`--health sick`). The vocabulary is sayclaw's own list plus the values already in
// the column, so rows other tools wrote stay reachable; a value outside sayclaw's list costs one
// LIMIT 1 lookup, and the column's distinct values are read only to list them in the error.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB } from '../db/types.js';
import { UsageError } from '../errors.js';
import { eqExact, naturalCompare } from '../db/sql-helpers.js';
import { shownName } from './suggest.js';

export interface Vocabulary {
  /** the flag as typed, e.g. '--health' */
  flag: string;
  known: readonly string[];
  /** where other values may already be stored (logical table name and column) */
  table?: string;
  column?: string;
  /** extra words for the error's hint */
  hint?: string;
}

/** health_status as sayclaw writes it (instances health --record) and as the column defaults. */
export const HEALTH: Vocabulary = { flag: '--health', known: ['healthy', 'unhealthy', 'unknown'], table: 'admin.oc_instances', column: 'health_status' };

/** The values of a vocabulary: sayclaw's own, then those found in the column. */
export async function vocabularyValues(db: Kysely<MysqlDB>, v: Vocabulary): Promise<string[]> {
  const out = [...v.known];
  if (v.table && v.column) {
    // under the column's own collation DISTINCT would fold 'Healthy' into 'healthy' (and 'a ' into 'a'): keep each spelling
    const r = await sql<{ v: Buffer | string | null }>`SELECT DISTINCT CAST(${sql.ref(v.column)} AS BINARY) AS v FROM ${sql.table(v.table)} LIMIT 1000`.execute(db);
    const stored = [...new Set(r.rows.map((x) => (x.v === null ? null : Buffer.isBuffer(x.v) ? x.v.toString('utf8') : String(x.v)))
      .filter((x): x is string => x !== null))].sort(naturalCompare);
    for (const s of stored) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Throws UsageError (exit 2) unless `value` is exactly one of the vocabulary's values. */
export async function checkChoice(db: Kysely<MysqlDB>, v: Vocabulary, value: string): Promise<void> {
  if (v.known.includes(value)) return;
  if (v.table && v.column) {
    // a value another tool stored: one row is enough (the whole column is read only to list them in the error)
    const hit = await sql`SELECT 1 AS one FROM ${sql.table(v.table)} WHERE ${eqExact(v.column, value)} LIMIT 1`.execute(db);
    if (hit.rows.length) return;
  }
  const all = await vocabularyValues(db, v);
  throw new UsageError(`${v.flag}: unknown value ${shownName(value)}`, { hint: `use one of ${all.join(', ')}${v.hint ? `; ${v.hint}` : ''}` });
}
