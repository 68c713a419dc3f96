// Fails the run at once, with how to fix it, when MariaDB or PostgreSQL is not reachable.
// (Plain JS: jest loads globalSetup outside its module mapper.)
import { readdirSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';

// Test files remove their temporary directories (tests/support/tmp.ts, testenv.ts); a run that
// was killed cannot, so directories named like theirs (sayclaw-<what>-XXXXXX) go once a day old.
function sweepTemp() {
  const dayAgo = Date.now() - 86400e3;
  for (const f of readdirSync(tmpdir())) {
    if (!/^sayclaw-[a-z0-9][a-z0-9-]*-[A-Za-z0-9]{6}$/.test(f)) continue;
    const p = join(tmpdir(), f);
    try { if (statSync(p).isDirectory() && statSync(p).mtimeMs < dayAgo) rmSync(p, { recursive: true, force: true }); } catch { /* gone meanwhile */ }
  }
}

// A test process that was killed (Ctrl-C of jest, a killed CI run) cannot stop its lab: its
// dockerd and sshd processes live on, adopted by init, with their containers (a real gateway
// costs CPU all the time). Those of a lab whose test process is gone (parent pid 1, under
// /tmp/sclab-*) are stopped here, containers first; a running lab's have a live parent.
function reapOrphanLabs() {
  let procs;
  try {
    procs = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n')
      .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)).filter(Boolean).map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  } catch { return; }
  const orphans = procs.filter((p) => p.ppid === 1 && /^(\/usr\/sbin\/dockerd|sshd: \/usr\/sbin\/sshd|\/usr\/sbin\/sshd) .*\/tmp\/sclab-[A-Za-z0-9]{6}\//.test(p.args));
  const dirs = new Set();
  for (const p of orphans) {
    const dir = /\/tmp\/sclab-[A-Za-z0-9]{6}/.exec(p.args)[0];
    dirs.add(dir);
    const sock = /-H unix:\/\/(\S+)/.exec(p.args)?.[1];
    if (sock) {
      try { execFileSync('sh', ['-c', `docker -H "unix://${sock}" ps -q | xargs -r docker -H "unix://${sock}" kill`], { stdio: 'ignore', timeout: 20000 }); } catch { /* gone */ }
    }
  }
  for (const p of orphans) { try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ } }
  if (orphans.length) process.stderr.write(`test setup: stopped ${orphans.length} processes of ${dirs.size} lab(s) whose test process was gone (${[...dirs].join(' ')})\n`);
}

const HOW = 'start them with: bash scripts/services.sh (installs and starts MariaDB and PostgreSQL)';
export default async function globalSetup() {
  sweepTemp();
  reapOrphanLabs();
  const mu = new URL(process.env.SAYCLAW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  try {
    const c = await mysql.createConnection({ host: mu.hostname, port: Number(mu.port || 3306), user: decodeURIComponent(mu.username || 'root'), password: decodeURIComponent(mu.password), connectTimeout: 5000 });
    await c.end();
  } catch (err) {
    throw new Error(`MariaDB/MySQL for tests is not reachable at ${mu.host} (${err.message}); ${HOW}`);
  }
  const pu = new URL(process.env.SAYCLAW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const c = new pg.Client({ host: pu.hostname, port: Number(pu.port || 5432), user: decodeURIComponent(pu.username || 'postgres'), password: decodeURIComponent(pu.password), database: 'postgres', connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.end();
  } catch (err) {
    throw new Error(`PostgreSQL for tests is not reachable at ${pu.host} (${err.message}); ${HOW}`);
  }
}
