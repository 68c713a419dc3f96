// Loads the demo fleet (scripts/demo-fleet.ts) into the configured databases: creates the
// missing schema, then loads once into empty databases. `--reset` drops and reloads it, but only
// on a loopback server whose databases carry the demo's marker (or are empty): never a real fleet.
import { sql } from 'kysely';
import { Context } from '../src/context.js';
import { initMysqlSchema, initPgSchema } from '../src/db/schema-ops.js';
import { PG_SCHEMA } from '../src/db/ddl.js';
import { isDemo, loadDemoFleet } from './demo-fleet.js';

const reset = process.argv.includes('--reset');
const newContext = () => new Context({
  stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, stdoutIsTTY: false, stdinIsTTY: false,
  stderrIsTTY: false, env: process.env, cwd: process.cwd(),
}, {});
let ctx = newContext();
const say = (s: string) => process.stderr.write(`demo: ${s}\n`);
try {
  await ctx.init();
  const cfg = ctx.config();
  let { db, names } = await ctx.mysql();
  let pg = await ctx.pg();
  const count = async () => {
    const tables = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${names.admin} AND TABLE_NAME = 'oc_instances'`.execute(db);
    if (Number(tables.rows[0]!.n) === 0) return 0;
    return Number((await db.selectFrom('admin.oc_instances').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow()).n);
  };
  if (reset) {
    const loopback = (h: string) => /^(127\.|localhost$|::1$)/.test(h);
    if (!loopback(cfg.mysql.host) || !loopback(cfg.postgres.host)) {
      throw new Error(`--reset only reloads a demo on this machine; MySQL is ${cfg.mysql.host}, PostgreSQL ${cfg.postgres.host}: nothing dropped`);
    }
    if (await count() > 0 && !await isDemo(db)) {
      throw new Error(`--reset: ${names.admin} holds instances but no demo marker (not loaded by scripts/demo.sh): nothing dropped`);
    }
    const dbs = [names.admin, names.portal, names.oneapi, ...(names.logs ? [names.logs] : [])];
    for (const d of dbs) await sql`DROP DATABASE IF EXISTS ${sql.id(d)}`.execute(db);
    for (const t of PG_SCHEMA) await sql`DROP TABLE IF EXISTS ${sql.id(t.name)}`.execute(pg.db);
    say(`dropped ${dbs.join(', ')} and the legacy tables in PostgreSQL ${cfg.postgres.database}`);
    // fresh handles: the pool's connections may have had a dropped database selected
    await ctx.close();
    ctx = newContext();
    await ctx.init();
    ({ db, names } = await ctx.mysql());
    pg = await ctx.pg();
  }
  await initMysqlSchema(db, names);
  await initPgSchema(pg.db);
  const n = await count();
  if (n > 0) {
    say(`${n} instances already present; not loading again (reload it with: bash scripts/demo.sh --reset)`);
  } else {
    const have = await pg.db.selectFrom('logs').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow();
    const s = await loadDemoFleet(db, Number(have.n) === 0 ? pg.db : null);
    say(`loaded ${s.servers} servers, ${s.users} users, ${s.admins} admin accounts, ${s.instances} instances, ${s.mysqlLogs} MySQL and ${s.legacyLogs} legacy log rows`);
  }
} catch (err) {
  say(`error: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await ctx.close();
}
