// schema init / diff against the live databases, from the one DDL copy in ddl.ts.
import { sql, type Kysely } from 'kysely';
import { MYSQL_SCHEMA, PG_SCHEMA, PG_INDEXES, parseColumns, type DbKey } from './ddl.js';
import type { MysqlDB, LegacyPgDB } from './types.js';

export interface InitReport { created: string[]; skipped: string[] }

/** Create missing databases and tables; never alters or drops what exists. dryRun: only report what it would create. */
export async function initMysqlSchema(db: Kysely<MysqlDB>, names: Record<DbKey, string>, opts: { dryRun?: boolean } = {}): Promise<InitReport> {
  const created: string[] = [];
  const skipped: string[] = [];
  for (const key of ['admin', 'portal', 'oneapi'] as DbKey[]) {
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
        if (present.has(t.name)) { skipped.push(`${name}.${t.name} (exists)`); continue; }
        if (!opts.dryRun) await sql.raw(t.ddl).execute(conn);
        created.push(`${name}.${t.name}`);
      }
    });
  }
  return { created, skipped };
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
  if (!opts.dryRun) for (const ix of PG_INDEXES) await sql.raw(ix).execute(db);
  return { created, skipped };
}

export type DriftKind = 'missing_database' | 'missing_table' | 'missing_column' | 'type_differs' | 'nullability_differs' | 'unexpected_column' | 'extra_column';
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

function normalizePgType(t: string): string {
  const s = t.toLowerCase();
  if (s === 'bigserial') return 'bigint';
  if (s.startsWith('char(')) return 'character';
  if (s.startsWith('varchar(')) return 'character varying';
  return s;
}

/** Columns that, if they appear, change the meaning of the data. */
const UNEXPECTED: Record<string, string> = {
  'oc_instances.status': 'oc_instances gained a status column; sayclaw still treats deleted_at IS NULL as alive',
};

export async function diffMysqlSchema(db: Kysely<MysqlDB>, names: Record<DbKey, string>): Promise<Drift[]> {
  const out: Drift[] = [];
  for (const key of ['admin', 'portal', 'oneapi'] as DbKey[]) {
    const name = names[key];
    const exists = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${name}`.execute(db);
    if (Number(exists.rows[0]!.n) === 0) {
      out.push({ database: name, table: '', column: null, kind: 'missing_database', expected: name, actual: null, failing: true });
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

export async function diffPgSchema(db: Kysely<LegacyPgDB>, database: string): Promise<Drift[]> {
  const out: Drift[] = [];
  const cols = await sql<{ table_name: string; column_name: string; data_type: string }>`
    SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()`.execute(db);
  const live = new Map<string, Map<string, string>>();
  for (const r of cols.rows) {
    if (!live.has(r.table_name)) live.set(r.table_name, new Map());
    live.get(r.table_name)!.set(r.column_name, r.data_type);
  }
  for (const t of PG_SCHEMA) {
    const lt = live.get(t.name);
    if (!lt) { out.push({ database, table: t.name, column: null, kind: 'missing_table', expected: t.name, actual: null, failing: true }); continue; }
    for (const c of parseColumns(t.ddl)) {
      const l = lt.get(c.name);
      const exp = normalizePgType(c.type);
      if (!l) out.push({ database, table: t.name, column: c.name, kind: 'missing_column', expected: exp, actual: null, failing: true });
      else if (l !== exp) out.push({ database, table: t.name, column: c.name, kind: 'type_differs', expected: exp, actual: l, failing: true });
    }
  }
  return out;
}

/** The DDL as text, with the configured database names. */
export function printSchema(names: Record<DbKey, string>): string {
  const parts: string[] = ['-- sayclaw expected schema (MySQL 8 / MariaDB)'];
  for (const key of ['admin', 'portal', 'oneapi'] as DbKey[]) {
    parts.push(`\nCREATE DATABASE IF NOT EXISTS \`${names[key]}\` CHARACTER SET utf8mb4;\nUSE \`${names[key]}\`;`);
    for (const t of MYSQL_SCHEMA[key]) parts.push(`${t.fromSeed ? '-- from the seed' : '-- assumption (docs/schema.md)'}\n${t.ddl};`);
  }
  parts.push('\n-- legacy One API (PostgreSQL 15)');
  for (const t of PG_SCHEMA) parts.push(`${t.ddl};`);
  parts.push(...PG_INDEXES.map((i) => `${i};`));
  return `${parts.join('\n')}\n`;
}
