// scripts/lab.sh up prints an env file for another shell: only SAYCLAW_* variables (never HOME,
// USER or PATH), quoted so that sh reads each value back exactly.
import { execFileSync } from 'node:child_process';
import { labEnvFileText } from '../support/lab.js';

test('the lab env file exports only SAYCLAW_* variables, and sh reads them back exactly', () => {
  const env = { HOME: '/tmp/x', USER: 'tester', PATH: '/nowhere', SAYCLAW_MYSQL_URL: "mysql://u:p'w@127.0.0.1:3306", SAYCLAW_DB_ADMIN: 'a_admin', LANG: 'C' };
  const text = labEnvFileText(env, '/tmp/lab/config.json');
  const names = text.trim().split('\n').map((l) => /^export ([A-Z_]+)=/.exec(l)?.[1]);
  expect(names.sort()).toEqual(['SAYCLAW_CONFIG', 'SAYCLAW_DB_ADMIN', 'SAYCLAW_MYSQL_URL']);
  const back = execFileSync('sh', ['-c', `${text}printf '%s\\n' "$SAYCLAW_MYSQL_URL" "$SAYCLAW_CONFIG" "$HOME"`], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/home/kept' } });
  expect(back).toBe("mysql://u:p'w@127.0.0.1:3306\n/tmp/lab/config.json\n/home/kept\n");
});
