// Faults against the real lab: a server that refuses and one that hangs among healthy ones,
// unknown and changed host keys under the strict policy, a stopped Docker engine, Ctrl-C
// during a fan-out.
import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, type Lab } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
let tarpit: Server;
const sockets: Socket[] = [];
let tarpitPort = 0;
let closedPort = 0;

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 4, namePrefix: 'ft' })]);
  await lab.register(t.db);
  // accepts TCP but never speaks SSH: a connect that hangs until the timeout
  tarpit = createServer((s) => { sockets.push(s); s.on('error', () => undefined); });
  await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', () => r()));
  tarpitPort = (tarpit.address() as { port: number }).port;
  closedPort = await lab.freePort();
  await t.db.insertInto('admin.servers').values([
    { id: crypto.randomUUID(), name: 'ft-hang', ip: '127.0.0.1', ssh_port: tarpitPort, ssh_key_path: lab.clientKey, region: 'lab-east' },
    { id: crypto.randomUUID(), name: 'ft-down', ip: '127.0.0.1', ssh_port: closedPort, ssh_key_path: lab.clientKey, region: 'lab-east' },
  ]).execute();
}, 120000);
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => tarpit?.close(r));
  await Promise.all([lab?.close(), t?.close()]);
}, 60000);

const knownHosts = () => join(t.tmp, '.config', 'sayclaw', 'known_hosts');
const fingerprint = (pub: string) => {
  const f = join(t.tmp, 'k.pub');
  writeFileSync(f, `${pub}\n`);
  return execFileSync('ssh-keygen', ['-lf', f], { encoding: 'utf8' }).split(' ')[1]!;
};

test('one server hangs and one refuses among many: the others finish, reasons shown, time near the timeout, exit 3', async () => {
  // the same run without the hanging server, right before: what the rest costs on this machine
  // now (a loaded CI machine takes seconds for it), so the bound below is about the timeout
  // (4 s: a healthy server's handshake took over 1 s at load 10 in CI; the default is 10 s)
  let t0 = Date.now();
  const control = await t.run(['--set', 'ssh.connectTimeoutMs=4000', 'servers', 'exec', ...lab.servers.map((s) => s.name), 'ft-down', '--', 'echo', 'ok']);
  const controlMs = Date.now() - t0;
  expect(control.stderr).toMatch(/5 servers: 4 ok, 1 failed/);
  t0 = Date.now();
  const r = await t.run(['--set', 'ssh.connectTimeoutMs=4000', 'servers', 'exec', '--all', '--', 'echo', 'ok']);
  const ms = Date.now() - t0;
  expect(r.code).toBe(3);
  for (const s of lab.servers) expect(r.stdout).toMatch(new RegExp(`^${s.name}\\s+\\| ok$`, 'm'));
  expect(r.stderr).toMatch(/ft-hang\s+! timeout: connect timed out after 4000 ms/);
  expect(r.stderr).toMatch(/ft-down\s+! unreachable: .*ECONNREFUSED/);
  expect(r.stderr).toMatch(/6 servers: 4 ok, 2 failed/);
  // the hang costs its connect timeout, not more (the default would be 10 s)
  expect(ms).toBeLessThan(Math.max(controlMs, 500) + 4000 + 2500);
  const c = await t.run(['--set', 'ssh.connectTimeoutMs=4000', 'servers', 'check', '--all', '-o', 'json']);
  expect(c.code).toBe(3);
  const j = JSON.parse(c.stdout);
  const by = Object.fromEntries(j.servers.map((s: { server_name: string }) => [s.server_name, s]));
  expect(by['ft-hang'].error).toMatch(/ssh: connect timed out/);
  expect(by['ft-01'].status).toBe('ok');
});

test('strict host key policy refuses an unknown key and shows its fingerprint; accept-new records it', async () => {
  const s = lab.servers[0]!;
  const fp = fingerprint(s.hostKeyPub);
  // the earlier test ran with accept-new, so the key is known there: use a fresh known_hosts file
  let r = await t.run(['--set', `ssh.knownHostsFile=${join(t.tmp, 'empty_known_hosts')}`, '--set', 'ssh.hostKeyPolicy=strict', 'servers', 'exec', s.name, '--', 'true']);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(`unknown host key for [127.0.0.1]:${s.sshPort} (${fp}); refused by hostKeyPolicy strict`);
  // accept-new (the default) recorded it in OpenSSH format
  expect(readFileSync(knownHosts(), 'utf8')).toContain(`[127.0.0.1]:${s.sshPort} ${s.hostKeyPub.split(' ').slice(0, 2).join(' ')}`);
  r = await t.run(['--set', 'ssh.hostKeyPolicy=strict', 'servers', 'exec', s.name, '--', 'true']);
  expect(r.code).toBe(0);
});

test('a changed host key is refused even under accept-new', async () => {
  const s = lab.servers[1]!;
  const other = lab.servers[2]!.hostKeyPub.split(' ').slice(0, 2).join(' ');
  const file = join(t.tmp, 'changed_known_hosts');
  mkdirSync(t.tmp, { recursive: true });
  writeFileSync(file, `[127.0.0.1]:${s.sshPort} ${other}\n`);
  const r = await t.run(['--set', `ssh.knownHostsFile=${file}`, 'servers', 'exec', s.name, '--', 'true']);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/host key for \[127\.0\.0\.1\]:\d+ CHANGED \(now SHA256:[A-Za-z0-9+/]+\); refusing to connect/);
});

test('Ctrl-C during a fan-out closes the connections and exits 130', async () => {
  const ac = new AbortController();
  const before = lab.servers.map((s) => readFileSync(s.sshdLog, 'utf8').length);
  const t0 = Date.now();
  const p = t.run(['servers', 'exec', '--region', 'lab-west', '--', 'sleep', '30'], { signal: ac.signal });
  setTimeout(() => ac.abort(), 1000);
  const r = await p;
  expect(r.code).toBe(130);
  expect(Date.now() - t0).toBeLessThan(4000);
  // sshd saw the connections go away
  const west = lab.servers.filter((s) => s.region === 'lab-west');
  for (let i = 0; i < 40; i++) {
    const gone = west.every((s) => /Disconnected from|Connection closed|Connection reset|Close session/.test(readFileSync(s.sshdLog, 'utf8').slice(before[lab.servers.indexOf(s)]!)));
    if (gone) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  for (const s of west) expect(readFileSync(s.sshdLog, 'utf8').slice(before[lab.servers.indexOf(s)]!)).toMatch(/Disconnected from|Connection closed|Connection reset|Close session/);
});

test('a stopped Docker engine is reported for that server only', async () => {
  const s = lab.servers[3]!;
  await lab.stopEngine(s.engine);
  const r = await t.run(['servers', 'check', 'ft-01', 'ft-02', 'ft-03', 'ft-04', '-o', 'json']);
  expect(r.code).toBe(3);
  const j = JSON.parse(r.stdout);
  const by = Object.fromEntries(j.servers.map((x: { server_name: string }) => [x.server_name, x]));
  // one assertion over all four, so that a failure shows every server's row
  expect(by).toMatchObject({
    'ft-01': { status: 'ok' }, 'ft-02': { status: 'ok' }, 'ft-03': { status: 'ok' },
    'ft-04': { status: 'failed', docker_version: null, ssh_ms: expect.any(Number),
      error: expect.stringMatching(/^docker: .*(Cannot connect|connect: no such file|connection refused)/i) },
  });
  const tbl = await t.run(['servers', 'check', 'ft-04']);
  expect(tbl.code).toBe(3);
  expect(tbl.stdout).toMatch(/ft-04\s+failed/);
});

test('progress on stderr only when stderr is a TTY (6 servers, grouped output)', async () => {
  const names = ['ft-01', 'ft-02', 'ft-03', 'ft-04', 'ft-01', 'ft-02'];
  const tty = await t.run(['servers', 'exec', ...names.slice(0, 4), '--group', '--', 'true'], { tty: true });
  // 4 servers: below the threshold, no progress line
  expect(tty.stderr).not.toMatch(/\[#*\.*\]/);
  // a timeout for ft-hang that the healthy servers' handshakes meet on a loaded machine (at load 10
  // in CI they took over 1 s)
  const all = await t.run(['--set', 'ssh.connectTimeoutMs=4000', 'servers', 'exec', '--all', '--group', '--', 'true'], { tty: true });
  expect(all.stderr).toMatch(/running \[#*\.*\] \d\/6/);
  expect(all.stderr).toMatch(/6\/6, 2 failed/);
  const piped = await t.run(['--set', 'ssh.connectTimeoutMs=4000', 'servers', 'exec', '--all', '--group', '--', 'true']);
  expect(piped.stderr).not.toMatch(/running \[/);
});
