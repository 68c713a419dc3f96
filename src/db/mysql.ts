// The MySQL side: one mysql2 pool (utf8mb4, exact BIGINT/DECIMAL, explicit session time zone)
// wrapped in Kysely with the logical-to-configured database name mapping.
import { Kysely, MysqlDialect, CompiledQuery } from 'kysely';
// Bundled into dist/main.cjs, so its code is in the V8 code cache with the rest of the CLI.
import { createPool } from 'mysql2';
import type { Config } from '../config/schema.js';
import { SchemaMapPlugin } from './schema-map.js';
import type { MysqlDB } from './types.js';

export interface MysqlHandle {
  db: Kysely<MysqlDB>;
  names: Config['mysql']['databases'];
  close(): Promise<void>;
}

/** The connection settings every sayclaw MySQL connection uses (pool or a dedicated stream). */
export function mysqlConnectionOptions(cfg: Config['mysql'], password: string | null) {
  return {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: password ?? undefined,
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: cfg.timezone === '+00:00' ? 'Z' : cfg.timezone,
    connectTimeout: cfg.connectTimeoutMs,
    multipleStatements: false,
  };
}

/** Run on every new connection: explicit session time zone, utf8mb4. */
export function sessionSetupSql(cfg: Config['mysql']): string {
  return `SET time_zone = '${cfg.timezone}', NAMES utf8mb4`;
}

/**
 * Logical database name -> configured name. "oneapi_logs" is where One API's `logs` table is:
 * its own database with LOG_SQL_DSN (mysql.databases.logs), else the oneapi database.
 */
export function logicalNames(d: Config['mysql']['databases']): Record<string, string> {
  return { admin: d.admin, portal: d.portal, oneapi: d.oneapi, oneapi_logs: d.logs ?? d.oneapi };
}

export function createMysql(cfg: Config['mysql'], password: string | null): MysqlHandle {
  const pool = createPool({ ...mysqlConnectionOptions(cfg, password), connectionLimit: cfg.poolSize, dateStrings: false });
  const db = new Kysely<MysqlDB>({
    dialect: new MysqlDialect({
      pool,
      onCreateConnection: async (conn) => {
        await conn.executeQuery(CompiledQuery.raw(sessionSetupSql(cfg)));
      },
    }),
    plugins: [new SchemaMapPlugin(logicalNames(cfg.databases))],
  });
  return { db, names: cfg.databases, close: () => db.destroy() };
}
