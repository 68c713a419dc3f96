// One API's tables are not ours: one-api and new-api create them from their own GORM models, and
// the legacy PostgreSQL copy has whatever columns the one-api version that last migrated it had.
// This module says which columns sayclaw reads (by type family: any integer type where an
// integer is read, any string type, tinyint(1)/boolean), reads the live columns in one catalog
// query, names the flavour (and the one-api vintage), and checks only what sayclaw reads.
import { sql, type Kysely } from 'kysely';
import type { Drift } from './schema-ops.js';

export type Family = 'integer' | 'string' | 'boolean' | 'time';
export type OneApiTable = 'logs' | 'tokens' | 'options' | 'users';
export const ONEAPI_TABLES: readonly OneApiTable[] = ['logs', 'tokens', 'options', 'users'];

interface TableReads {
  /** read by sayclaw: a missing column of these fails the check */
  columns: Record<string, Family>;
  /** used when present with the right family (flavour columns) */
  optional: Record<string, Family>;
  /** what sayclaw needs the table for */
  why: string;
}

export const ONEAPI_READS: Record<OneApiTable, TableReads> = {
  logs: {
    why: 'usage reports, exports, rollups, quota',
    columns: {
      id: 'integer', created_at: 'integer', type: 'integer', token_name: 'string', model_name: 'string', channel_id: 'integer',
      quota: 'integer', prompt_tokens: 'integer', completion_tokens: 'integer',
    },
    // new-api: token_id attributes a row to its token exactly; other marks task settlement rows
    optional: { token_id: 'integer', other: 'string' },
  },
  tokens: {
    why: 'keys oneapi ls, keys oc ls, attribution by token id',
    columns: {
      id: 'integer', user_id: 'integer', key: 'string', status: 'integer', name: 'string', created_time: 'integer',
      accessed_time: 'integer', expired_time: 'integer', remain_quota: 'integer', unlimited_quota: 'boolean', used_quota: 'integer',
    },
    // new-api soft delete
    optional: { deleted_at: 'time' },
  },
  options: { why: 'QuotaPerUnit', columns: { key: 'string', value: 'string' }, optional: {} },
  users: { why: 'nothing (not read)', columns: {}, optional: {} },
};

export interface LiveColumn { type: string; family: Family | null }
/** table -> column -> type, as the catalog shows them */
export type LiveTables = Map<string, Map<string, LiveColumn>>;

/** MySQL/MariaDB DATA_TYPE + COLUMN_TYPE -> family. tinyint(1) is GORM's bool. */
export function familyOfMysql(dataType: string, columnType: string): Family | null {
  const d = dataType.toLowerCase();
  if (d === 'tinyint' && /^tinyint\(1\)/i.test(columnType)) return 'boolean';
  if (d === 'bit' && /^bit\(1\)/i.test(columnType)) return 'boolean';
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'].includes(d)) return 'integer';
  if (['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext'].includes(d)) return 'string';
  if (['datetime', 'timestamp'].includes(d)) return 'time';
  return null;
}

/** PostgreSQL format_type() -> family. */
export function familyOfPg(type: string): Family | null {
  const t = type.toLowerCase();
  if (['smallint', 'integer', 'bigint'].includes(t)) return 'integer';
  if (t === 'text' || t.startsWith('character')) return 'string';
  if (t === 'boolean') return 'boolean';
  if (t.startsWith('timestamp')) return 'time';
  return null;
}

export type Flavour = 'one-api' | 'new-api' | 'unknown';

export interface OneApiSchema {
  flavour: Flavour;
  /** one-api only: which version last migrated the tables, by the columns it added */
  vintage: string | null;
  /** "new-api", "one-api", "one-api (vintage before 2024-04)" */
  label: string;
  /** the columns that told the flavour apart */
  evidence: string[];
  tables: LiveTables;
  /** true when sayclaw may read the column: present, and of the family it reads */
  has(table: OneApiTable, column: string): boolean;
}

export const VINTAGES = {
  current: '2025-01 or later',
  mid: '2024-04 to 2025-01',
  old: 'before 2024-04',
} as const;

/** Name the flavour from the columns: new-api's own columns, else one-api by the columns each version added. */
export function describeOneApi(tables: LiveTables): OneApiSchema {
  const col = (t: string, c: string) => tables.get(t)?.has(c) ?? false;
  const newApi = [['logs', 'token_id'], ['logs', 'use_time'], ['logs', 'other'], ['tokens', 'deleted_at'], ['tokens', 'model_limits']]
    .filter(([t, c]) => col(t!, c!)).map(([t, c]) => `${t}.${c}`);
  let flavour: Flavour;
  let vintage: string | null = null;
  let evidence: string[];
  if (newApi.length) { flavour = 'new-api'; evidence = newApi; }
  else if (!tables.has('logs') && !tables.has('tokens')) { flavour = 'unknown'; evidence = []; }
  else {
    flavour = 'one-api';
    const y2025 = ['request_id', 'elapsed_time', 'is_stream', 'system_prompt_reset'].filter((c) => col('logs', c)).map((c) => `logs.${c}`);
    const y2024 = ['models', 'subnet'].filter((c) => col('tokens', c)).map((c) => `tokens.${c}`);
    // the logs copy alone (no tokens table) cannot tell the two older vintages apart
    if (y2025.length) { vintage = VINTAGES.current; evidence = y2025; }
    else if (y2024.length) { vintage = VINTAGES.mid; evidence = y2024; }
    else if (tables.has('tokens')) { vintage = VINTAGES.old; evidence = ['no logs.request_id', 'no tokens.models/subnet']; }
    else { vintage = `${VINTAGES.mid} or ${VINTAGES.old}`; evidence = ['no logs.request_id']; }
  }
  const label = flavour === 'one-api' && vintage !== VINTAGES.current ? `one-api (vintage ${vintage})` : flavour;
  return {
    flavour, vintage, label, evidence, tables,
    has(table, column) {
      const c = tables.get(table)?.get(column);
      const want = ONEAPI_READS[table].columns[column] ?? ONEAPI_READS[table].optional[column];
      return !!c && (want === undefined || c.family === want);
    },
  };
}

const FAMILY_TEXT: Record<Family, string> = { integer: 'an integer type', string: 'a string type', boolean: 'tinyint(1)/boolean', time: 'datetime/timestamp' };

/**
 * Check the One API tables: the columns sayclaw reads must exist with the right family (failing);
 * the flavour, the columns it does not read and a missing options table are information.
 * `reads` lists the tables sayclaw reads from this database; `databaseOf` names each table's database.
 */
export function checkOneApi(s: OneApiSchema, reads: OneApiTable[], databaseOf: (t: OneApiTable) => string): Drift[] {
  const out: Drift[] = [];
  const note = (table: OneApiTable, kind: Drift['kind'], column: string | null, expected: string | null, actual: string | null, failing = false) =>
    out.push({ database: databaseOf(table), table, column, kind, expected, actual, failing });
  // the flavour belongs to the main database (with LOG_SQL_DSN, logs is elsewhere)
  out.push({ database: databaseOf(reads.includes('tokens') ? 'tokens' : reads[0] ?? 'logs'), table: '', column: null, kind: 'flavour', expected: null,
    actual: `${s.label}${s.evidence.length ? ` (${s.evidence.join(', ')})` : ''}`, failing: false });
  for (const table of reads) {
    const live = s.tables.get(table);
    const spec = ONEAPI_READS[table];
    // QuotaPerUnit has a default: without options, config or 500000 serves
    const optional = table === 'options';
    if (!live) { note(table, 'missing_table', null, optional ? `${table} (optional: ${spec.why})` : table, null, !optional); continue; }
    for (const [c, fam] of Object.entries(spec.columns)) {
      const l = live.get(c);
      if (!l) note(table, 'missing_column', c, FAMILY_TEXT[fam], null, !optional);
      else if (l.family !== fam) note(table, 'type_differs', c, FAMILY_TEXT[fam], l.type, !optional);
    }
    for (const [c, fam] of Object.entries(spec.optional)) {
      const l = live.get(c);
      if (l && l.family !== fam) note(table, 'type_differs', c, `${FAMILY_TEXT[fam]} (used only then)`, l.type);
    }
    const unread = [...live.keys()].filter((c) => !(c in spec.columns) && !(c in spec.optional));
    if (unread.length) note(table, 'not_read', null, null, unread.join(', '));
  }
  return out;
}

/**
 * The One API columns on MySQL, in one information_schema query: logs from the logs database
 * (mysql.databases.logs with LOG_SQL_DSN), the other tables from the oneapi database.
 */
export async function readMysqlOneApi(db: Kysely<any>, oneapi: string, logs: string): Promise<LiveTables> {
  // one schema and a list of names per SELECT: MariaDB then opens just those tables (an OR of
  // two schemas makes it look at more; measured 2x slower)
  const cols = sql`SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, ORDINAL_POSITION FROM information_schema.COLUMNS`;
  const r = await sql<{ TABLE_NAME: string; COLUMN_NAME: string; DATA_TYPE: string; COLUMN_TYPE: string }>`${logs === oneapi
    ? sql`${cols} WHERE TABLE_SCHEMA = ${oneapi} AND TABLE_NAME IN ('logs', 'tokens', 'options', 'users')`
    : sql`${cols} WHERE TABLE_SCHEMA = ${oneapi} AND TABLE_NAME IN ('tokens', 'options', 'users')
      UNION ALL ${cols} WHERE TABLE_SCHEMA = ${logs} AND TABLE_NAME = 'logs'`}
    ORDER BY ORDINAL_POSITION`.execute(db);
  const out: LiveTables = new Map();
  for (const x of r.rows) {
    if (!out.has(x.TABLE_NAME)) out.set(x.TABLE_NAME, new Map());
    out.get(x.TABLE_NAME)!.set(x.COLUMN_NAME, { type: x.COLUMN_TYPE.toLowerCase(), family: familyOfMysql(x.DATA_TYPE, x.COLUMN_TYPE) });
  }
  return out;
}

/** The One API columns in the current schema of a PostgreSQL database (pg_catalog: no information_schema view cost). */
export async function readPgOneApi(db: Kysely<any>): Promise<LiveTables> {
  const r = await sql<{ table_name: string; column_name: string; type: string }>`
    SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v')
      AND c.relname IN ('logs', 'tokens', 'options', 'users') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`.execute(db);
  const out: LiveTables = new Map();
  for (const x of r.rows) {
    if (!out.has(x.table_name)) out.set(x.table_name, new Map());
    out.get(x.table_name)!.set(x.column_name, { type: x.type, family: familyOfPg(x.type) });
  }
  return out;
}
