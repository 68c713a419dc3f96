// Scale: `sayclaw instances ls -o FORMAT` over whole fleets of 1,000 / 10,000 / 100,000 instances,
// every format, runs alternating between formats. Prints per size and format the median seconds,
// the peak RSS, the ratio against -o csv at the same size (the baseline, run beside it), and the
// growth factor from the previous size (10x the rows: ~10x the time when linear); the ratios are
// given for wall time and for the CLI process's own CPU time (user + system: steadier on a busy
// machine; the database's share of the work is the same for every format).
// Target (issue #13): table within 1.5x of csv at every size; -o json of 100,000 flat, <= 150 MB.
// BENCH_SIZES=1000,10000 and BENCH_RUNS=N (runs at every size) narrow it down.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.mjs';

const bin = fileURLToPath(new URL('../bin/sayclaw', import.meta.url));
const node = process.execPath;
const url = process.env.SAYCLAW_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const FORMATS = ['table', 'wide', 'json', 'ndjson', 'csv', 'yaml', 'name'];
const tmp = mkdtempSync(join(tmpdir(), 'sc-bench-scale-'));
// peak RSS of the CLI process itself, reported by a preload at exit (no GNU time needed)
const rssHook = join(tmp, 'rss.cjs');
writeFileSync(rssHook, `process.on('exit', () => { try { const u = process.resourceUsage();
  require('node:fs').writeFileSync(process.env.SC_BENCH_RSS_FILE, JSON.stringify([u.maxRSS, u.userCPUTime + u.systemCPUTime])); } catch {} });\n`);
const u = new URL(url);
const mysqlArgs = ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : [])];
const mysqlq = (q) => { const r = spawnSync('mysql', [...mysqlArgs, '-N', '-e', q], { encoding: 'utf8' }); if (r.status) throw new Error(r.stderr); return r.stdout.trim(); };

function fleetEnv(n) {
  const names = { admin: `sayclaw_bench_scale${n}_admin`, portal: `sayclaw_bench_scale${n}_portal`, oneapi: `sayclaw_bench_scale${n}_oneapi` };
  return { names, env: { ...process.env, SAYCLAW_MYSQL_URL: url, SAYCLAW_DB_ADMIN: names.admin, SAYCLAW_DB_PORTAL: names.portal,
    SAYCLAW_DB_ONEAPI: names.oneapi, SAYCLAW_CACHE_DIR: join(tmp, 'cache'), HOME: tmp } };
}

/** A fleet of n instances: ids oc-ai-jp-R-I (I not zero-padded, so natural and SQL order differ), a third assigned,
 * every 50th with a CJK model name (the display-width path), every 100th soft-deleted (not listed). Loaded once. */
function loadFleet(n) {
  const { names, env } = fleetEnv(n);
  const r = spawnSync(node, [bin, 'schema', 'init', '-q', '--no-pg'], { env, encoding: 'utf8' });
  if (r.status) throw new Error(r.stderr);
  if (Number(mysqlq(`SELECT COUNT(*) FROM ${names.admin}.oc_instances`)) === n) return env;
  console.log(`loading a fleet of ${n} instances...`);
  const digits = '(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  mysqlq(`INSERT IGNORE INTO ${names.admin}.servers (id, name, ip, region) VALUES ('srv-1','jp-2-srv-01','127.0.10.1','jp-2'),('srv-2','jp-2-srv-02','127.0.10.2','jp-2');
    INSERT IGNORE INTO ${names.portal}.users (id, email, name, department) VALUES ('u-1','zhang.wei@sayclaw.test','张伟','研发部'),('u-2','li.na@sayclaw.test','李娜','研发部');
    INSERT IGNORE INTO ${names.admin}.oc_instances (id, server_id, assigned_user_id, name, gateway_port, gateway_url, gateway_token, model, health_status, total_requests, total_tokens, last_health_at, deleted_at)
    SELECT CONCAT('oc-ai-jp-', FLOOR(n / 100), '-', n % 100 + 1), IF(n % 2, 'srv-1', 'srv-2'), IF(n % 3 = 0, IF(n % 2, 'u-1', 'u-2'), NULL),
           'x', 18789 + n % 1000, CONCAT('http://127.0.0.1:', 18789 + n % 1000), SHA2(n, 256), IF(n % 50 = 0, '模型-α', 'gpt-4o'),
           IF(n % 7 = 0, 'unhealthy', 'healthy'), n, n * 1000, NOW(3) - INTERVAL n SECOND, IF(n % 100 = 99, NOW(3), NULL)
    FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d AS n
          FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f, ${digits} g) seq WHERE n < ${n};`);
  return env;
}

function runOnce(env, format) {
  const rssFile = join(tmp, 'rss');
  rmSync(rssFile, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, [bin, 'instances', 'ls', '-o', format], {
    env: { ...env, SC_BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --require ${rssHook}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`instances ls -o ${format} exited ${r.status}: ${r.stderr}`);
  const [rssKb, cpuUs] = JSON.parse(readFileSync(rssFile, 'utf8'));
  return { s, cpu: cpuUs / 1e6, rssMb: rssKb / 1024 };
}

console.log(`instances ls, whole fleet, every format (node ${process.version}); medians; vs csv: against -o csv at the same size;`
  + ' growth: against the previous size (linear: the row factor, 10x)');
const results = new Map(); // size -> format -> { s, rssMb }
for (const n of sizes) {
  const env = loadFleet(n);
  const runs = Number(process.env.BENCH_RUNS ?? (n >= 100000 ? 3 : n >= 10000 ? 5 : 9));
  runOnce(env, 'csv'); // warm the code cache and the buffer pool
  const got = new Map(FORMATS.map((f) => [f, { s: [], cpu: [], rss: [] }]));
  for (let i = 0; i < runs; i++) {
    // rotate the order, so no format always runs first or right after another
    for (let k = 0; k < FORMATS.length; k++) {
      const f = FORMATS[(i + k) % FORMATS.length];
      const x = runOnce(env, f);
      got.get(f).s.push(x.s);
      got.get(f).cpu.push(x.cpu);
      got.get(f).rss.push(x.rssMb);
    }
  }
  const row = new Map([...got].map(([f, v]) => [f, { s: median(v.s), cpu: median(v.cpu), rssMb: Math.max(...v.rss) }]));
  results.set(n, row);
  const csv = row.get('csv');
  const prev = results.get(sizes[sizes.indexOf(n) - 1]);
  const x = (a, b) => `${(a / b).toFixed(2)}x`;
  console.log(`\n${n.toLocaleString('en-US')} instances (${runs} runs)`);
  console.log(`  ${'format'.padEnd(8)} ${'wall s'.padStart(8)} ${'CPU s'.padStart(8)} ${'peak RSS'.padStart(10)} ${'vs csv'.padStart(14)} ${'growth'.padStart(14)}`);
  for (const f of FORMATS) {
    const r = row.get(f);
    const p = prev?.get(f);
    console.log(`  ${f.padEnd(8)} ${r.s.toFixed(3).padStart(8)} ${r.cpu.toFixed(3).padStart(8)} ${`${r.rssMb.toFixed(0)} MB`.padStart(10)} `
      + `${`${x(r.s, csv.s)} / ${x(r.cpu, csv.cpu)}`.padStart(14)} ${(p ? `${x(r.s, p.s)} / ${x(r.cpu, p.cpu)}` : '-').padStart(14)}`);
  }
}
rmSync(tmp, { recursive: true, force: true });
