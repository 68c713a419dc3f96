// sayclaw top benchmark. (1) The database part of one refresh (readDbPart: servers, instances,
// usage today per instance, users over quota, jobs) on a fleet of 5,000 instances on 50 servers
// with a day of One API logs, in-process on one warm Context (as the screen refreshes), against
// the bare SQL of the same panes: the very statements that refresh sent (recorded off mysql2),
// replayed through a bare mysql2 pool of the same size, all at once. Same run, alternating.
// (2) CPU of the built `sayclaw top` in a real terminal (tmux) between refreshes, from
// /proc/<pid>/stat, beside an idle `node` in the same kind of terminal. Prints figures, asserts nothing.
// Usage: npm run build && node bench/top.mjs [instances=5000] [servers=50]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { median } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.argv[2] ?? 5000);
const S = Number(process.argv[3] ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const tmp = mkdtempSync(join(tmpdir(), 'sayclaw-bench-top-'));
const outDir = mkdtempSync(join(root, 'node_modules', '.cache-sayclaw-bench-top-'));
const entry = join(tmp, 'entry.ts');
writeFileSync(entry, [
  `export { createTestEnv } from '${root}tests/support/testenv.ts';`,
  `export { generateFleet, loadFleet } from '${root}tests/support/fixtures.ts';`,
  `export { Context } from '${root}src/context.ts';`,
  `export { readDbPart } from '${root}src/fleet/top/snapshot.ts';`,
].join('\n'));
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: join(outDir, 'top.mjs'), packages: 'external', logLevel: 'error', absWorkingDir: root, nodePaths: [join(root, 'node_modules')] });
const { createTestEnv, generateFleet, loadFleet, Context, readDbPart } = await import(join(outDir, 'top.mjs'));
const require = createRequire(join(root, 'package.json'));
const mysql2 = require('mysql2');

console.log(`top bench: ${N} instances on ${S} servers, ${RUNS} runs each`);
const t = await createTestEnv({ noDeleteUser: false });
try {
  const per = Math.ceil(N / 4);
  const now = Math.floor(Date.now() / 1000);
  const fleet = generateFleet({ seed: 19, servers: S + 1, users: 400, deletedRatio: 0, logsPerInstance: 4, logsUntil: now,
    prefixes: { 'oc-ai-jp-2-': per, 'oc-ai-jp-1-': per, 'oc-ai-us-1-': per, 'oc-ai-sg-1-': N - 3 * per }, pad: 4 });
  await loadFleet(t.db, fleet);
  console.log(`loaded ${fleet.servers.length} servers (1 soft-deleted), ${fleet.instances.length} instances, ${fleet.logs.length} log rows (last 7 days)`);

  const env = { ...t.env };
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), stdoutIsTTY: false, stdinIsTTY: false, stderrIsTTY: false, env, cwd: tmp };
  const ctx = new Context(io, { quiet: true });
  await ctx.init();
  const refresh = async () => { const t0 = performance.now(); const d = await readDbPart(ctx, {}); return { ms: performance.now() - t0, d }; };
  const first = await refresh();
  console.log(`first refresh (detection included) ${first.ms.toFixed(1)} ms: ${first.d.servers.length} servers, ${first.d.instances.length} instances, ` +
    `${first.d.usage.size} with usage today, ${first.d.over_quota?.length ?? '?'} users over quota${first.d.errors.length ? `, errors: ${first.d.errors.join('; ')}` : ''}`);

  // record what a warm refresh sends
  const B = Object.getPrototypeOf(mysql2.Connection.prototype);
  const orig = B.query;
  const recorded = [];
  B.query = function (sql, values, cb) {
    const text = typeof sql === 'string' ? sql : sql.sql;
    const vals = typeof sql === 'object' && sql.values ? sql.values : Array.isArray(values) ? values : undefined;
    recorded.push({ sql: text, values: vals });
    return orig.call(this, sql, values, cb);
  };
  await refresh();
  B.query = orig;
  const statements = recorded.filter((r) => !/^SET /i.test(r.sql));
  console.log(`a warm refresh sends ${statements.length} statements`);
  if (process.env.BENCH_SHOW_SQL) for (const s of statements) console.log(`  ${s.sql.replace(/\s+/g, " ").slice(0, 220)}`);

  // the bare pool: same server, user, session settings (utf8mb4, exact numbers, UTC)
  const u = new URL(env.SAYCLAW_MYSQL_URL);
  const pool = mysql2.createPool({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
    charset: 'utf8mb4_unicode_ci', supportBigNumbers: true, bigNumberStrings: true, connectionLimit: 4, timezone: 'Z' });
  const bare = () => new Promise((resolve, reject) => {
    const t0 = performance.now();
    let left = statements.length;
    for (const s of statements) pool.query(s.sql, s.values, (err) => { if (err) reject(err); else if (--left === 0) resolve(performance.now() - t0); });
  });
  await bare();
  for (let i = 0; i < 2; i++) { await refresh(); await bare(); }
  const c = [];
  const b = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2) { c.push((await refresh()).ms); b.push(await bare()); } else { b.push(await bare()); c.push((await refresh()).ms); }
  }
  const cm = median(c);
  const bm = median(b);
  console.log(`${'top: one refresh, database part (warm)'.padEnd(48)} candidate ${cm.toFixed(1).padStart(8)} ms   baseline ${bm.toFixed(1).padStart(8)} ms   ratio ${(cm / bm).toFixed(2)}x   (target <= 1.5x and < 500 ms)`);
  await new Promise((r) => pool.end(r));
  await ctx.close();

  // idle CPU of the built binary in a real terminal, between refreshes
  // a tmux server (socket) per measurement: a new session on the socket of a server that
  // kill-server is still taking down fails with "server exited unexpectedly"
  let sock = '';
  let measured = 0;
  const tmux = (...a) => execFileSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const cpuOf = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / ticks; };
  const envArgs = Object.entries({ ...env, TERM: 'xterm-256color', LANG: 'C.UTF-8' }).map(([k, v]) => `${k}=${v}`);
  const measure = async (label, cmdline, waitMs, spanMs) => {
    const pidFile = join(tmp, `${label.replace(/\W+/g, '_')}.pid`);
    sock = `sayclaw-bench-top-${process.pid}-${++measured}`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'b', '-x', '160', '-y', '50', 'env', '-i', ...envArgs, 'sh', '-c', `echo $$ > ${pidFile}; exec ${cmdline}`);
    try {
      await new Promise((r) => setTimeout(r, waitMs));
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      const c0 = cpuOf(pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, spanMs));
      const pct = ((cpuOf(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
      console.log(`${label.padEnd(60)} ${pct.toFixed(2)}% of a core over ${(spanMs / 1000).toFixed(0)} s`);
      return pct;
    } finally { try { tmux('kill-server'); } catch { /* gone */ } }
  };
  const bin = `${process.execPath} ${join(root, 'bin/sayclaw')}`;
  await measure('idle node in a terminal (baseline)', `${process.execPath} -e "setInterval(() => {}, 1e9)"`, 3000, 20000);
  // from 20 s on: on a slow machine the first refresh (schema detection included) ends after 8 s
  await measure('sayclaw top --no-remote, between refreshes (--interval 1m)', `${bin} top --no-remote --interval 1m`, 20000, 20000);
  await measure('sayclaw top --no-remote --interval 5s (refreshes included)', `${bin} top --no-remote --interval 5s`, 8000, 30000);
} finally {
  await t.close();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}
