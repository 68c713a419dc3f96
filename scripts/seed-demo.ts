// Loads the demo fleet (the same builder the tests use) into the configured databases, once.
import { sql } from 'kysely';
import { Context } from '../src/context.js';
import { generateFleet, loadFleet, loadLegacyLogs } from '../tests/support/fixtures.js';

const ctx = new Context({
  stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, stdoutIsTTY: false, stdinIsTTY: false,
  stderrIsTTY: false, env: process.env, cwd: process.cwd(),
}, {});
try {
  await ctx.init();
  const { db } = await ctx.mysql();
  const n = await db.selectFrom('admin.oc_instances').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow();
  if (Number(n.n) > 0) {
    process.stderr.write(`demo: ${n.n} instances already present; not loading again\n`);
  } else {
    const until = Math.floor(Date.now() / 1000);
    const fleet = generateFleet({ seed: 2026, servers: 8, users: 24, logsPerInstance: 20, logsUntil: until,
      prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-jp-1-': 6, 'oc-ai-us-1-': 5, 'oc-ai-sg-1-': 4 } });
    await loadFleet(db, fleet);
    const legacy = generateFleet({ seed: 2025, servers: 8, users: 24, logsPerInstance: 10, logsUntil: until - 30 * 86400,
      prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-jp-1-': 6, 'oc-ai-us-1-': 5, 'oc-ai-sg-1-': 4 } }).logs;
    const pg = await ctx.pg();
    const have = await pg.db.selectFrom('logs').select(sql<string>`COUNT(*)`.as('n')).executeTakeFirstOrThrow();
    if (Number(have.n) === 0) await loadLegacyLogs(pg.db, legacy);
    process.stderr.write(`demo: loaded ${fleet.servers.length} servers, ${fleet.users.length} users, ${fleet.instances.length} instances, ${fleet.logs.length} MySQL and ${legacy.length} legacy log rows\n`);
  }
} finally {
  await ctx.close();
}
