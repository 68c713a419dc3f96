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
  // a checked-out client emits 'error' too when its connection dies (mid-stream); the query or
  // cursor using it is rejected with the same error, so the event itself must not crash us
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  // pg-cursor's close() waits for a readyForQuery that a dead connection never sends: Kysely
  // awaits it when a stream fails, so a connection lost mid-stream would hang the run
  class ClosingCursor extends Cursor {}
  const close = Cursor.prototype.close;
  ClosingCursor.prototype.close = function (this: InstanceType<typeof Cursor>, cb?: (err: Error) => void) {
    if ((this as unknown as { state: string }).state !== 'error') return close.call(this, cb as never);
    if (cb) { setImmediate(cb as () => void); return undefined; }
    return Promise.resolve();
  } as typeof close;
  const db = new Kysely<LegacyPgDB>({ dialect: new PostgresDialect({ pool, cursor: ClosingCursor }) });
  return { db, close: () => db.destroy() };
}
