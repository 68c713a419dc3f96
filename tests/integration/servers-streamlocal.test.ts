// Docker over SSH without a remote process: the engine's unix socket through OpenSSH's
// direct-streamlocal channel on the pooled connection, and docker system dial-stdio only where
// the sshd refuses that. Against the real lab: four sshd (LogLevel DEBUG1, so their logs show
// every streamlocal channel and every exec session), two dockerd. sl-02 has DisableForwarding,
// sl-03 AllowStreamLocalForwarding no, sl-04 a SetEnv of its own (sshd keeps the first SetEnv
// line, so the lab's DOCKER_HOST is not set there).
import { readFileSync, statSync } from 'node:fs';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, type Lab, type LabServer } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
const EXTRA: string[][] = [[], ['DisableForwarding yes'], ['AllowStreamLocalForwarding no'], ['SetEnv SAYCLAW_LAB_NO_DOCKER_HOST=1']];

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }),
    startLab({ servers: 4, engines: 2, namePrefix: 'sl', sshdConfig: (i) => ['LogLevel DEBUG1', ...EXTRA[i]!] })]);
  const ids = await lab.register(t.db);
  // two instances on sl-01 and two on sl-02 (engines 0 and 1)
  const rows = [];
  for (const [i, id] of ['oc-sl-01', 'oc-sl-02', 'oc-slf-01', 'oc-slf-02'].entries()) {
    const s = i < 2 ? 0 : 1;
    const port = await lab.freePort();
    lab.runGateway(lab.servers[s]!, id, port);
    rows.push({ id, server_id: ids[s]!, name: id, gateway_port: port, gateway_url: `http://127.0.0.1:${port}`, gateway_token: 'gwt_0123456789abcdef', model: 'gpt-4o', health_status: 'unknown' });
  }
  await t.db.insertInto('admin.oc_instances').values(rows).execute();
}, 120000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 60000);

const byName = (n: string) => lab.servers.find((s) => s.name === n)!;
/** What the server's sshd logged from now on. */
function logFrom(s: LabServer): () => string {
  const at = statSync(s.sshdLog).size;
  return () => readFileSync(s.sshdLog).subarray(at).toString('utf8');
}
// (sshd -E ends its lines with \r\n)
const count = (text: string, re: RegExp) => text.split(/\r?\n/).filter((l) => re.test(l)).length;
const SESSION = /Starting session: command/;
const streamlocalTo = (sock: string) => new RegExp(`server_request_direct_streamlocal: .*target ${sock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
const REFUSED = /refused streamlocal port forward/;
type Check = { server_name: string; status: string; docker_via: string | null; docker_version: string | null; error: string | null; mem_free_mb: number | null; disk_free_gb: string | null; containers_total: number | null };
const checks = (stdout: string): Record<string, Check> => Object.fromEntries((JSON.parse(stdout).servers as Check[]).map((c) => [c.server_name, c]));

test('check reaches the engine over direct-streamlocal: the facts shell is the only session, no docker CLI', async () => {
  const s = byName('sl-01');
  const log = logFrom(s);
  const r = await t.run(['--debug', 'servers', 'check', 'sl-01', '-o', 'json']);
  expect(r.code).toBe(0);
  const c = checks(r.stdout)['sl-01']!;
  expect(c).toMatchObject({ status: 'ok', docker_via: 'streamlocal', containers_total: 2, error: null });
  expect(c.docker_version).toMatch(/^\d+\.\d+/);
  expect(c.mem_free_mb).toBeGreaterThan(0);
  expect(c.disk_free_gb).not.toBeNull();
  expect(r.stderr).toContain(`debug: sl-01: Docker API over direct-streamlocal to ${s.engine.sock}: socket from the session's DOCKER_HOST`);
  const text = log();
  // one exec (df and /proc/meminfo, which also printed DOCKER_HOST); the API call took a
  // streamlocal channel to that engine's socket: no remote shell or docker process for it
  expect(count(text, SESSION)).toBe(1);
  expect(count(text, streamlocalTo(s.engine.sock))).toBeGreaterThanOrEqual(1);
  expect(count(text, REFUSED)).toBe(0);
  expect(lab.handshakes(s)).toBe(1);
});

test('other verbs: one printf learns DOCKER_HOST; with docker.socket set, no remote process at all', async () => {
  const s = byName('sl-01');
  let log = logFrom(s);
  let r = await t.run(['instances', 'logs', 'oc-sl-01']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/gateway .* listening on 127\.0\.0\.1:\d+/);
  let text = log();
  expect(count(text, SESSION)).toBe(1);
  expect(count(text, streamlocalTo(s.engine.sock))).toBeGreaterThanOrEqual(1);

  log = logFrom(s);
  r = await t.run(['--debug', '--set', `docker.socket=${s.engine.sock}`, 'instances', 'restart', 'oc-sl-01', 'oc-sl-02', '--yes', '--time', '0', '--reason', 'streamlocal test']);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`Docker API over direct-streamlocal to ${s.engine.sock}: socket from docker.socket`);
  text = log();
  expect(count(text, SESSION)).toBe(0);
  expect(count(text, streamlocalTo(s.engine.sock))).toBeGreaterThanOrEqual(2);
  expect(lab.docker(s, ['inspect', '-f', '{{.State.Running}}', 'oc-sl-02'])).toBe('true');
});

test('where the sshd refuses streamlocal: dial-stdio, decided once per run and said with --debug', async () => {
  const s2 = byName('sl-02');
  const s3 = byName('sl-03');
  const log2 = logFrom(s2);
  const log3 = logFrom(s3);
  const r = await t.run(['--debug', 'servers', 'check', 'sl-02', 'sl-03', '-o', 'json']);
  // sl-03 shares sl-01's engine: its containers are drift there (exit 3), and were listed
  expect(r.code).toBe(3);
  const c = checks(r.stdout);
  expect(c['sl-02']).toMatchObject({ status: 'ok', docker_via: 'dial-stdio', containers_total: 2, error: null });
  expect(c['sl-03']).toMatchObject({ status: 'drift', docker_via: 'dial-stdio', containers_total: 2, error: null });
  for (const s of [s2, s3]) {
    expect(r.stderr).toContain(`debug: ${s.name}: Docker API over docker system dial-stdio: the sshd refused direct-streamlocal to ${s.engine.sock} (socket from the session's DOCKER_HOST): open failed`);
  }
  expect(count(log2(), REFUSED)).toBe(1);
  expect(count(log3(), REFUSED)).toBe(1);

  // a verb with several Docker calls on that server (inspect and restart of two containers, in
  // parallel): the sshd is asked once, not per request
  const log = logFrom(s2);
  const rr = await t.run(['--debug', 'instances', 'restart', 'oc-slf-01', 'oc-slf-02', '--yes', '--time', '0', '--reason', 'fallback test']);
  expect(rr.code).toBe(0);
  expect(count(rr.stderr, /Docker API over docker system dial-stdio/)).toBe(1);
  const text = log();
  expect(count(text, REFUSED)).toBe(1);
  // the learning printf plus the dial-stdio channels
  expect(count(text, SESSION)).toBeGreaterThanOrEqual(2);
});

test('a socket that does not exist: one line for that server naming it and the fix, exit 3, the others fine', async () => {
  const r = await t.run(['--set', 'docker.sockets.sl-01=/nonexistent/docker.sock', 'servers', 'check', 'sl-01', 'sl-02', '-o', 'json']);
  expect(r.code).toBe(3);
  const c = checks(r.stdout);
  expect(c['sl-02']!.status).toBe('ok');
  expect(c['sl-01']).toMatchObject({ status: 'failed', docker_version: null });
  const err = c['sl-01']!.error!;
  expect(err).not.toContain('\n');
  expect(err).toMatch(/^docker: cannot reach the Docker engine socket \/nonexistent\/docker\.sock on sl-01 \(direct-streamlocal: open failed; docker system dial-stdio: .*\/nonexistent\/docker\.sock.*\); start dockerd there, or set docker\.socket \(docker\.sockets\.sl-01 for this server alone\) to the engine's socket$/);
  // a verb on one instance: the same line as its error, the exit code of a Docker failure
  const l = await t.run(['--set', 'docker.socket=/nonexistent/docker.sock', 'instances', 'logs', 'oc-sl-01']);
  expect(l.code).toBe(1);
  expect(l.stderr).toMatch(/^error: docker: cannot reach the Docker engine socket \/nonexistent\/docker\.sock on sl-01 \(.*\); start dockerd there, or set docker\.socket .*\n$/);
});

test('DOCKER_HOST not set on the server: the default /var/run/docker.sock', async () => {
  const r = await t.run(['--debug', 'servers', 'check', 'sl-04', '-o', 'json']);
  // whether this machine runs an engine there is not the lab's business: the socket tried is
  expect(r.stderr).toMatch(/debug: sl-04: Docker API over .*\/var\/run\/docker\.sock.*the default; DOCKER_HOST is not set there/);
  const c = checks(r.stdout)['sl-04']!;
  if (c.status === 'failed') expect(c.error).toContain('/var/run/docker.sock');
});

test('docker.sshChannel=dial-stdio: always the docker CLI, on the configured socket when there is one', async () => {
  const s = byName('sl-01');
  const log = logFrom(s);
  const r = await t.run(['--debug', '--set', 'docker.sshChannel=dial-stdio', 'servers', 'check', 'sl-01', '-o', 'json']);
  expect(r.code).toBe(0);
  expect(checks(r.stdout)['sl-01']).toMatchObject({ status: 'ok', docker_via: 'dial-stdio', containers_total: 2 });
  expect(count(log(), streamlocalTo(s.engine.sock))).toBe(0);
});

test('a socket path that is not absolute is a config error', async () => {
  const r = await t.run(['--set', 'docker.socket=docker.sock', 'servers', 'check', 'sl-01']);
  expect(r.code).toBe(5);
  expect(r.stderr).toMatch(/docker\.socket.*must be an absolute path on the server/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});
