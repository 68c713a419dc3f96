// The legacy One API PostgreSQL: pg pool with pg-cursor so Kysely can stream.
import { Kysely, PostgresDialect } from 'kysely';
import type { Config } from '../config/schema.js';
import type { LegacyPgDB } from './types.js';

export interface PgHandle {
  db: Kysely<LegacyPgDB>;
  close(): Promise<void>;
}

export async function createPg(cfg: Config['postgres'], password: string | null): Promise<PgHandle> {
  const [{ default: pg }, { default: Cursor }] = await Promise.all([import('pg'), import('pg-cursor')]);
  const pool = new pg.Pool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: password ?? undefined,
    database: cfg.database,
    connectionTimeoutMillis: cfg.connectTimeoutMs,
    max: 4,
    options: '-c TimeZone=UTC -c client_encoding=UTF8',
  });
  pool.on('error', () => { /* idle client errors surface on the next query */ });
  const db = new Kysely<LegacyPgDB>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  return { db, close: () => db.destroy() };
}
