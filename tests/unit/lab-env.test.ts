// scripts/lab.sh up prints an env file for another shell: only SAYCLAW_* variables (never HOME,
// USER or PATH), quoted so that sh reads each value back exactly.
import { execFileSync, spawn } from 'node:child_process';
import { labEnvFileText, realGatewayLock } from '../support/lab.js';

test('the lab env file exports only SAYCLAW_* variables, and sh reads them back exactly', () => {
  const env = { HOME: '/tmp/x', USER: 'tester', PATH: '/nowhere', SAYCLAW_MYSQL_URL: "mysql://u:p'w@127.0.0.1:3306", SAYCLAW_DB_ADMIN: 'a_admin', LANG: 'C' };
  const text = labEnvFileText(env, '/tmp/lab/config.json');
  const names = text.trim().split('\n').map((l) => /^export ([A-Z_]+)=/.exec(l)?.[1]);
  expect(names.sort()).toEqual(['SAYCLAW_CONFIG', 'SAYCLAW_DB_ADMIN', 'SAYCLAW_MYSQL_URL']);
  const back = execFileSync('sh', ['-c', `${text}printf '%s\\n' "$SAYCLAW_MYSQL_URL" "$SAYCLAW_CONFIG" "$HOME"`], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/home/kept' } });
  expect(back).toBe("mysql://u:p'w@127.0.0.1:3306\n/tmp/lab/config.json\n/home/kept\n");
});

test('the real-gateway lock: one holder at a time, across processes; freed when the holder exits, however it exits', async () => {
  const name = `\0sayclaw-test-lock-${process.pid}`;
  const release = await realGatewayLock('first', name);
  let second = false;
  const p = realGatewayLock('second', name).then((r) => { second = true; return r; });
  await new Promise((r) => setTimeout(r, 1200));
  expect(second).toBe(false);
  await release();
  const r2 = await p;
  expect(second).toBe(true);
  await r2();
  // another process holds it and is killed: the kernel frees it
  const js = `require('net').createServer().listen({ path: ${JSON.stringify(name)}, exclusive: true }, () => process.stdout.write('held\\n'))`;
  const child = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  let third = false;
  const p3 = realGatewayLock('third', name).then((r) => { third = true; return r; });
  await new Promise((r) => setTimeout(r, 1200));
  expect(third).toBe(false);
  child.kill('SIGKILL');
  await (await p3)();
  expect(third).toBe(true);
}, 30000);
