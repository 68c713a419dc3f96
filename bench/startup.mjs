// Startup: `sayclaw --version`, `sayclaw --help`, and `instances ls --prefix oc-ai-jp-2- -o json`
// on a small fleet (30 instances, 10 matching) against bare `node -e 0`, alternating runs. Run it
// with the Node under test (`node bench/startup.mjs`, or a Node 24 binary in its place).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, timeOnce } from './lib.mjs';

const bin = fileURLToPath(new URL('../bin/sayclaw', import.meta.url));
const node = process.execPath;
const runs = Number(process.env.BENCH_RUNS ?? 21);
const url = process.env.SAYCLAW_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const names = { admin: 'sayclaw_bench_small_admin', portal: 'sayclaw_bench_small_portal', oneapi: 'sayclaw_bench_small_oneapi' };
// a cache directory of its own, warmed by the first runs (compare() warms both sides up)
const env = { ...process.env, SAYCLAW_MYSQL_URL: url, SAYCLAW_DB_ADMIN: names.admin, SAYCLAW_DB_PORTAL: names.portal, SAYCLAW_DB_ONEAPI: names.oneapi,
  SAYCLAW_CACHE_DIR: mkdtempSync(join(tmpdir(), 'sc-bench-cache-')) };
console.log(`startup (${runs} runs each, medians; node ${process.version})`);
compare('sayclaw --version vs node -e 0', () => timeOnce(node, [bin, '--version'], { env }), () => timeOnce(node, ['-e', '0']), { runs });
compare('sayclaw --help vs node -e 0', () => timeOnce(node, [bin, '--help'], { env }), () => timeOnce(node, ['-e', '0']), { runs });

const u = new URL(url);
const mysqlArgs = ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : [])];
spawnSync(node, [bin, 'schema', 'init', '-q', '--no-pg'], { env, stdio: 'inherit' });
const load = spawnSync('mysql', [...mysqlArgs, '-e', `INSERT IGNORE INTO ${names.admin}.servers (id, name, ip, region) VALUES ('srv-1','jp-2-srv-01','127.0.10.1','jp-2');
  INSERT IGNORE INTO ${names.admin}.oc_instances (id, server_id, gateway_port, model, health_status)
  SELECT CONCAT('oc-ai-jp-', d.p, '-', LPAD(n.n, 2, '0')), 'srv-1', 18789 + n.n, 'gpt-4o', 'healthy'
  FROM (SELECT 1 p UNION SELECT 2 UNION SELECT 3) d, (SELECT 1 n UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9 UNION SELECT 10) n;`], { encoding: 'utf8' });
if (load.status) throw new Error(load.stderr);
compare('instances ls --prefix -o json (30 instances) vs node -e 0', () => timeOnce(node, [bin, 'instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'json'], { env }),
  () => timeOnce(node, ['-e', '0']), { runs });
