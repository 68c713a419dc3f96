// Benchmark: `sayclaw usage export --raw` to CSV against `mysql --batch --quick` writing the
// same rows (same SELECT with the attribution joins) to a file, at 200,000 and 2,000,000 log
// rows; peak RSS of each (GNU time); and `usage summary --group department,model` against the
// bare SQL GROUP BY run by the mysql client; both also against sayclaw's own (lighter) SQL run
// by the mysql client, to show sayclaw's overhead over its queries. Each side's wall time and CPU
// time (user+sys of the process, from GNU time, and of the database server during the run, from
// /proc), with the load average: CPU figures survive a loaded machine much better than wall time.
// Prints figures, asserts nothing.
// Usage: npm run build && node bench/usage.mjs [rows...]   (default 200000 2000000; BENCH_RUNS=N runs per side)
// Needs the local MariaDB (root, no password) and the built bin/sayclaw. Creates and drops
// databases named bench_usage_* (BENCH_DB_PREFIX_*).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare } from './lib.mjs';

const BIN = fileURLToPath(new URL('../bin/sayclaw', import.meta.url));
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [200000, 2000000];
// BENCH_DB_PREFIX: other names, so that two runs on one server do not drop each other's databases
const PREFIX = process.env.BENCH_DB_PREFIX ?? 'bench_usage';
const DB = { admin: `${PREFIX}_admin`, portal: `${PREFIX}_portal`, oneapi: `${PREFIX}_oneapi` };
const BASE = Math.floor(Date.UTC(2026, 9, 1) / 1000);
const SINCE = `@${BASE}`;
const UNTIL = '2026-12-31';
const tmp = mkdtempSync(join(tmpdir(), 'sayclaw-bench-usage-'));
const env = {
  ...process.env, HOME: tmp, SAYCLAW_MYSQL_URL: 'mysql://root@127.0.0.1:3306',
  SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/unused', // never contacted: the range is all MySQL
  SAYCLAW_DB_ADMIN: DB.admin, SAYCLAW_DB_PORTAL: DB.portal, SAYCLAW_DB_ONEAPI: DB.oneapi, SAYCLAW_USAGE_TIMEZONE: 'UTC',
};

function mysql(q, out) {
  const r = spawnSync('mysql', ['-uroot', '-h127.0.0.1', '--batch', '--quick', '-e', q], { stdio: ['ignore', out ?? 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`mysql: ${r.stderr}`);
  return r.stdout?.toString() ?? '';
}

function setup(n) {
  for (const d of Object.values(DB)) mysql(`DROP DATABASE IF EXISTS ${d}`);
  const init = spawnSync(process.execPath, [BIN, 'schema', 'init', '--no-pg', '--quiet'], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`schema init: ${init.stderr}`);
  const depts = ['研发部', '市场部', '销售部', '人力资源部', 'Operations'];
  mysql(`INSERT INTO ${DB.portal}.users (id, email, name, department, quota_daily)
    SELECT CONCAT('u-', seq), CONCAT('user', seq, '@sayclaw.test'), CONCAT('用户', seq), ELT(1 + seq % 5, ${depts.map((d) => `'${d}'`).join(',')}), 1000000
    FROM ${DB.portal}.seq_1_to_40;
    INSERT INTO ${DB.admin}.oc_instances (id, assigned_user_id, model) SELECT CONCAT('oc-ai-jp-2-', LPAD(seq, 3, '0')), IF(seq % 5 = 0, NULL, CONCAT('u-', 1 + seq % 40)), 'gpt-4o' FROM ${DB.admin}.seq_1_to_100;
    INSERT INTO ${DB.admin}.oc_api_keys (id, instance_id, oneapi_token_id, oneapi_token_name) SELECT CONCAT('k-', seq), CONCAT('oc-ai-jp-2-', LPAD(seq, 3, '0')), seq, CONCAT('oc-oc-ai-jp-2-', LPAD(seq, 3, '0')) FROM ${DB.admin}.seq_1_to_100;
    INSERT INTO ${DB.oneapi}.logs (user_id, created_at, type, content, username, token_name, model_name, quota, prompt_tokens, completion_tokens, channel_id, request_id, elapsed_time, is_stream, system_prompt_reset)
    SELECT 1, ${BASE} + (seq * 13) % (60 * 86400), IF(seq % 50 = 0, 6, 2), '', 'sayclaw', IF(seq % 23 = 0, 'stray', CONCAT('oc-oc-ai-jp-2-', LPAD(1 + seq % 110, 3, '0'))),
      ELT(1 + seq % 4, 'claude-sonnet-4', 'gpt-4o', 'deepseek-chat', 'qwen-max'), (seq * 7919) % 20000, seq % 4000, seq % 2000, 1 + seq % 3, '', 100, 0, 0
    FROM ${DB.oneapi}.seq_1_to_${n};`);
}

// the same rows and columns the CLI writes (cost as DECIMAL in SQL; created_at as unix seconds)
const KEYS = `(SELECT x.token_name AS oneapi_token_name, MIN(x.instance_id) AS instance_id FROM (SELECT oneapi_token_name AS token_name, instance_id FROM ${DB.admin}.oc_api_keys WHERE deleted_at IS NULL AND oneapi_token_name IS NOT NULL UNION ALL SELECT t.name AS token_name, ok.instance_id FROM ${DB.admin}.oc_api_keys ok JOIN ${DB.oneapi}.tokens t ON t.id = ok.oneapi_token_id WHERE ok.deleted_at IS NULL AND t.name IS NOT NULL) x GROUP BY x.token_name)`;
const RAW_SQL = `SELECT l.id, l.created_at, l.type, l.token_name, COALESCE(k.instance_id, '(unmapped)') AS instance_id,
  COALESCE(u.id, '(unmapped)') AS user_id, u.email AS user_email,
  CASE WHEN u.id IS NULL THEN '(unmapped)' ELSE COALESCE(u.department, '(none)') END AS department,
  l.model_name, l.channel_id, l.prompt_tokens, l.completion_tokens, l.quota, ROUND(CAST(l.quota AS DECIMAL(30,6)) / 500000, 6) AS cost_usd
FROM ${DB.oneapi}.logs l
LEFT JOIN ${KEYS} k ON k.oneapi_token_name = l.token_name
LEFT JOIN ${DB.admin}.oc_instances i ON i.id = k.instance_id
LEFT JOIN ${DB.portal}.users u ON u.id = i.assigned_user_id
WHERE l.created_at >= ${BASE} AND l.created_at < ${BASE + 100 * 86400} AND l.type IN (2)`;
const AGG_SQL = `SELECT CASE WHEN u.id IS NULL THEN '(unmapped)' ELSE COALESCE(u.department, '(none)') END AS department, COALESCE(l.model_name, '') AS model_name,
  SUM(IF(l.type = 2, 1, 0)), SUM(l.prompt_tokens), SUM(l.completion_tokens), SUM(IF(l.type = 6, -l.quota, l.quota)) AS quota
FROM ${DB.oneapi}.logs l
LEFT JOIN ${KEYS} k ON k.oneapi_token_name = l.token_name
LEFT JOIN ${DB.admin}.oc_instances i ON i.id = k.instance_id
LEFT JOIN ${DB.portal}.users u ON u.id = i.assigned_user_id
WHERE l.created_at >= ${BASE} AND l.created_at < ${BASE + 100 * 86400} AND l.type IN (2)
GROUP BY 1, 2`;

// The raw rows the way sayclaw asks for them: keys joined in SQL, instance -> user -> department
// from a small map in the client (shows sayclaw's own overhead over its SQL).
const RAW_OWN_SQL = `SELECT l.id, l.created_at, l.type, l.token_name, k.instance_id, l.model_name, l.channel_id, l.prompt_tokens, l.completion_tokens, l.quota
FROM ${DB.oneapi}.logs l LEFT JOIN ${KEYS} k ON k.oneapi_token_name = l.token_name
WHERE l.created_at >= ${BASE} AND l.created_at < ${BASE + 100 * 86400} AND l.type IN (2)`;
// The same report the way sayclaw asks for it: aggregate the log rows by token first, then
// attribute the partial rows (shows sayclaw's own overhead over its SQL).
const PRE_SQL = `SELECT CASE WHEN u.id IS NULL THEN '(unmapped)' ELSE COALESCE(u.department, '(none)') END AS department, p.model_name,
  SUM(p.n), SUM(p.pt), SUM(p.ct), SUM(p.q) AS quota
FROM (SELECT l.token_name, COALESCE(l.model_name, '') AS model_name, SUM(CASE WHEN l.type = 2 THEN 1 ELSE 0 END) AS n, SUM(l.prompt_tokens) AS pt, SUM(l.completion_tokens) AS ct,
    SUM(IF(l.type = 6, -l.quota, l.quota)) AS q
  FROM ${DB.oneapi}.logs l WHERE l.created_at >= ${BASE} AND l.created_at < ${BASE + 100 * 86400} AND l.type IN (2) GROUP BY l.token_name, 2) p
LEFT JOIN ${KEYS} k ON k.oneapi_token_name = p.token_name
LEFT JOIN ${DB.admin}.oc_instances i ON i.id = k.instance_id
LEFT JOIN ${DB.portal}.users u ON u.id = i.assigned_user_id
GROUP BY 1, 2`;

// The database server's CPU time (utime + stime of its process, in ms) from /proc: a run's
// share of the work done in SQL (the baseline's joins). It counts whatever else the server did
// meanwhile too (other clients on this machine); null when the server process is not readable.
const serverPid = (() => {
  for (const name of ['mariadbd', 'mysqld']) {
    const r = spawnSync('pidof', ['-s', name], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
})();
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
function serverCpuMs() {
  if (!serverPid) return null;
  try {
    const f = readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14 and 15)
  } catch { return null; }
}

/** Wall ms, CPU ms (user+sys of the process and its children), server CPU ms and peak RSS (KB) of one run, through GNU time. */
function timed(cmd, args, outFile) {
  const s0 = serverCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const s1 = serverCpuMs();
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  const [kb, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms, kb, cpu_ms: (user + sys) * 1000, server_cpu_ms: s0 === null || s1 === null ? undefined : s1 - s0, bytes: outFile ? statSync(outFile).size : 0 };
}

const cliOut = join(tmp, 'cli.csv');
const myOut = join(tmp, 'mysql.tsv');
const LEGACY = ['--set', `usage.legacyUntil=${BASE - 1}`];
const cli = [...LEGACY, 'usage', 'export', '--raw', '--since', SINCE, '--until', UNTIL, '--out', cliOut, '--quiet', '--no-lock'];
const mysqlRaw = ['sh', ['-c', `mysql -uroot -h127.0.0.1 --batch --quick -e "${RAW_SQL.replace(/"/g, '\\"').replace(/\n/g, ' ')}" > ${myOut}`]];
const results = [];
if (process.env.BENCH_SETUP_ONLY) { setup(SIZES[0]); console.log('loaded'); process.exit(0); }
try {
  for (const n of SIZES) {
    const t0 = Date.now();
    setup(n);
    console.log(`\n== ${n.toLocaleString('en')} log rows (loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s) ==`);
    const runs = Number(process.env.BENCH_RUNS) || (n >= 1000000 ? 3 : 9);
    const peak = { cli: 0, mysql: 0 };
    const res = compare(`raw export ${n} rows: sayclaw CSV vs mysql --batch --quick`,
      () => { const r = timed(process.execPath, [BIN, ...cli], cliOut); peak.cli = Math.max(peak.cli, r.kb); return r; },
      () => { const r = timed(mysqlRaw[0], mysqlRaw[1], myOut); peak.mysql = Math.max(peak.mysql, r.kb); return r; },
      { runs, warmup: 1 });
    const rawOwn = compare(`raw export ${n} rows: sayclaw vs its own SELECT in the mysql client`,
      () => timed(process.execPath, [BIN, ...cli], cliOut),
      () => timed('sh', ['-c', `mysql -uroot -h127.0.0.1 --batch --quick -e "${RAW_OWN_SQL.replace(/"/g, '\\"').replace(/\n/g, ' ')}" > ${myOut}`], myOut),
      { runs, warmup: 1 });
    console.log(`   peak RSS: sayclaw ${(peak.cli / 1024).toFixed(0)} MB, mysql client ${(peak.mysql / 1024).toFixed(0)} MB; files ${(statSync(cliOut).size / 1e6).toFixed(0)} MB / ${(statSync(myOut).size / 1e6).toFixed(0)} MB`);
    const agg = compare(`summary ${n} rows: sayclaw --group department,model vs SQL GROUP BY`,
      () => timed(process.execPath, [BIN, ...LEGACY, 'usage', 'summary', '--since', SINCE, '--until', UNTIL, '--group', 'department,model', '-o', 'json']),
      () => timed('mysql', ['-uroot', '-h127.0.0.1', '--batch', '-e', AGG_SQL]), { runs, warmup: 1 });
    const own = compare(`summary ${n} rows: sayclaw vs its own SQL in the mysql client`,
      () => timed(process.execPath, [BIN, ...LEGACY, 'usage', 'summary', '--since', SINCE, '--until', UNTIL, '--group', 'department,model', '-o', 'json']),
      () => timed('mysql', ['-uroot', '-h127.0.0.1', '--batch', '-e', PRE_SQL]), { runs, warmup: 1 });
    const load = loadavg().map((x) => +x.toFixed(2));
    console.log(`   load average now: ${load.join(' ')} (${serverPid ? `server CPU from /proc/${serverPid}` : 'no server CPU: its process is not readable'})`);
    results.push({ rows: n, load, raw: res, raw_same_sql: rawOwn, peak_mb: { sayclaw: +(peak.cli / 1024).toFixed(1), mysql: +(peak.mysql / 1024).toFixed(1) }, aggregate: agg, aggregate_same_sql: own });
  }
  console.log(`\n${JSON.stringify(results)}`);
} finally {
  if (!process.env.BENCH_KEEP) for (const d of Object.values(DB)) mysql(`DROP DATABASE IF EXISTS ${d}`);
  rmSync(tmp, { recursive: true, force: true });
}
