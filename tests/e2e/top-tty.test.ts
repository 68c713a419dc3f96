// sayclaw top in a real terminal (tmux, the built binary) against the demo fleet: it shows the
// fleet, filters, sorts, opens a detail, asks before a restart (type the id), quits and leaves
// the terminal clean (normal screen, cursor shown, the line discipline back to cooked) on q,
// Ctrl-C, SIGTERM and an error; it redraws for a smaller terminal (80x24, columns dropped).
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync, readFileSync } from 'node:fs';
import { BIN, runBin } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { openTerminal, type Terminal } from '../support/tmux.js';
import { loadDemoFleet } from '../../scripts/demo-fleet.js';
import { REAL_LAB_SETUP_MS, startLab, type Lab } from '../support/lab.js';

let t: TestEnv;
let term: Terminal | undefined;
const sayclaw = `${process.execPath} ${BIN}`;

beforeAll(async () => {
  t = await createTestEnv();
  await loadDemoFleet(t.db, t.pg);
}, 180000);
afterEach(() => { term?.close(); term = undefined; });
afterAll(async () => { await t?.close(); });

/** Lines without the blanks a full-screen program leaves at their ends. */
const clean = (s: string) => s.replace(/ +$/gm, '');
const waitScreen = async (tm: Terminal, re: RegExp) => clean(await tm.waitFor(new RegExp(re.source.replace(/\$/g, ' *$'), re.flags)));

/** The shell's terminal is back: normal screen, cursor visible, canonical mode with echo. */
async function expectRestored(tm: Terminal): Promise<void> {
  expect(tm.display('#{alternate_on}')).toBe('0');
  expect(tm.display('#{cursor_flag}')).toBe('1');
  const run = tm.start('stty -a | tr " " "\\n" | grep -xE -- "-?(icanon|echo)" | tr "\\n" " "; echo');
  expect(await run.exit()).toBe(0);
  expect(tm.screen()).toMatch(/^icanon echo $/m);
}

test('shows the fleet, filters, sorts, opens a detail and quits with exit 0, leaving the shell', async () => {
  term = openTerminal(t.env, { width: 160, height: 40 });
  const run = term.start(`${sayclaw} top --no-remote --interval 2s`);
  let s = await waitScreen(term, /instances \d+ alive: \d+ healthy, \d+ unhealthy/);
  expect(term.display('#{alternate_on}')).toBe('1');
  s = await waitScreen(term, /^> oc-ai-jp-1-01 /m);
  expect(s).toMatch(/^\[Instances \d+\] {3}Servers \d+ +sort id\s*$/m);
  expect(s).toMatch(/^ {2}ID +HEALTH +SERVER +USER +LAST PROBE +REQ TODAY +TOKENS TODAY +MODEL +REASON/m);
  expect(s).toMatch(/^q quit {2}\? help {2}Tab pane/m);
  // filter: part of an id
  term.type('/', false);
  term.type('jp-2-0', false);
  s = await waitScreen(term, /^\/jp-2-0_/m);
  term.keys('Enter');
  s = await waitScreen(term, /filter "jp-2-0"/);
  const rows = clean(term.visible()).split('\n').filter((l) => /^[> ] oc-/.test(l));
  expect(rows.length).toBeGreaterThan(3);
  expect(rows.every((l) => /^[> ] oc-ai-jp-2-0\d /.test(l))).toBe(true);
  expect(rows[0]).toMatch(/^> oc-ai-jp-2-01 /);
  // move down to the unhealthy one and sort by health: the unhealthy come first
  term.type('s', false);
  s = await waitScreen(term, /sort health/);
  expect(clean(term.visible()).split('\n').find((l) => /^> /.test(l))).toMatch(/^> oc-ai-jp-2-04 +unhealthy /);
  // the detail: what instances show prints
  term.keys('Enter');
  s = await waitScreen(term, /^instance oc-ai-jp-2-04 {3}\(arrows/m);
  expect(s).toMatch(/^Instance$/m);
  expect(s).toMatch(/^id +oc-ai-jp-2-04$/m);
  expect(s).toMatch(/^gateway_token +\S*\*+/m);
  term.keys('Escape');
  await waitScreen(term, /^> oc-ai-jp-2-04 /m);
  // the servers pane
  term.keys('Tab');
  s = await waitScreen(term, /^ Instances \d+ +\[Servers \d+\]/m);
  expect(s).toMatch(/^ {2}NAME +REACHABLE +REGION +LATENCY +INST +DRIFT/m);
  expect(s).toMatch(/^> \S+ +unknown /m);
  term.type('?', false);
  await waitScreen(term, /^ {2}r {16}restart the selected instance's container/m);
  term.type('x', false);
  await waitScreen(term, /NAME +REACHABLE/);
  term.type('q', false);
  expect(await run.exit()).toBe(0);
  await expectRestored(term);
  expect(term.screen()).not.toMatch(/instances \d+ alive/);
}, 120000);

test('r asks for the id: a wrong answer changes nothing; Esc cancels; no audit row', async () => {
  term = openTerminal(t.env, { width: 160, height: 40 });
  const run = term.start(`${sayclaw} top --no-remote --prefix oc-ai-jp-2-`);
  await waitScreen(term, /^> oc-ai-jp-2-01 /m);
  term.type('r', false);
  await waitScreen(term, /^Type the id "oc-ai-jp-2-01" to restart it: _/m);
  term.type('oc-ai-jp-2-03', false);
  await waitScreen(term, /to restart it: oc-ai-jp-2-03_/);
  term.keys('Enter');
  await waitScreen(term, /^confirmation did not match \(expected "oc-ai-jp-2-01"\); nothing changed$/m);
  term.type('r', false);
  await waitScreen(term, /^Type the id "oc-ai-jp-2-01" to restart it: _/m);
  term.keys('Escape');
  await waitScreen(term, /^restart of oc-ai-jp-2-01 cancelled; nothing changed$/m);
  term.keys('C-c');
  expect(await run.exit()).toBe(130);
  await expectRestored(term);
  const audit = await t.db.selectFrom('admin.admin_logs').select('id').where('action', '=', 'instances.restart').execute();
  expect(audit).toEqual([]);
}, 120000);

test('80x24: columns drop, the rows still fit; a resize redraws', async () => {
  term = openTerminal(t.env, { width: 80, height: 24 });
  const run = term.start(`${sayclaw} top --no-remote`);
  await waitScreen(term, /^> oc-ai-jp-1-01 /m);
  const lines = clean(term.visible()).split('\n');
  expect(lines.length).toBeLessThanOrEqual(24);
  expect(lines.every((l) => l.length <= 80)).toBe(true);
  const head = lines.find((l) => /^ {2}ID /.test(l))!;
  expect(head).toMatch(/ID +HEALTH +SERVER/);
  expect(head).not.toMatch(/MODEL/);
  term.resize(150, 30);
  await waitScreen(term, /^ {2}ID .*MODEL/m);
  // SAYCLAW_TOP_SCREENSHOT=FILE: the README's screenshot is this capture
  if (process.env.SAYCLAW_TOP_SCREENSHOT) writeFileSync(process.env.SAYCLAW_TOP_SCREENSHOT, `${clean(term.visible())}\n`);
  term.type('q', false);
  expect(await run.exit()).toBe(0);
  await expectRestored(term);
}, 120000);

test('colour on a terminal; none with NO_COLOR or --no-color', async () => {
  for (const [env, flag, coloured] of [[{}, '', true], [{ NO_COLOR: '1' }, '', false], [{}, ' --no-color', false]] as const) {
    term = openTerminal({ ...t.env, ...env }, { width: 120, height: 30 });
    const run = term.start(`${sayclaw}${flag} top --no-remote`);
    await waitScreen(term, /^> oc-ai-jp-1-01 /m);
    const styled = term.styled();
    expect({ env, flag, green: styled.includes('\x1b[32m'), red: styled.includes('\x1b[31m') }).toEqual({ env, flag, green: coloured, red: coloured });
    term.type('q', false);
    expect(await run.exit()).toBe(0);
    term.close();
    term = undefined;
  }
}, 120000);

test('SIGTERM ends it with exit 130 and a restored terminal', async () => {
  term = openTerminal(t.env, { width: 120, height: 30 });
  const pidFile = join(t.tmp, 'top.pid');
  const run = term.start(`sh -c 'echo $$ > ${pidFile}; exec ${sayclaw} top --no-remote'`);
  await waitScreen(term, /^> oc-ai-jp-1-01 /m);
  const pid = Number(execFileSync('cat', [pidFile], { encoding: 'utf8' }).trim());
  process.kill(pid, 'SIGTERM');
  expect(await run.exit()).toBe(130);
  await expectRestored(term);
}, 120000);

test('an error: a config it cannot use is one line before the screen opens; the terminal stays as it was', async () => {
  term = openTerminal(t.env, { width: 120, height: 30 });
  const run = term.start(`${sayclaw} --set mysql.port=1 top --no-remote`);
  expect(await run.exit()).toBe(5);
  expect(term.screen()).toMatch(/^error: cannot connect to MySQL at .*:1: /m);
  await expectRestored(term);
}, 120000);

/** A preload that writes, at exit, the dist/vendor chunks the run opened (with or without the code cache). */
function chunkTrace(dir: string): { env: Record<string, string>; read(): string[] } {
  const pre = join(dir, 'trace-chunks.cjs');
  const out = join(dir, `chunks-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(pre, `const fs = require('node:fs'); const seen = new Set(); const open = fs.openSync;
fs.openSync = function (p, ...rest) { if (String(p).includes('/dist/vendor/')) seen.add(require('node:path').basename(String(p))); return open.call(this, p, ...rest); };
process.on('exit', () => { for (const k of Object.keys(require.cache)) if (k.includes('/dist/vendor/')) seen.add(require('node:path').basename(k)); fs.writeFileSync(${JSON.stringify(out)}, [...seen].sort().join('\\n')); });\n`);
  return { env: { NODE_OPTIONS: `--require ${pre}` }, read: () => readFileSync(out, 'utf8').split('\n').filter(Boolean) };
}

test('the terminal library loads only for the screen: not for --help, instances ls or top --once', async () => {
  for (const cache of ['on', 'off']) {
    const env = { ...t.env, SAYCLAW_CODE_CACHE: cache, SAYCLAW_CACHE_DIR: join(t.tmp, 'cc') };
    for (const argv of [['--help'], ['instances', 'ls'], ['top', '--once', '--no-remote']]) {
      const tr = chunkTrace(t.tmp);
      const r = await runBin(argv, { ...env, ...tr.env });
      expect({ argv, code: r.code }).toEqual({ argv, code: 0 });
      expect({ argv, cache, chunks: tr.read() }).toEqual({ argv, cache, chunks: expect.not.arrayContaining(['ansi-escapes.cjs']) });
    }
    const tr = chunkTrace(t.tmp);
    term = openTerminal({ ...env, ...tr.env }, { width: 120, height: 30 });
    const run = term.start(`${sayclaw} top --no-remote`);
    await waitScreen(term, /^> oc-ai-jp-1-01 /m);
    term.type('q', false);
    expect(await run.exit()).toBe(0);
    term.close();
    term = undefined;
    expect({ cache, chunks: tr.read() }).toEqual({ cache, chunks: expect.arrayContaining(['ansi-escapes.cjs']) });
  }
}, 120000);

describe('against the lab: real sshd + Docker engines, the real OpenClaw gateway', () => {
  let tl: TestEnv;
  let lab: Lab;
  const TOKEN = 'gwt_top_real_gateway_token_0123456789';
  beforeAll(async () => {
    [tl, lab] = await Promise.all([createTestEnv(), startLab({ servers: 2, namePrefix: 'top', realGateways: 1 })]);
    const ids = await lab.register(tl.db);
    const pReal = lab.gatewayPort(); // a block of its own: the gateway listens on derived ports too
    const pBb = await lab.freePort();
    await lab.runOpenclaw(lab.servers[0]!, 'oc-top-real', pReal, { token: TOKEN });
    lab.runGateway(lab.servers[1]!, 'oc-top-bb', pBb);
    await tl.db.insertInto('admin.oc_instances').values([
      { id: 'oc-top-real', server_id: ids[0]!, name: 'oc-top-real', gateway_port: pReal, gateway_url: `http://127.0.0.1:${pReal}`, gateway_token: TOKEN, model: 'gpt-4o', health_status: 'unknown' },
      { id: 'oc-top-bb', server_id: ids[1]!, name: 'oc-top-bb', gateway_port: pBb, gateway_url: `http://127.0.0.1:${pBb}`, gateway_token: 'gwt_top_bb_0123456789abcdef', model: 'gpt-4o', health_status: 'unknown' },
    ]).execute();
  }, REAL_LAB_SETUP_MS + 300000);
  afterAll(async () => { await Promise.all([lab?.close(), tl?.close()]); }, 120000);

  test('a stopped gateway turns unhealthy on the next remote refresh; r restarts it (type the id, audited); one SSH connection per server', async () => {
    term = openTerminal(tl.env, { width: 160, height: 30 });
    const run = term.start(`${sayclaw} top --interval 2s --remote-interval 3s`);
    // first remote refresh: both servers up with their Docker version
    await waitScreen(term, /servers 2: 2 up, 0 down/);
    let s = await waitScreen(term, /^[> ] oc-top-bb +healthy /m);
    // the real gateway answers (ready, or 503 startup-sidecars while it starts: judged by the body);
    // on a loaded machine its start takes minutes
    s = clean(await term.waitFor(/^[> ] oc-top-real +(healthy|not_ready) /m, 240000));
    expect(s).toMatch(/drift 0/);
    term.keys('Tab');
    s = await waitScreen(term, /^> top-01 +up +lab-east +\d+ ms +1 +0 +\d+\.\d+/m);
    expect(s).toMatch(/^ {2}top-02 +up +lab-west /m);
    term.keys('Tab');
    // stop the real gateway: unreachable (with the reason) after the next remote refresh, and drift on its server
    lab.docker(lab.servers[0]!, ['stop', '-t', '1', 'oc-top-real']);
    s = clean(await term.waitFor(/^[> ] oc-top-real +unreachable .*ECONNREFUSED/m, 60000));
    await waitScreen(term, /drift 1/);
    // the server's detail: servers show, and the drift the last check found there
    term.keys('Tab');
    await waitScreen(term, /^> top-01 +up /m);
    term.keys('Enter');
    s = await waitScreen(term, /^server top-01 {3}\(arrows/m);
    expect(s).toMatch(/^drift \(last remote refresh\):\n {2}stopped_container {2}oc-top-real {2}oc-top-real {2}container is exited$/m);
    expect(s).toMatch(/^name +top-01$/m);
    term.keys('Escape');
    // (a key right behind Esc would read as Alt+key: wait for the list first)
    await waitScreen(term, /^> top-01 +up /m);
    term.keys('Tab');
    await waitScreen(term, /^\[Instances 2\]/m);
    s = await waitScreen(term, /instances 2 alive: 1 healthy, 1 unhealthy, 0 unknown/);
    if (process.env.SAYCLAW_TOP_SCREENSHOT_LAB) writeFileSync(process.env.SAYCLAW_TOP_SCREENSHOT_LAB, `${clean(term.visible())}\n`);
    // the stand-in too; h probes it now: the status line says what the probe found
    lab.docker(lab.servers[1]!, ['stop', '-t', '1', 'oc-top-bb']);
    term.type('/oc-top-bb', false);
    term.keys('Enter');
    await waitScreen(term, /^> oc-top-bb /m);
    term.type('h', false);
    await waitScreen(term, /^oc-top-bb: unreachable \(healthz: ECONNREFUSED\)/m);
    await waitScreen(term, /^> oc-top-bb +unreachable /m);
    // r: type the id; the CLI's restart runs and is audited; the next refresh finds it healthy
    term.type('r', false);
    await waitScreen(term, /^Type the id "oc-top-bb" to restart it: _/m);
    term.type('oc-top-bb', false);
    term.keys('Enter');
    s = clean(await term.waitFor(/^restarted oc-top-bb \(container oc-top-bb running\); audited/m, 60000));
    s = clean(await term.waitFor(/^> oc-top-bb +healthy /m, 60000));
    const audit = await tl.db.selectFrom('admin.admin_logs').select(['action', 'target_id', 'reason']).where('action', '=', 'instances.restart').execute();
    expect(audit).toEqual([{ action: 'instances.restart', target_id: 'oc-top-bb', reason: 'restarted from sayclaw top' }]);
    // every refresh and the restart went over the one connection each server got
    expect(lab.handshakes(lab.servers[0]!)).toBe(1);
    expect(lab.handshakes(lab.servers[1]!)).toBe(1);
    // server 2's sshd goes away with its sessions: down with the reason; back, it is reconnected (once)
    const s2 = lab.servers[1]!;
    const sshdPid = s2.proc.pid!;
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(sshdPid)], { encoding: 'utf8' }).split('\n').map((x) => Number(x.trim())).filter(Boolean);
    s2.proc.kill('SIGTERM');
    for (const c of children) { try { process.kill(c, 'SIGTERM'); } catch { /* gone */ } }
    s = clean(await term.waitFor(/servers 2: 1 up, 1 down/, 60000));
    term.keys('Tab');
    s = await waitScreen(term, /^ {2}top-02 +down .*ssh: /m);
    s2.proc = spawn('/usr/sbin/sshd', ['-D', '-f', join(s2.dir, 'sshd_config'), '-E', s2.sshdLog], { stdio: 'ignore' });
    s = clean(await term.waitFor(/servers 2: 2 up, 0 down/, 90000));
    expect(s).toMatch(/^ {2}top-02 +up /m);
    expect(lab.handshakes(s2)).toBe(2);
    expect(lab.handshakes(lab.servers[0]!)).toBe(1);
    term.type('q', false);
    expect(await run.exit()).toBe(0);
    await expectRestored(term);
  }, 600000);
});
