// instances ls --prefix oc-ai-jp-2- -o json on a fleet of 100,000 instances (1,000 matching),
// against a bare mysql2 script running the same SQL and printing JSON, alternating runs.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, timeOnce } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/sayclaw');
const url = process.env.SAYCLAW_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const N = Number(process.env.BENCH_INSTANCES ?? 100000);
const names = { admin: 'sayclaw_bench_admin', portal: 'sayclaw_bench_portal', oneapi: 'sayclaw_bench_oneapi' };
const env = { ...process.env, SAYCLAW_MYSQL_URL: url, SAYCLAW_DB_ADMIN: names.admin, SAYCLAW_DB_PORTAL: names.portal, SAYCLAW_DB_ONEAPI: names.oneapi, HOME: mkdtempSync(join(tmpdir(), 'sc-bench-')) };
const mysqlArgs = (() => { const u = new URL(url); return ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : [])]; })();
const mysqlq = (q) => { const r = spawnSync('mysql', [...mysqlArgs, '-N', '-e', q], { encoding: 'utf8' }); if (r.status) throw new Error(r.stderr); return r.stdout.trim(); };

// fleet: 100 prefixes oc-ai-jp-0- .. oc-ai-jp-99- with N/100 instances each; oc-ai-jp-2- is 1%.
spawnSync(process.execPath, [bin, 'schema', 'init', '-q', '--no-pg'], { env, stdio: 'inherit' });
const have = Number(mysqlq(`SELECT COUNT(*) FROM ${names.admin}.oc_instances`));
if (have !== N) {
  console.log(`loading ${N} instances...`);
  const per = N / 100;
  const digits = '(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  mysqlq(`INSERT IGNORE INTO ${names.admin}.servers (id, name, ip, region) VALUES ('srv-1','jp-2-srv-01','127.0.10.1','jp-2'),('srv-2','jp-2-srv-02','127.0.10.2','jp-2');
    INSERT IGNORE INTO ${names.portal}.users (id, email, name, department) VALUES ('u-1','zhang.wei@sayclaw.test','张伟','研发部');
    INSERT IGNORE INTO ${names.admin}.oc_instances (id, server_id, assigned_user_id, name, gateway_port, gateway_url, gateway_token, model, health_status, total_requests, total_tokens, last_health_at)
    SELECT CONCAT('oc-ai-jp-', FLOOR(n / ${per}), '-', LPAD(n % ${per} + 1, 4, '0')), IF(n % 2, 'srv-1', 'srv-2'), IF(n % 3 = 0, 'u-1', NULL),
           'x', 18789 + n % 1000, CONCAT('http://127.0.0.1:', 18789 + n % 1000), SHA2(n, 256), 'gpt-4o', 'healthy', n, n * 1000, NOW(3)
    FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d AS n
          FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f, ${digits} g) seq WHERE n < ${N};`);
}
const matching = Number(mysqlq(`SELECT COUNT(*) FROM ${names.admin}.oc_instances WHERE id LIKE 'oc-ai-jp-2-%'`));

// The SQL the CLI runs (printed by Kysely's compiler for this filter), run by a bare mysql2 script.
const sqlText = `select \`i\`.\`id\`, \`s\`.\`name\` as \`server_name\`, \`s\`.\`region\`, \`u\`.\`email\` as \`assigned_email\`, \`i\`.\`model\`, \`i\`.\`health_status\`, \`i\`.\`gateway_port\`, \`i\`.\`total_requests\`, \`i\`.\`total_tokens\`, \`i\`.\`last_health_at\`, \`i\`.\`container_id\`, \`i\`.\`gateway_url\`, \`i\`.\`gateway_token\`, \`i\`.\`server_id\`, \`i\`.\`assigned_user_id\`, \`i\`.\`created_at\`, \`i\`.\`deleted_at\` from \`${names.admin}\`.\`oc_instances\` as \`i\` left join \`${names.admin}\`.\`servers\` as \`s\` on \`s\`.\`id\` = \`i\`.\`server_id\` left join \`${names.portal}\`.\`users\` as \`u\` on \`u\`.\`id\` = \`i\`.\`assigned_user_id\` where (\`i\`.\`id\` LIKE ? ESCAPE '!' AND \`i\`.\`id\` COLLATE utf8mb4_bin LIKE ? ESCAPE '!') and \`i\`.\`deleted_at\` is null`;
const bare = join(env.HOME, 'bare.mjs');
writeFileSync(bare, `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(root, 'package.json'))});
const mysql = require('mysql2');
const u = new URL(${JSON.stringify(url)});
const c = mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), charset: 'utf8mb4_unicode_ci', supportBigNumbers: true, bigNumberStrings: true });
c.query(${JSON.stringify(sqlText)}, ['oc-ai-jp-2-%', 'oc-ai-jp-2-%'], (err, rows) => { if (err) throw err; process.stdout.write(JSON.stringify(rows, null, 2) + '\\n'); c.end(); });
`);
const check = spawnSync(process.execPath, [bin, 'instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'json'], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
const bareOut = spawnSync(process.execPath, [bare], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
console.log(`fleet ${N} instances, ${matching} matching; sayclaw printed ${JSON.parse(check.stdout).length} rows, bare script ${JSON.parse(bareOut.stdout).length}`);
const runs = Number(process.env.BENCH_RUNS ?? 15);
compare('instances ls --prefix -o json vs bare mysql2', () => timeOnce(process.execPath, [bin, 'instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'json'], { env }),
  () => timeOnce(process.execPath, [bare], { env }), { runs });
