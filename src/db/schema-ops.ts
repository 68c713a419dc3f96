// schema init / diff against the live databases: sayclaw's own tables strictly against the one
// DDL copy in ddl.ts; One API's tables by the columns sayclaw reads, on any flavour (oneapi-schema.ts).
import { sql, type Kysely } from 'kysely';
import { MYSQL_SCHEMA, PG_SCHEMA, PG_INDEXES, parseColumns, parseIndexes, type DbKey, type TableDdl } from './ddl.js';
import { checkOneApi, describeOneApi, readMysqlOneApi, readPgOneApi } from './oneapi-schema.js';
import type { MysqlDB, LegacyPgDB } from './types.js';

export const DB_KEYS: readonly DbKey[] = ['admin', 'portal', 'oneapi'];
/** The configured names; logs is the LOG_SQL_DSN database (null = the oneapi one). */
export type DbNames = Record<DbKey, string> & { logs?: string | null };

export interface InitReport { created: string[]; skipped: string[] }

/** Create missing databases, tables and (in sayclaw's own databases) plain indexes; never
 * changes a column or drops anything, and never touches an existing One API table.
 * keys: which databases (default all three); dryRun: only report what it would create. */
export async function initMysqlSchema(db: Kysely<MysqlDB>, names: DbNames, opts: { keys?: readonly DbKey[]; dryRun?: boolean } = {}): Promise<InitReport> {
  const created: string[] = [];
  const skipped: string[] = [];
  for (const key of opts.keys ?? DB_KEYS) {
    const name = names[key];
    const exists = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${name}`.execute(db);
    if (Number(exists.rows[0]!.n) === 0) {
      if (opts.dryRun) {
        created.push(`database ${name}`, ...MYSQL_SCHEMA[key].map((t) => `${name}.${t.name}`));
        continue;
      }
      await sql`CREATE DATABASE IF NOT EXISTS ${sql.id(name)} CHARACTER SET utf8mb4`.execute(db);
      created.push(`database ${name}`);
    }
    const have = await sql<{ TABLE_NAME: string }>`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${name}`.execute(db);
    const present = new Set(have.rows.map((r) => r.TABLE_NAME));
    await db.connection().execute(async (conn) => {
      await sql`USE ${sql.id(name)}`.execute(conn);
      for (const t of MYSQL_SCHEMA[key]) {
        if (present.has(t.name)) {
          skipped.push(`${name}.${t.name} (exists)`);
          // One API's tables are not ours: their indexes are left as its models made them
          if (key !== 'oneapi') created.push(...await addMissingIndexes(conn, name, t, !!opts.dryRun));
          continue;
        }
        if (!opts.dryRun) await sql.raw(t.ddl).execute(conn);
        created.push(`${name}.${t.name}`);
      }
    });
  }
  return { created, skipped };
}

/** Indexes the DDL declares that an existing table lacks (e.g. admin_logs' audit indexes), added. */
async function addMissingIndexes(conn: Kysely<MysqlDB>, database: string, t: TableDdl, dryRun: boolean): Promise<string[]> {
  const want = parseIndexes(t.ddl);
  if (!want.length) return [];
  const have = await sql<{ INDEX_NAME: string }>`SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = ${database} AND TABLE_NAME = ${t.name}`.execute(conn);
  const names = new Set(have.rows.map((r) => r.INDEX_NAME));
  const added: string[] = [];
  for (const ix of want) {
    if (names.has(ix.name)) continue;
    if (!dryRun) await sql`CREATE INDEX ${sql.id(ix.name)} ON ${sql.id(t.name)} (${sql.join(ix.columns.map((c) => sql.id(c)))})`.execute(conn);
    added.push(`index ${database}.${t.name}.${ix.name} (${ix.columns.join(', ')})`);
  }
  return added;
}

export async function initPgSchema(db: Kysely<LegacyPgDB>, opts: { dryRun?: boolean } = {}): Promise<InitReport> {
  const created: string[] = [];
  const skipped: string[] = [];
  const have = await sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`.execute(db);
  const present = new Set(have.rows.map((r) => r.table_name));
  for (const t of PG_SCHEMA) {
    if (present.has(t.name)) { skipped.push(`postgres ${t.name} (exists)`); continue; }
    if (!opts.dryRun) await sql.raw(t.ddl).execute(db);
    created.push(`postgres ${t.name}`);
  }
  // indexes on an existing table too (a missing one is re-created): say which
  const idx = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`.execute(db);
  const indexes = new Set(idx.rows.map((r) => r.indexname));
  for (const ix of PG_INDEXES) {
    const m = /INDEX IF NOT EXISTS (\w+) ON (\w+)/.exec(ix);
    const what = m ? `postgres index ${m[1]} on ${m[2]}` : `postgres index (${ix})`;
    if (m && indexes.has(m[1]!)) { skipped.push(`${what} (exists)`); continue; }
    if (!opts.dryRun) await sql.raw(ix).execute(db);
    created.push(what);
  }
  return { created, skipped };
}

export type DriftKind = 'missing_database' | 'missing_table' | 'missing_column' | 'type_differs' | 'nullability_differs' | 'unexpected_column' | 'extra_column'
  /** One API: which flavour (and vintage) the tables are; the columns sayclaw does not read */
  | 'flavour' | 'not_read';
export interface Drift {
  database: string;
  table: string;
  column: string | null;
  kind: DriftKind;
  expected: string | null;
  actual: string | null;
  /** false for notes (an extra column we do not use) */
  failing: boolean;
}

/** MariaDB/MySQL 5.7 show int(11); MySQL 8 shows int. Compare without display widths. */
export function normalizeMysqlType(t: string): string {
  const s = t.toLowerCase().trim();
  if (/^tinyint\(1\)/.test(s)) return s;
  return s.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1');
}

/** Columns that, if they appear, change the meaning of the data. */
const UNEXPECTED: Record<string, string> = {
  'oc_instances.status': 'oc_instances gained a status column; sayclaw still treats deleted_at IS NULL as alive',
};

async function databaseExists(db: Kysely<MysqlDB>, name: string): Promise<boolean> {
  const r = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${name}`.execute(db);
  return Number(r.rows[0]!.n) > 0;
}

export async function diffMysqlSchema(db: Kysely<MysqlDB>, names: DbNames): Promise<Drift[]> {
  const out: Drift[] = [];
  const missingDb = (name: string) => out.push({ database: name, table: '', column: null, kind: 'missing_database', expected: name, actual: null, failing: true });
  for (const key of DB_KEYS) {
    const name = names[key];
    if (!await databaseExists(db, name)) { missingDb(name); continue; }
    if (key === 'oneapi') {
      const logs = names.logs ?? name;
      if (logs !== name && !await databaseExists(db, logs)) missingDb(logs);
      const s = describeOneApi(await readMysqlOneApi(db, name, logs));
      out.push(...checkOneApi(s, ['logs', 'tokens', 'options'], (t) => (t === 'logs' ? logs : name)));
      continue;
    }
    const cols = await sql<{ TABLE_NAME: string; COLUMN_NAME: string; COLUMN_TYPE: string; IS_NULLABLE: string }>`
      SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${name}`.execute(db);
    const live = new Map<string, Map<string, { type: string; nullable: boolean }>>();
    for (const r of cols.rows) {
      if (!live.has(r.TABLE_NAME)) live.set(r.TABLE_NAME, new Map());
      live.get(r.TABLE_NAME)!.set(r.COLUMN_NAME, { type: normalizeMysqlType(r.COLUMN_TYPE), nullable: r.IS_NULLABLE === 'YES' });
    }
    for (const t of MYSQL_SCHEMA[key]) {
      const lt = live.get(t.name);
      if (!lt) { out.push({ database: name, table: t.name, column: null, kind: 'missing_table', expected: t.name, actual: null, failing: true }); continue; }
      const expected = parseColumns(t.ddl);
      for (const c of expected) {
        const l = lt.get(c.name);
        if (!l) { out.push({ database: name, table: t.name, column: c.name, kind: 'missing_column', expected: c.type, actual: null, failing: true }); continue; }
        if (normalizeMysqlType(c.type) !== l.type) out.push({ database: name, table: t.name, column: c.name, kind: 'type_differs', expected: normalizeMysqlType(c.type), actual: l.type, failing: true });
        else if (c.nullable !== l.nullable) out.push({ database: name, table: t.name, column: c.name, kind: 'nullability_differs', expected: c.nullable ? 'NULL' : 'NOT NULL', actual: l.nullable ? 'NULL' : 'NOT NULL', failing: true });
      }
      const known = new Set(expected.map((c) => c.name));
      for (const [cn, l] of lt) {
        if (known.has(cn)) continue;
        const why = UNEXPECTED[`${t.name}.${cn}`];
        out.push({ database: name, table: t.name, column: cn, kind: why ? 'unexpected_column' : 'extra_column', expected: why ?? null, actual: l.type, failing: !!why });
      }
    }
  }
  return out;
}

/** The legacy PostgreSQL: sayclaw reads `logs` only; tokens tell the vintage. */
export async function diffPgSchema(db: Kysely<LegacyPgDB>, database: string): Promise<Drift[]> {
  return checkOneApi(describeOneApi(await readPgOneApi(db)), ['logs'], () => database);
}

/** The DDL as text, with the configured database names. */
export function printSchema(names: DbNames): string {
  const parts: string[] = ['-- sayclaw expected schema (MySQL 8 / MariaDB)'];
  for (const key of DB_KEYS) {
    parts.push(`\nCREATE DATABASE IF NOT EXISTS \`${names[key]}\` CHARACTER SET utf8mb4;\nUSE \`${names[key]}\`;`);
    for (const t of MYSQL_SCHEMA[key]) parts.push(`${t.fromSeed ? '-- from the seed' : '-- assumption (docs/schema.md)'}\n${t.ddl};`);
  }
  parts.push('\n-- legacy One API (PostgreSQL 15)');
  for (const t of PG_SCHEMA) parts.push(`${t.ddl};`);
  parts.push(...PG_INDEXES.map((i) => `${i};`));
  return `${parts.join('\n')}\n`;
}
