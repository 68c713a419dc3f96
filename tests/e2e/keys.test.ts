// keys verbs through the built binary, as a user types them (stdin pipes, exit codes).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runBin } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';

let t: TestEnv;
let env: Record<string, string>;
const SECRET = 'sk-e2e-SECRETxyz0123456789abcdefGHIJ';
const MK = randomBytes(32);
const outputs: string[] = [];
const bin = async (argv: string[], input?: string, e: Record<string, string | undefined> = env) => {
  const r = await runBin(argv, e, input);
  outputs.push(r.stdout, r.stderr);
  return r;
};

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  const f = join(t.tmp, 'master.key');
  writeFileSync(f, `${MK.toString('hex')}\n`, { mode: 0o600 });
  env = { ...t.env, SAYCLAW_MASTER_KEY_FILE: f };
});
afterAll(async () => { await t?.close(); });

test('add, ls, verify, reveal, revoke through bin/sayclaw', async () => {
  const add = await bin(['keys', 'add', '--provider', 'openai', '--name', 'e2e', '--secret-stdin', '-o', 'json'], `${SECRET}\n`);
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
  const id = JSON.parse(add.stdout).id as string;
  const ls = await bin(['keys', 'ls'], undefined, { ...env, SAYCLAW_MASTER_KEY_FILE: undefined });
  expect(ls.code).toBe(0);
  expect(ls.stdout).toMatch(/openai\s+e2e\s+active\s+sk-\.\.\.GHIJ [0-9a-f]{8}/);
  expect((await bin(['keys', 'verify'])).code).toBe(0);
  const pipe = await bin(['keys', 'reveal', id]);
  expect(pipe.code).toBe(2);
  expect(pipe.stdout).toBe('');
  const rv = await runBin(['keys', 'reveal', id, '--yes'], env);
  expect(rv.code).toBe(0);
  expect(rv.stdout).toBe(`${SECRET}\n`);
  outputs.push(rv.stderr);
  const key = await bin(['keys', 'verify', '--master-key-stdin'], randomBytes(32).toString('base64'), { ...env, SAYCLAW_MASTER_KEY_FILE: undefined });
  expect(key.code).toBe(3);
  expect(key.stderr).toMatch(/most likely the wrong master key file/);
  const rk = await bin(['keys', 'revoke', id, '--yes']);
  expect(rk.code).toBe(0);
  const oc = await bin(['keys', 'oc', 'ls']);
  expect(oc.code).toBe(0);
  const one = await bin(['keys', 'oneapi', 'ls', '--expiring-within', '7d']);
  expect(one.code).toBe(0);
  for (const o of outputs) {
    expect(o.includes(SECRET)).toBe(false);
    expect(o.includes(MK.toString('hex'))).toBe(false);
  }
});
