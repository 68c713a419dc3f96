// The prompts in a real terminal (tmux), through the built binary: "type the id" confirmation
// (a tick only for a matching answer), the no-echo password asked twice, and asked again after
// a mismatch or a too-short password, so nothing the user types afterwards lands in the shell.
import bcrypt from 'bcryptjs';
import { BIN } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { openTerminal, type Terminal } from '../support/tmux.js';

let t: TestEnv;
let term: Terminal | undefined;
const sayclaw = `${process.execPath} ${BIN}`;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  await t.db.insertInto('admin.oc_instances').values(['tty-01', 'tty-02', 'tty-03'].map((id) => ({ id, name: id, gateway_port: 1 }))).execute();
});
afterEach(() => { term?.close(); term = undefined; });
afterAll(async () => { await t?.close(); });

const deleted = async (id: string) => (await t.db.selectFrom('admin.oc_instances').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow()).deleted_at !== null;

test('type the id: a wrong answer gets a cross (no tick) and changes nothing; the right one a tick', async () => {
  term = openTerminal(t.env);
  let run = term.start(`${sayclaw} instances rm tty-01`);
  await term.waitFor(/Type the id "tty-01" to soft-delete it:/);
  term.type('tty-02');
  expect(await run.exit()).toBe(2);
  let s = term.screen();
  expect(s).toMatch(/^✘ Type the id "tty-01" to soft-delete it: tty-02$/m);
  expect(s).not.toMatch(/✔/);
  expect(s).toMatch(/^error: confirmation did not match \(expected "tty-01"\); nothing changed$/m);
  expect(await deleted('tty-01')).toBe(false);

  run = term.start(`${sayclaw} instances rm tty-01 tty-02`);
  await term.waitFor(/Type the number of instances \(2\) to soft-delete them:/);
  term.type('2');
  expect(await run.exit()).toBe(0);
  s = term.screen();
  expect(s).toMatch(/^✔ Type the number of instances \(2\) to soft-delete them: 2$/m);
  expect(s).toMatch(/^tty-02\s+deleted$/m);
  expect(await deleted('tty-01')).toBe(true);
}, 60000);

test('the admin password: no echo, asked twice, asked again after a mismatch and a too-short one', async () => {
  const pw = 'Correct-Horse-9';
  term = openTerminal(t.env);
  const run = term.start(`${sayclaw} users admins add --email tty@sayclaw.test --name 终端`);
  await term.waitFor(/New password for tty@sayclaw\.test:/);
  term.type(pw);
  await term.waitFor(/Repeat the password:/);
  term.type(`${pw}-typo`);
  await term.waitFor(/the two passwords differ; try again \(2 tries left\)\n.*New password for tty@sayclaw\.test:/);
  term.type('Zq7');
  await term.waitFor(/password too short: at least 10 characters; try again \(1 try left\)\n.*New password for tty@sayclaw\.test:/);
  term.type(pw);
  await term.waitFor(/Repeat the password:[\s\S]*Repeat the password:/);
  term.type(pw);
  expect(await run.exit()).toBe(0);
  const s = term.screen();
  // nothing typed was echoed, and nothing reached the shell as a command
  expect(s).not.toContain(pw);
  expect(s).not.toContain('Zq7');
  // each finished prompt is ticked only when its answer was taken: crossed for the refused ones
  expect(s.split('\n').filter((l) => /New password|Repeat the password/.test(l))).toEqual([
    '✔ New password for tty@sayclaw.test:', '✘ Repeat the password:',
    '✘ New password for tty@sayclaw.test:',
    '✔ New password for tty@sayclaw.test:', '✔ Repeat the password:']);
  expect(s).not.toMatch(/command not found/);
  expect(s).toMatch(/added admin account tty@sayclaw\.test/);
  const row = await t.db.selectFrom('admin.admin_users').select('password_hash').where('email', '=', 'tty@sayclaw.test').executeTakeFirstOrThrow();
  expect(await bcrypt.compare(pw, row.password_hash)).toBe(true);
}, 60000);

test('three failed tries end the prompt with the reason; none of what was typed reaches the shell', async () => {
  term = openTerminal(t.env);
  const run = term.start(`${sayclaw} users admins add --email tty2@sayclaw.test --name x`);
  for (let i = 0; i < 3; i++) {
    await term.waitFor(new RegExp(`(New password for tty2@sayclaw\\.test:[\\s\\S]*){${i + 1}}`));
    term.type('tiny');
  }
  expect(await run.exit()).toBe(2);
  const s = term.screen();
  expect(s).toMatch(/^error: password too short: at least 10 characters; no password set after 3 tries; nothing changed$/m);
  expect(s).not.toMatch(/tiny|command not found/);
  expect(await t.db.selectFrom('admin.admin_users').select('id').where('email', '=', 'tty2@sayclaw.test').executeTakeFirst()).toBeUndefined();
}, 60000);
