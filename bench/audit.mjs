// audit ls --target ID --since 30d and instances history ID over 1,000,000 admin_logs rows,
// each against a bare mysql2 script running the same SQL and printing JSON, alternating runs.
// (node bench/audit.mjs [ROWS]; npm run build first; BENCH_RUNS=15 by default.)
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, timeOnce } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/sayclaw');
const url = process.env.SAYCLAW_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const N = Number(process.argv[2] ?? process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const HOT = 'oc-ai-jp-2-07';
const names = { admin: 'sayclaw_bench_audit_admin', portal: 'sayclaw_bench_audit_portal', oneapi: 'sayclaw_bench_audit_oneapi' };
const env = { ...process.env, SAYCLAW_MYSQL_URL: url, SAYCLAW_DB_ADMIN: names.admin, SAYCLAW_DB_PORTAL: names.portal, SAYCLAW_DB_ONEAPI: names.oneapi,
  SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/unused', HOME: mkdtempSync(join(tmpdir(), 'sc-bench-audit-')) };
const mysqlArgs = (() => { const u = new URL(url); return ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : [])]; })();
const mysqlq = (q) => { const r = spawnSync('mysql', [...mysqlArgs, '-N', '-e', q], { encoding: 'utf8' }); if (r.status) throw new Error(r.stderr); return r.stdout.trim(); };
const A = names.admin;
const P = names.portal;

const have = Number(mysqlq(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${A}' AND TABLE_NAME = 'admin_logs'`))
  && Number(mysqlq(`SELECT COUNT(*) FROM ${A}.admin_logs`));
if (have !== N) {
  // scratch databases of this benchmark only: made afresh for another size
  mysqlq(`DROP DATABASE IF EXISTS ${A}; DROP DATABASE IF EXISTS ${P}; DROP DATABASE IF EXISTS ${names.oneapi};`);
  spawnSync(process.execPath, [bin, 'schema', 'init', '-q', '--no-pg'], { env, stdio: 'inherit' });
  console.log(`loading ${N} audit rows (a year of a 5,000-instance fleet; ${HOT} has 2,000 of them) and 50,000 health probes...`);
  const t0 = Date.now();
  mysqlq(`INSERT INTO ${P}.users (id, email, name, department) VALUES ('u-1', 'zhang.wei@sayclaw.test', '张伟', '研发部');
    INSERT INTO ${A}.oc_instances (id, server_id, assigned_user_id, name, gateway_token, model, created_at)
      VALUES ('${HOT}', 'srv-1', 'u-1', '${HOT}', 'gwt_0123456789abcdef', 'gpt-4o', NOW(3) - INTERVAL 400 DAY);
    INSERT INTO ${A}.instance_users VALUES ('${HOT}', 'zhang.wei@sayclaw.test', NOW(3) - INTERVAL 200 DAY);
    INSERT INTO ${P}.user_instances (user_id, instance_id, setup_status) VALUES ('u-1', '${HOT}', 'ready');
    INSERT INTO ${A}.admin_logs (id, os_user, operator, action, target_type, target_id, before_json, after_json, reason, tool, created_at)
    SELECT CONCAT(LPAD(LOWER(HEX(seq)), 8, '0'), '-0000-4000-8000-', LPAD(LOWER(HEX(seq * 7919)), 12, '0')),
      ELT(1 + seq % 4, 'root', 'alice', 'bob', 'cron'), IF(seq % 3 = 0, '值班-王', NULL),
      CASE WHEN seq % 100 < 55 THEN 'instances.health' WHEN seq % 100 < 75 THEN 'instances.restart' WHEN seq % 100 < 85 THEN 'instances.rm'
           WHEN seq % 100 < 90 THEN 'instances.restore' WHEN seq % 100 < 95 THEN 'instances.assign' WHEN seq % 100 < 98 THEN 'users.quota' ELSE 'servers.update' END,
      IF(seq % 100 < 95, 'instance', IF(seq % 100 < 98, 'user', 'server')),
      IF(seq <= 2000, '${HOT}', CONCAT('oc-ai-jp-', seq % 50, '-', LPAD((seq DIV 50) % 100, 2, '0'))),
      '{"health_status":"healthy","health_fail_count":0,"deleted_at":null}',
      '{"health_status":"unhealthy","health_fail_count":1,"error":"readyz: HTTP 503","deleted_at":null}',
      IF(seq % 5 = 0, '员工离职，交接完成', NULL), 'sayclaw',
      NOW(3) - INTERVAL (seq * 31536) MOD 31536000 SECOND - INTERVAL (seq MOD 1000) * 1000 MICROSECOND
    FROM ${A}.seq_1_to_${N};
    INSERT INTO ${A}.oc_health_logs (id, instance_id, status, live, ready, latency_ms, http_status, error, via, checked_at)
    SELECT UUID(), '${HOT}', IF((seq DIV 200) % 2 = 0, 'healthy', 'unhealthy'), 1, 1, 5, 200, NULL, 'http', NOW(3) - INTERVAL seq * 600 SECOND
    FROM ${A}.seq_1_to_50000;
    ANALYZE TABLE ${A}.admin_logs, ${A}.oc_health_logs;`);
  console.log(`loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
const today = new Date();
// '30d' in UTC: the last 30 calendar days including today
const sinceDay = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - 29 * 86400_000);

// The SQL the CLI runs (Kysely's output for these filters), run by a bare mysql2 script.
const cols = '`id`, `created_at`, `os_user`, `operator`, `action`, `target_type`, `target_id`, `reason`, `tool`, `before_json`, `after_json`';
const lsSql = `select ${cols} from \`${A}\`.\`admin_logs\` where \`deleted_at\` is null and \`target_id\` = ? and \`created_at\` >= ? order by \`created_at\` desc, \`id\` desc limit ?`;
const historySql = [
  [`select \`id\`, \`created_at\`, \`deleted_at\` from \`${A}\`.\`oc_instances\` where \`id\` = ?`, [HOT]],
  [`select ${cols} from \`${A}\`.\`admin_logs\` where \`deleted_at\` is null and \`target_type\` = ? and \`target_id\` = ? order by \`created_at\`, \`id\``, ['instance', HOT]],
  [`SELECT at, status, prev, error, via FROM (SELECT checked_at AS at, status, error, via, LAG(status) OVER (ORDER BY checked_at, id) AS prev FROM \`${A}\`.\`oc_health_logs\` WHERE instance_id = ? AND deleted_at IS NULL) t WHERE (prev IS NULL OR prev <> status) ORDER BY at`, [HOT]],
];
const bindingSql = [
  [`select \`instance_id\`, \`user_email\`, \`assigned_at\` from \`${A}\`.\`instance_users\` where \`instance_id\` in (?)`, [HOT]],
  [`select \`ui\`.\`instance_id\`, \`ui\`.\`user_id\`, \`u\`.\`email\`, \`ui\`.\`tg_username\`, \`ui\`.\`tg_bot_username\`, \`ui\`.\`tg_bound_at\` from \`${P}\`.\`user_instances\` as \`ui\` left join \`${P}\`.\`users\` as \`u\` on \`u\`.\`id\` = \`ui\`.\`user_id\` where \`ui\`.\`tg_bound_at\` is not null and \`ui\`.\`instance_id\` in (?)`, [HOT]],
];
const bare = join(env.HOME, 'bare.mjs');
writeFileSync(bare, `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(root, 'package.json'))});
const mysql = require('mysql2');
const u = new URL(${JSON.stringify(url)});
const pool = mysql.createPool({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), charset: 'utf8mb4_unicode_ci', supportBigNumbers: true, bigNumberStrings: true, timezone: 'Z', connectionLimit: 4 }).promise();
const q = (s, p) => pool.query(s, p).then(([rows]) => rows);
if (process.argv[2] === 'ls') {
  const rows = await q(${JSON.stringify(lsSql)}, [${JSON.stringify(HOT)}, new Date(${sinceDay.getTime()}), 50]);
  process.stdout.write(JSON.stringify(rows, null, 2) + '\\n');
} else {
  const a = await Promise.all(${JSON.stringify(historySql)}.map(([s, p]) => q(s, p)));
  const b = await Promise.all(${JSON.stringify(bindingSql)}.map(([s, p]) => q(s, p)));
  const events = [...a[1], ...a[2], ...b[0], ...b[1]];
  process.stdout.write(JSON.stringify(events, null, 2) + '\\n');
}
await pool.end();
`);

const cliLs = ['audit', 'ls', '--target', HOT, '--since', '30d', '--tz', 'UTC', '-o', 'json'];
const cliHist = ['instances', 'history', HOT, '-o', 'json'];
const count = (args, node = process.execPath) => JSON.parse(spawnSync(node, args, { env, encoding: 'utf8', maxBuffer: 1 << 28 }).stdout).length;
console.log(`${mysqlq(`SELECT COUNT(*) FROM ${A}.admin_logs`)} audit rows; ${HOT}: ${mysqlq(`SELECT COUNT(*) FROM ${A}.admin_logs WHERE target_id = '${HOT}'`)} rows`);
console.log(`audit ls: sayclaw ${count([bin, ...cliLs])} rows, bare ${count([bare, 'ls'])}; instances history: sayclaw ${count([bin, ...cliHist])} events, bare ${count([bare, 'history'])} rows`);
const runs = Number(process.env.BENCH_RUNS ?? 15);
compare('audit ls --target ID --since 30d -o json vs bare mysql2', () => timeOnce(process.execPath, [bin, ...cliLs], { env }),
  () => timeOnce(process.execPath, [bare, 'ls'], { env }), { runs });
compare('instances history ID -o json vs bare mysql2', () => timeOnce(process.execPath, [bin, ...cliHist], { env }),
  () => timeOnce(process.execPath, [bare, 'history'], { env }), { runs });
