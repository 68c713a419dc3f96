// Fails the run at once, with how to fix it, when MariaDB or PostgreSQL is not reachable.
// (Plain JS: jest loads globalSetup outside its module mapper.)
import { readdirSync, rmSync, statSync } from 'node:fs';
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

const HOW = 'start them with: bash scripts/services.sh (installs and starts MariaDB and PostgreSQL)';
export default async function globalSetup() {
  sweepTemp();
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
