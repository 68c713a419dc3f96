// Per-test-file databases: uniquely named MySQL databases (admin/portal/oneapi) and a
// PostgreSQL database, plus a MySQL user with SELECT, INSERT and UPDATE but no DELETE that the
// CLI under test connects as. Our own tables come from the schema the CLI ships; the One API
// tables come from oneapi-flavours.ts, as the chosen flavour's GORM models create them.
// Dropped again by close().
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { createMysql, type MysqlHandle } from '../../src/db/mysql.js';
import { createPg, type PgHandle } from '../../src/db/pg.js';
import { initMysqlSchema } from '../../src/db/schema-ops.js';
import { MYSQL_SCHEMA, type DbKey } from '../../src/db/ddl.js';
import type { MysqlDB, LegacyPgDB } from '../../src/db/types.js';
import { runCli } from '../../commands/index.js';
import type { Prompter } from '../../src/context.js';
import { mysqlParts, pgParts } from './services.js';
import { createOneApiMysql, createOneApiPg, type MysqlFlavour, type PgFlavour } from './oneapi-flavours.js';

export interface RunResult { code: number; stdout: string; stderr: string }
export interface RunOptions {
  /** stdin and stdout are TTYs (prompts allowed, table output). */
  tty?: boolean;
  stdin?: string;
  /** Answers for prompts, in order. */
  answers?: string[];
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  clock?: () => Date;
  /** sees each write as it happens (to act on a streaming verb's output instead of sleeping) */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface TestEnv {
  id: string;
  names: { admin: string; portal: string; oneapi: string; logs?: string };
  /** the One API flavours the tables were created as */
  flavour: MysqlFlavour;
  pgFlavour: PgFlavour;
  pgDatabase: string;
  /** root handle (for fixtures and assertions); logical names map to this env's databases */
  db: Kysely<MysqlDB>;
  pg: Kysely<LegacyPgDB>;
  tmp: string;
  /** Environment the CLI runs with: the no-DELETE user, this env's database names, HOME=tmp. */
  env: Record<string, string>;
  cliUser: string;
  /** Run a verb in-process. */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

export function scriptedPrompter(answers: string[]): Prompter {
  const next = (m: string) => {
    if (!answers.length) throw new Error(`unexpected prompt: ${m}`);
    return answers.shift()!;
  };
  return {
    input: async (m) => next(m),
    confirm: async (m) => /^y/i.test(next(m)),
    password: async (m) => next(m),
  };
}

/** Run the CLI in-process with captured streams. */
export async function runIn(argv: string[], env: Record<string, string | undefined>, opts: RunOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: {
      stdout: { write: (s: string) => { stdout += s; opts.onOutput?.('stdout', s); return true; } },
      stderr: { write: (s: string) => { stderr += s; opts.onOutput?.('stderr', s); return true; } },
      stdin: Readable.from(opts.stdin !== undefined ? [opts.stdin] : []),
      stdoutIsTTY: !!opts.tty, stdinIsTTY: !!opts.tty, stderrIsTTY: !!opts.tty,
      env: { ...env, ...opts.env }, cwd: process.cwd(),
    },
    prompter: scriptedPrompter([...(opts.answers ?? [])]),
    signal: opts.signal,
    clock: opts.clock,
  });
  return { code, stdout, stderr };
}

export interface TestEnvOptions {
  /** create the no-DELETE user and point the CLI at it (default true) */
  noDeleteUser?: boolean;
  /** create the PostgreSQL database (default true) */
  withPg?: boolean;
  /** One API tables in MySQL as this flavour's GORM models make them (default one-api) */
  flavour?: MysqlFlavour;
  /** the legacy PostgreSQL One API tables (default one-api, the 2025 models) */
  pgFlavour?: PgFlavour;
  /** One API with LOG_SQL_DSN on MySQL: `logs` in a database of its own (SAYCLAW_DB_LOGS) */
  logsDatabase?: boolean;
  /**
   * A collation per MySQL database (e.g. admin utf8mb4_unicode_ci, portal utf8mb4_unicode_520_ci,
   * oneapi utf8mb4_general_ci), as databases created apart end up in production: the database
   * default and every text column of its tables get it.
   */
  collations?: Partial<Record<DbKey, string>>;
}

/**
 * Create the databases asked for under their own collation. Our tables' DDL says DEFAULT
 * CHARSET=utf8mb4, which alone would mean the charset's default collation, so they are created
 * here with the collation added (initMysqlSchema then skips them); GORM's One API tables name no
 * charset and take the database default.
 */
async function createCollated(db: Kysely<MysqlDB>, names: Record<DbKey, string>, collations: Partial<Record<DbKey, string>>): Promise<void> {
  await db.connection().execute(async (conn) => {
    for (const [key, collation] of Object.entries(collations) as Array<[DbKey, string | undefined]>) {
      if (!collation) continue;
      await sql.raw(`CREATE DATABASE \`${names[key]}\` CHARACTER SET utf8mb4 COLLATE ${collation}`).execute(conn);
      if (key === 'oneapi') continue;
      await sql.raw(`USE \`${names[key]}\``).execute(conn);
      for (const t of MYSQL_SCHEMA[key]) await sql.raw(t.ddl.replace(/DEFAULT CHARSET=utf8mb4\b/, `DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`)).execute(conn);
    }
  });
}

export async function createTestEnv(opts: TestEnvOptions = {}): Promise<TestEnv> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const names: TestEnv['names'] = { admin: `${id}_admin`, portal: `${id}_portal`, oneapi: `${id}_oneapi`, ...(opts.logsDatabase ? { logs: `${id}_logs` } : {}) };
  const flavour = opts.flavour ?? 'one-api';
  const pgFlavour = opts.pgFlavour ?? 'one-api';
  const m = mysqlParts();
  const root: MysqlHandle = createMysql({
    host: m.host, port: m.port, user: m.user, passwordFile: null, databases: { logs: null, ...names }, timezone: '+00:00', connectTimeoutMs: 5000, poolSize: 4,
  }, m.password || null);
  if (opts.collations) await createCollated(root.db, names, opts.collations);
  await initMysqlSchema(root.db, names, { keys: ['admin', 'portal'] });
  // the main database always gets all tables (also an empty logs with LOG_SQL_DSN, as One API does)
  await createOneApiMysql(root.db, names.oneapi, flavour);
  if (names.logs) await createOneApiMysql(root.db, names.logs, flavour, ['logs']);

  const p = pgParts();
  const pgDatabase = `${id}_legacy`;
  let pgh: PgHandle | null = null;
  if (opts.withPg !== false) {
    const admin = new pg.Client({ ...p });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${pgDatabase}"`);
    await admin.end();
    pgh = await createPg({ host: p.host, port: p.port, user: p.user, passwordFile: null, database: pgDatabase, connectTimeoutMs: 5000 }, p.password || null);
    await createOneApiPg(pgh.db, pgFlavour);
  }

  const tmp = mkdtempSync(join(tmpdir(), `sayclaw-${id}-`));
  let cliUser = m.user;
  let cliPassword = m.password;
  if (opts.noDeleteUser !== false) {
    cliUser = `${id}_cli`.slice(0, 32);
    cliPassword = randomBytes(12).toString('hex');
    for (const host of ['127.0.0.1', 'localhost']) {
      await sql.raw(`CREATE USER '${cliUser}'@'${host}' IDENTIFIED BY '${cliPassword}'`).execute(root.db);
      for (const d of Object.values(names)) {
        await sql.raw(`GRANT SELECT, INSERT, UPDATE ON \`${d}\`.* TO '${cliUser}'@'${host}'`).execute(root.db);
      }
    }
  }
  const pwFile = join(tmp, 'mysql.pw');
  writeFileSync(pwFile, `${cliPassword}\n`, { mode: 0o600 });
  const env: Record<string, string> = {
    HOME: tmp,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    USER: 'tester',
    SAYCLAW_MYSQL_URL: `mysql://${encodeURIComponent(cliUser)}:${encodeURIComponent(cliPassword)}@${m.host}:${m.port}`,
    SAYCLAW_PG_URL: `postgres://${encodeURIComponent(p.user)}${p.password ? `:${encodeURIComponent(p.password)}` : ''}@${p.host}:${p.port}/${pgDatabase}`,
    SAYCLAW_DB_ADMIN: names.admin,
    SAYCLAW_DB_PORTAL: names.portal,
    SAYCLAW_DB_ONEAPI: names.oneapi,
    ...(names.logs ? { SAYCLAW_DB_LOGS: names.logs } : {}),
  };

  return {
    id, names, flavour, pgFlavour, pgDatabase, db: root.db, pg: pgh?.db as Kysely<LegacyPgDB>, tmp, env, cliUser,
    run: (argv, o) => runIn(argv, env, o),
    async close() {
      for (const d of Object.values(names)) await sql.raw(`DROP DATABASE IF EXISTS \`${d}\``).execute(root.db);
      if (cliUser !== m.user) {
        for (const host of ['127.0.0.1', 'localhost']) await sql.raw(`DROP USER IF EXISTS '${cliUser}'@'${host}'`).execute(root.db);
      }
      await root.close();
      if (pgh) {
        await pgh.close();
        const admin = new pg.Client({ ...p });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS "${pgDatabase}" WITH (FORCE)`);
        await admin.end();
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
