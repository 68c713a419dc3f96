// usage export / rollup under faults, through the built bin/sayclaw as cron runs it: an --out
// the account cannot write (run as `nobody`), a rename refused by a sticky directory, the
// database connection cut in the middle of a raw export (the fault proxy), SIGTERM from
// timeout(1), job_runs rows of runs that ended, and what --out may name (existing files keep
// their mode and owner; FIFOs, devices, directories, dangling symlinks and "dir/x/" are refused).
// Every fault: one error line, the right exit code, no temporary file, no hang, lock released.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync,
  lstatSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { spawnBin, type BinResult } from '../support/bin.js';
import { generateFleet, insertSequenceLogs, loadFleet } from '../support/fixtures.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { mysqlParts } from '../support/services.js';

const NOBODY = { uid: 65534, gid: 65534 };
const BASE = Math.floor(Date.UTC(2026, 10, 1) / 1000);
let t: TestEnv;
let env: Record<string, string>;
let proxy: FaultProxy;
/** a world-traversable scratch dir (t.tmp is 0700 root): nobody's home, lock dir and outputs */
let pub: string;
let nobodyEnv: Record<string, string>;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  const fleet = generateFleet({ seed: 6, logsPerInstance: 0 });
  await loadFleet(t.db, fleet);
  await insertSequenceLogs(t.db, t.names.oneapi, { base: BASE, count: 60000, tokens: fleet.instances.map((i) => i.token_name), stray: true });
  env = { ...t.env, SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/unused', SAYCLAW_USAGE_TIMEZONE: 'UTC' };
  const m = mysqlParts();
  proxy = await FaultProxy.start({ host: m.host, port: m.port });
  pub = mkdtempSync(join(tmpdir(), 'sayclaw-export-faults-'));
  chmodSync(pub, 0o755);
  const home = join(pub, 'home');
  mkdirSync(home);
  chownSync(home, NOBODY.uid, NOBODY.gid);
  nobodyEnv = { ...env, HOME: home };
}, 120000);
afterAll(async () => {
  await proxy?.close();
  await t?.close();
  if (pub) rmSync(pub, { recursive: true, force: true });
});
afterEach(async () => { proxy.clear(); await proxy.accept(); });

const RANGE = ['--set', `usage.legacyUntil=${BASE - 30 * 86400}`, 'usage', 'export', '--since', '2026-10-31', '--until', '2026-11-08'];
const errors = (r: BinResult) => r.stderr.split('\n').filter((l) => l.startsWith('error:'));
const tmpFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
const lastJob = async () => (await sql<{ status: string; error: string | null; pid: number }>`SELECT status, error, pid FROM ${sql.table('admin.job_runs')}
  WHERE job = 'usage export' ORDER BY started_at DESC LIMIT 1`.execute(t.db)).rows[0]!;
const viaProxy = () => ({ ...env, SAYCLAW_MYSQL_URL: proxy.url(env.SAYCLAW_MYSQL_URL!) });
function noCrash(r: BinResult) {
  expect(r.stderr).not.toMatch(/Unhandled 'error' event|node:internal|at .*\.c?js:\d+/);
  expect(r.code).not.toBe(-1); // not hung
}

describe('output errors end the run at once', () => {
  test('--out in a directory the account cannot write: exit 1, one line naming the path and the cause', async () => {
    const dir = join(pub, 'root-only');
    mkdirSync(dir, { mode: 0o755 });
    const out = join(dir, 'u.csv');
    const r = await spawnBin([...RANGE, '--raw', '--out', out], nobodyEnv, { as: NOBODY, killAfterMs: 20000 });
    noCrash(r);
    expect(r.code).toBe(1);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toContain(dir);
    expect(errors(r)[0]).toMatch(/EACCES|permission denied/);
    expect(readdirSync(dir)).toEqual([]);
    expect((await lastJob()).status).toBe('failed');
    // the lock was released: the same export to a writable place works at once
    const ok = join(pub, 'home', 'u.csv');
    const again = await spawnBin([...RANGE, '--out', ok, '--quiet'], nobodyEnv, { as: NOBODY });
    expect(again).toMatchObject({ code: 0, stderr: '' });
  }, 60000);

  test('someone else\'s file in a sticky directory: refused before any work (exit 2; the rename would change its owner)', async () => {
    const dir = join(pub, 'sticky');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    const out = join(dir, 'report.csv');
    writeFileSync(out, 'old\n', { mode: 0o666 }); // root's file: nobody may write it, not replace it
    const r = await spawnBin([...RANGE, '--out', out], nobodyEnv, { as: NOBODY, killAfterMs: 20000 });
    noCrash(r);
    expect(r.code).toBe(2);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(/belongs to uid 0/);
    expect(readFileSync(out, 'utf8')).toBe('old\n');
    expect(tmpFiles(dir)).toEqual([]);
  }, 60000);

  test('a rename refused (an immutable file): exit 1, one line naming the path and the cause; old file untouched, no temp file', async () => {
    const dir = join(t.tmp, 'immutable');
    mkdirSync(dir);
    const out = join(dir, 'report.csv');
    writeFileSync(out, 'old\n');
    execFileSync('chattr', ['+i', out]);
    try {
      const r = await spawnBin([...RANGE, '--out', out], env, { killAfterMs: 20000 });
      noCrash(r);
      expect(r.code).toBe(1);
      expect(errors(r)).toHaveLength(1);
      expect(errors(r)[0]).toContain(out);
      expect(errors(r)[0]).toMatch(/renaming .*refused.*EPERM/);
      expect(readFileSync(out, 'utf8')).toBe('old\n');
      expect(tmpFiles(dir)).toEqual([]);
      expect((await lastJob()).status).toBe('failed');
    } finally {
      execFileSync('chattr', ['-i', out]);
    }
  }, 60000);

  test('stdout that cannot be written (a full disk behind "> file"): exit 1, one line; lock released', async () => {
    const toFull = ['sh', '-c', 'exec "$0" "$@" > /dev/full'];
    for (const argv of [[...RANGE, '--raw'], ['instances', 'ls', '-o', 'json'], ['help', 'exit-codes']]) {
      const r = await spawnBin(argv, env, { wrap: toFull, killAfterMs: 20000 });
      noCrash(r);
      expect({ argv, code: r.code }).toEqual({ argv, code: 1 });
      expect(errors(r)).toEqual([expect.stringMatching(/cannot write stdout.*ENOSPC/)]);
    }
    const again = await spawnBin([...RANGE, '--quiet'], env);
    expect(again.code).toBe(0);
  }, 60000);

  test('the lock directory is a file, or not writable: a clear exit-1 error', async () => {
    const file = join(pub, 'lockfile');
    writeFileSync(file, '');
    const a = await spawnBin(['--set', `usage.lockDir=${file}`, ...RANGE, '--out', join(t.tmp, 'l1.csv')], env);
    noCrash(a);
    expect(a.code).toBe(1);
    expect(errors(a)).toHaveLength(1);
    expect(errors(a)[0]).toMatch(new RegExp(`lock directory ${file}.*not a directory`));
    const ro = join(pub, 'ro-locks');
    mkdirSync(ro, { mode: 0o755 });
    const b = await spawnBin(['--set', `usage.lockDir=${ro}`, ...RANGE, '--out', join(pub, 'home', 'l2.csv')], nobodyEnv, { as: NOBODY });
    noCrash(b);
    expect(b.code).toBe(1);
    expect(errors(b)).toHaveLength(1);
    expect(errors(b)[0]).toMatch(new RegExp(`lock directory ${ro}.*(EACCES|permission denied)`));
  }, 60000);
});

describe('the database connection lost mid raw export', () => {
  test('exit 5 with one line; no crash, no temp file, the final name untouched, lock released, job failed', async () => {
    const dir = join(t.tmp, 'cut');
    mkdirSync(dir);
    const out = join(dir, 'raw.csv');
    writeFileSync(out, 'yesterday\n');
    const fired = proxy.add({ match: /FROM `[^`]+`\.`logs` l LEFT JOIN/, action: { replyBytes: 300_000 } });
    const r = await spawnBin([...RANGE, '--raw', '--out', out], viaProxy(), { killAfterMs: 30000 });
    await fired;
    noCrash(r);
    expect(r.code).toBe(5);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(/connection lost/i);
    expect(readFileSync(out, 'utf8')).toBe('yesterday\n');
    expect(tmpFiles(dir)).toEqual([]);
    expect(await lastJob()).toMatchObject({ status: 'failed' });
    const next = await spawnBin([...RANGE, '--raw', '--out', out, '--quiet'], env);
    expect(next).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(out, 'utf8').split('\r\n').length).toBe(60000 + 2);
  }, 60000);

  test('...and the database stays unreachable: job_runs cannot be updated; the next run marks that row interrupted', async () => {
    const dir = join(t.tmp, 'cut2');
    mkdirSync(dir);
    const out = join(dir, 'raw.csv');
    const fired = proxy.add({ match: /FROM `[^`]+`\.`logs` l LEFT JOIN/, action: { replyBytes: 300_000 }, thenRefuse: true });
    let pid = 0;
    const r = await spawnBin([...RANGE, '--raw', '--out', out], viaProxy(), { killAfterMs: 40000, onSpawn: (p) => { pid = p; } });
    await fired;
    noCrash(r);
    expect(r.code).toBe(5);
    expect(errors(r)).toHaveLength(1);
    expect(tmpFiles(dir)).toEqual([]);
    const stale = await lastJob();
    expect(stale).toMatchObject({ status: 'running', pid });
    const next = await spawnBin([...RANGE, '--out', out, '--quiet'], env);
    expect(next.code).toBe(0);
    const row = (await sql<{ status: string; error: string }>`SELECT status, error FROM ${sql.table('admin.job_runs')} WHERE pid = ${pid} AND job = 'usage export'`.execute(t.db)).rows;
    expect(row).toHaveLength(1);
    expect(row[0]!.status).toBe('interrupted');
    expect(row[0]!.error).toMatch(/process .*ended without recording/);
  }, 60000);

  test('a running row of a live process, or of another host, is left alone', async () => {
    const id1 = crypto.randomUUID();
    const id2 = crypto.randomUUID();
    await t.db.insertInto('admin.job_runs').values([
      { id: id1, job: 'usage export', args_json: '{}', host: hostname(), pid: process.pid, status: 'running', rows_processed: 0, error: null, finished_at: null, deleted_at: null },
      { id: id2, job: 'usage export', args_json: '{}', host: 'elsewhere.example', pid: 999999, status: 'running', rows_processed: 0, error: null, finished_at: null, deleted_at: null },
    ] as never).execute();
    const r = await spawnBin([...RANGE, '--out', join(t.tmp, 'alone.csv'), '--quiet'], env);
    expect(r.code).toBe(0);
    const rows = await t.db.selectFrom('admin.job_runs').select(['id', 'status']).where('id', 'in', [id1, id2]).orderBy('id').execute();
    expect(rows.map((x) => x.status)).toEqual(['running', 'running']);
    await t.db.updateTable('admin.job_runs').set({ status: 'failed' }).where('id', 'in', [id1, id2]).execute();
  }, 30000);

  test('a failed final job_runs update never turns a complete, renamed export into exit 5', async () => {
    const out = join(t.tmp, 'finish.csv');
    const fired = proxy.add({ match: /^update `[^`]+`\.`job_runs`/i, action: 'cut' });
    const r = await spawnBin([...RANGE, '--out', out], viaProxy());
    await fired;
    noCrash(r);
    expect(r.code).toBe(0);
    expect(errors(r)).toEqual([]);
    expect(r.stderr).toMatch(/warning: .*job_runs/);
    expect(readFileSync(out, 'utf8')).toMatch(/^requests,prompt_tokens/);
  }, 30000);
});

describe('the legacy PostgreSQL connection lost mid raw export', () => {
  test('exit 5 with one line; no crash, no temp file, the final name untouched, lock released, job failed', async () => {
    const { createTestEnv: mk } = await import('../support/testenv.js');
    const { pgParts } = await import('../support/services.js');
    const t2 = await mk({ withPg: true, noDeleteUser: false });
    const p = pgParts();
    const pgProxy = await FaultProxy.start({ host: p.host, port: p.port }, { raw: true });
    try {
      await sql`INSERT INTO logs (user_id, created_at, type, content, token_name, model_name, quota, prompt_tokens, completion_tokens, channel_id)
        SELECT 1, ${BASE} + g * 3, 2, '', 'legacy-token', 'gpt-4', g % 700, g % 50, g % 20, 1 FROM generate_series(1, 60000) g`.execute(t2.pg);
      const u = new URL(t2.env.SAYCLAW_PG_URL!);
      u.hostname = pgProxy.host;
      u.port = String(pgProxy.port);
      const e2 = { ...t2.env, SAYCLAW_PG_URL: u.toString(), SAYCLAW_USAGE_TIMEZONE: 'UTC' };
      const dir = join(t2.tmp, 'pgcut');
      mkdirSync(dir);
      const argv = ['--set', `usage.legacyUntil=${BASE + 10 * 86400}`, 'usage', 'export', '--raw', '--since', '2026-10-31', '--until', '2026-11-08', '--out', join(dir, 'raw.csv')];
      writeFileSync(join(dir, 'raw.csv'), 'yesterday\n');
      pgProxy.cutAfterBytes(400_000);
      const r = await spawnBin(argv, e2, { killAfterMs: 30000 });
      noCrash(r);
      expect(r.code).toBe(5);
      expect(errors(r)).toHaveLength(1);
      expect(errors(r)[0]).toMatch(/PostgreSQL|connection/i);
      // yesterday's file stands, no temp file beside it, the run is recorded as failed
      expect(readdirSync(dir)).toEqual(['raw.csv']);
      expect(readFileSync(join(dir, 'raw.csv'), 'utf8')).toBe('yesterday\n');
      const job = (await sql<{ status: string }>`SELECT status FROM ${sql.table('admin.job_runs')} WHERE job = 'usage export' ORDER BY started_at DESC LIMIT 1`.execute(t2.db)).rows[0];
      expect(job).toMatchObject({ status: 'failed' });
      pgProxy.cutAfterBytes(null);
      const ok = await spawnBin([...argv, '--quiet'], e2);
      expect(ok).toMatchObject({ code: 0, stderr: '' });
      expect(readFileSync(join(dir, 'raw.csv'), 'utf8').split('\r\n').length).toBe(60000 + 2);
    } finally {
      await pgProxy.close();
      await t2.close();
    }
  }, 90000);
});

describe('signals', () => {
  test('one SIGTERM from timeout(1) always takes the clean path: exit 130, no temp file, job interrupted (5 runs)', async () => {
    const dir = join(t.tmp, 'term');
    mkdirSync(dir);
    const out = join(dir, 'raw.csv');
    for (let i = 0; i < 5; i++) {
      // ~100 chunks of 60,000 rows, each held 150 ms: the export streams for ~15 s, so it is surely
      // still streaming when timeout fires (at 20 ms a quiet machine finished inside the 3 s)
      proxy.slow(150);
      // 3 s: well after startup (a signal before sayclaw runs kills it before it wrote anything)
      const r = await spawnBin([...RANGE, '--raw', '--out', out], viaProxy(), { wrap: ['timeout', '--preserve-status', '-s', 'TERM', '3'], killAfterMs: 30000 });
      noCrash(r);
      expect({ i, code: r.code }).toEqual({ i, code: 130 });
      expect(r.stderr).toMatch(/interrupted; cleaning up/);
      expect(readdirSync(dir)).toEqual([]);
      expect((await lastJob()).status).toBe('interrupted');
    }
  }, 120000);

  test('two signals at once (timeout(1) signals the process and its group) are one: the clean path', async () => {
    const dir = join(t.tmp, 'term2');
    mkdirSync(dir);
    for (let i = 0; i < 3; i++) {
      proxy.slow(20);
      let pid = 0;
      const running = spawnBin([...RANGE, '--raw', '--out', join(dir, 'raw.csv')], viaProxy(), { killAfterMs: 30000, onSpawn: (p) => { pid = p; } });
      for (let n = 0; n < 500 && !tmpFiles(dir).length; n++) await new Promise((res) => setTimeout(res, 20));
      process.kill(pid, 'SIGTERM');
      await new Promise((res) => setTimeout(res, 30));
      process.kill(pid, 'SIGTERM');
      const r = await running;
      noCrash(r);
      expect({ i, code: r.code }).toEqual({ i, code: 130 });
      expect(r.stderr).not.toMatch(/forced exit/);
      expect(readdirSync(dir)).toEqual([]);
      expect((await lastJob()).status).toBe('interrupted');
    }
  }, 120000);

  test('a second signal a moment later forces the exit, and still leaves no temporary file', async () => {
    const dir = join(t.tmp, 'force');
    mkdirSync(dir);
    // a link so slow that the clean path (which waits up to 2 s for the server to stop the query) is still running
    proxy.slow(20);
    let pid = 0;
    const running = spawnBin([...RANGE, '--raw', '--out', join(dir, 'raw.csv')], viaProxy(), { killAfterMs: 30000, onSpawn: (p) => { pid = p; } });
    for (let i = 0; i < 300 && !tmpFiles(dir).length; i++) await new Promise((res) => setTimeout(res, 20));
    expect(tmpFiles(dir)).toHaveLength(1);
    proxy.slow(5000);
    process.kill(pid, 'SIGTERM');
    await new Promise((res) => setTimeout(res, 1300));
    process.kill(pid, 'SIGTERM');
    const r = await running;
    noCrash(r);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/forced exit/);
    expect(readdirSync(dir)).toEqual([]);
  }, 60000);
});

describe('what --out may name', () => {
  test('an existing file keeps its mode and owner', async () => {
    const out = join(pub, 'kept.csv');
    writeFileSync(out, 'old\n');
    chmodSync(out, 0o604);
    chownSync(out, NOBODY.uid, NOBODY.gid);
    const r = await spawnBin([...RANGE, '--out', out, '--quiet'], env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const st = statSync(out);
    expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ mode: 0o604, uid: NOBODY.uid, gid: NOBODY.gid });
    expect(readFileSync(out, 'utf8')).toMatch(/^requests,/);
  }, 30000);

  test('a FIFO, a device, a directory, a dangling symlink and "dir/x/" are refused (exit 2) and left as they are', async () => {
    const fifo = join(pub, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const dir = join(pub, 'adir');
    mkdirSync(dir);
    const dangling = join(pub, 'dangling');
    symlinkSync(join(pub, 'nowhere', 'x'), dangling);
    for (const [out, why] of [[fifo, /named pipe/], ['/dev/null', /device/], [dir, /directory/], [dangling, /symlink/], [`${dir}/x/`, /must name a file/]] as const) {
      const r = await spawnBin([...RANGE, '--out', out], env, { killAfterMs: 15000 });
      noCrash(r);
      expect({ out, code: r.code }).toEqual({ out, code: 2 });
      expect(errors(r)).toHaveLength(1);
      expect(errors(r)[0]).toMatch(why);
    }
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(spawnSync('test', ['-c', '/dev/null']).status).toBe(0);
  }, 60000);

  test('a symlink to a file is followed: the link stays, the file it names gets the export', async () => {
    const real = join(pub, 'real.csv');
    writeFileSync(real, 'old\n');
    const link = join(pub, 'link.csv');
    symlinkSync(real, link);
    const r = await spawnBin([...RANGE, '--out', link, '--quiet'], env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toMatch(/^requests,/);
    expect(tmpFiles(pub)).toEqual([]);
  }, 30000);
});
