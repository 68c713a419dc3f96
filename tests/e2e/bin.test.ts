// The built binary, as a user types it.
import { runBin } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';

let t: TestEnv;
beforeAll(async () => { t = await createTestEnv(); });
afterAll(async () => { await t?.close(); });

test('--version and --help', async () => {
  const v = await runBin(['--version'], t.env);
  expect(v.code).toBe(0);
  expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  const h = await runBin(['--help'], t.env);
  expect(h.code).toBe(0);
  for (const g of ['instances', 'servers', 'users', 'keys', 'usage', 'doctor', 'config', 'completion', 'schema init', 'config show']) expect(h.stdout).toContain(g);
  expect(h.stdout).toContain('Examples:');
});

test('every group --help lists its verbs with examples', async () => {
  // the groups and verbs come from the command tree itself, so a new group or verb is covered
  const { buildProgram } = await import('../../commands/index.js');
  type Cmd = ReturnType<typeof buildProgram>;
  const groups: Array<{ path: string[]; verbs: string[] }> = [];
  const walk = (c: Cmd, path: string[]) => {
    for (const sub of c.commands) {
      if (!sub.commands.length) continue;
      groups.push({ path: [...path, sub.name()], verbs: sub.commands.map((v) => v.name()) });
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(buildProgram(), []);
  expect(groups.map((g) => g.path.join(' '))).toEqual(expect.arrayContaining(['instances', 'servers', 'users', 'users admins', 'users telegram',
    'keys', 'keys oc', 'keys oneapi', 'usage', 'schema', 'config']));
  for (const g of groups) {
    const h = await runBin([...g.path, '--help'], t.env);
    expect(h.code).toBe(0);
    const commands = h.stdout.slice(h.stdout.indexOf('Commands:'), h.stdout.indexOf('Examples:'));
    expect(commands.length).toBeGreaterThan(0);
    for (const v of g.verbs) expect({ group: g.path.join(' '), listed: new RegExp(`^  ${v}\\b`, 'm').test(commands) }).toEqual({ group: g.path.join(' '), listed: true });
    const examples = h.stdout.slice(h.stdout.indexOf('Examples:'));
    expect(examples).toMatch(new RegExp(`\\$ sayclaw ${g.path.join(' ')} \\S`));
  }
});

test('doctor against the test databases', async () => {
  const r = await runBin(['doctor'], t.env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

test('completion scripts for bash, zsh, fish; bash script is valid', async () => {
  for (const sh of ['bash', 'zsh', 'fish']) {
    const r = await runBin(['completion', sh], t.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sayclaw');
  }
  const { execFileSync } = await import('node:child_process');
  const script = (await runBin(['completion', 'bash'], t.env)).stdout;
  const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(sayclaw sch); COMP_CWORD=1; _sayclaw; echo "\${COMPREPLY[@]}"; COMP_WORDS=(sayclaw schema ""); COMP_CWORD=2; _sayclaw; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  expect(out).toContain('schema');
  expect(out).toMatch(/init.*diff.*print|init diff print/);
  const bad = await runBin(['completion', 'tcsh'], t.env);
  expect(bad.code).toBe(2);
});

test('unknown verb exits 2 from the binary', async () => {
  const r = await runBin(['nope'], t.env);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown command 'nope'/);
});

test('the built mysql2 chunk still names server errors (its error table is a chunk of its own, loaded on first lookup)', async () => {
  const { createRequire } = await import('node:module');
  const req = createRequire(import.meta.url);
  const dist = new URL('../../dist/vendor/', import.meta.url).pathname;
  const mysql = req(`${dist}mysql2.cjs`) as typeof import('mysql2');
  const u = new URL(t.env.SAYCLAW_MYSQL_URL!);
  const conn = mysql.createConnection({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) });
  try {
    const err = await new Promise<{ code?: string; errno?: number }>((resolve) => conn.query(`SELECT 1 FROM \`${t.names.admin}\`.no_such_table`, (e) => resolve(e as never)));
    expect({ code: err.code, errno: err.errno }).toEqual({ code: 'ER_NO_SUCH_TABLE', errno: 1146 });
    expect(req(`${dist}mysql2-errors.cjs`)[1049]).toBe('ER_BAD_DB_ERROR');
  } finally { conn.destroy(); }
});

test('node:crypto loads on first use: instances ls loads it for the password hash of its login, not without a password', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { TEST_MYSQL_URL } = await import('../support/services.js');
  // a preload that writes the built-in modules the run loaded, at exit
  const out = join(t.tmp, 'modules.txt');
  const preload = join(t.tmp, 'modules.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`);
  const loaded = async (env: Record<string, string | undefined>) => {
    const r = await runBin(['instances', 'ls', '-o', 'json'], { ...env, NODE_OPTIONS: `--require ${preload}` });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '0 instances\n' });
    expect(JSON.parse(r.stdout)).toEqual([]);
    return (await import('node:fs')).readFileSync(out, 'utf8').split('\n').includes('NativeModule crypto');
  };
  // the env's account has a password: mysql2 hashes it with the real node:crypto
  expect(new URL(t.env.SAYCLAW_MYSQL_URL!).password).not.toBe('');
  expect(await loaded(t.env)).toBe(true);
  // root without a password (this machine's MariaDB, and CI's): nothing asks for crypto
  if (new URL(TEST_MYSQL_URL).password === '') expect(await loaded({ ...t.env, SAYCLAW_MYSQL_URL: TEST_MYSQL_URL })).toBe(false);
});

test('a SIGTERM while the bundle loads takes the clean path (exit 130), not the default action (143)', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { spawnBin } = await import('../support/bin.js');
  // a preload sends the signal as the first bundle chunk is about to run, and holds that chunk
  // back 200 ms, so it is pending while the bundle loads: what a loaded machine's seconds of
  // loading look like to timeout(1) from cron
  const pre = join(t.tmp, 'signal-while-loading.cjs');
  writeFileSync(pre, `const vm = require('node:vm');
const run = vm.Script.prototype.runInThisContext;
let sent = false;
vm.Script.prototype.runInThisContext = function (...a) {
  if (!sent) { sent = true; process.kill(process.pid, 'SIGTERM'); const end = Date.now() + 200; while (Date.now() < end); }
  return run.apply(this, a);
};
`);
  const r = await spawnBin(['instances', 'ls', '-o', 'json'], { ...t.env, NODE_OPTIONS: `--require ${pre}` }, { killAfterMs: 30000 });
  // (the listing of an empty table may finish before the abort is seen: the code is still 130)
  expect(r.code).toBe(130);
  expect(r.stderr).toMatch(/^\ninterrupted; cleaning up/);
});
