// scripts/demo.sh's loader (dist/demo/seed-demo.js): loads the demo fleet into empty databases
// only, `--reset` drops and reloads a demo, and refuses databases that hold instances without
// the demo's marker row. Run as the MySQL account demo.sh uses (it creates and drops databases).
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { BIN } from '../support/bin.js';

const SEED = fileURLToPath(new URL('../../dist/demo/seed-demo.js', import.meta.url));
let t: TestEnv;
beforeAll(async () => { t = await createTestEnv({ noDeleteUser: false }); }, 120000);
afterAll(async () => { await t?.close(); });

const seed = (args: string[] = []) => spawnSync(process.execPath, [SEED, ...args], { env: t.env, encoding: 'utf8', timeout: 120000 });
const alive = async () => Number((await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table(`${t.names.admin}.oc_instances`)} WHERE deleted_at IS NULL`.execute(t.db)).rows[0]!.n);

test('load once, not again; --reset reloads the demo as it was; databases without the demo marker are refused', async () => {
  let r = seed();
  expect(r.status).toBe(0);
  const n = await alive();
  expect(n).toBeGreaterThan(10);
  // the README's cast is there
  expect(execFileSync(process.execPath, [BIN, 'users', 'show', 'li.na@sayclaw.test', '-o', 'json'], { env: t.env, encoding: 'utf8' })).toContain('李娜');
  // an operator's change, then a plain re-run: nothing is loaded twice
  await sql`UPDATE ${sql.table(`${t.names.admin}.oc_instances`)} SET deleted_at = NOW(3) WHERE id = 'oc-ai-jp-2-01'`.execute(t.db);
  r = seed();
  expect(r.status).toBe(0);
  expect(r.stdout + r.stderr).toMatch(/already present; not loading again/);
  expect(await alive()).toBe(n - 1);
  // --reset: dropped and loaded again, the change gone
  r = seed(['--reset']);
  expect(r.status).toBe(0);
  expect(r.stdout + r.stderr).toMatch(/dropped /);
  expect(await alive()).toBe(n);
  // not a demo (no marker row): refused, nothing dropped
  await sql`UPDATE ${sql.table(`${t.names.admin}.admin_logs`)} SET action = 'not.demo' WHERE action = 'demo.load'`.execute(t.db);
  r = seed(['--reset']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/no demo marker .*nothing dropped/);
  expect(await alive()).toBe(n);
}, 240000);
