// servers against the real lab: three sshd + three dockerd on loopback, registered in this
// file's databases. Registry verbs, check with drift, exec fan-out, inventory via the real
// ansible-inventory, host-key policy, and the faults (server down, engine stopped, Ctrl-C).
import { execFileSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { startLab, LAB_USER, type Lab } from '../support/lab.js';

let t: TestEnv;
let lab: Lab;
const ports: Record<string, number> = {};

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 3 })]);
  const ids = await lab.register(t.db);
  const [s1, s2, s3] = lab.servers;
  for (const n of ['oc-lab-01', 'oc-lab-02', 'oc-lab-03', 'oc-lab-04', 'oc-lab-05', 'oc-lab-06']) ports[n] = await lab.freePort();
  const c1 = lab.runGateway(s1!, 'oc-lab-01', ports['oc-lab-01']!);
  const c2 = lab.runGateway(s1!, 'oc-lab-02', ports['oc-lab-02']!, { ready: false });
  const c3 = lab.runGateway(s2!, 'oc-lab-03', ports['oc-lab-03']!);
  lab.runGateway(s2!, 'oc-stray-09', await lab.freePort());
  const c5 = lab.runGateway(s3!, 'oc-lab-05', ports['oc-lab-05']!);
  const c6 = lab.runGateway(s3!, 'oc-lab-06', ports['oc-lab-06']!);
  const inst = (id: string, server: string, container: string | null, deleted = false) => ({
    id, server_id: server, container_id: container ? container.slice(0, 12) : null, name: id, gateway_port: ports[id]!,
    gateway_url: `http://127.0.0.1:${ports[id]}`, gateway_token: 'gwt_secret_value_123456', model: 'gpt-4o',
    deleted_at: deleted ? new Date('2026-11-01T00:00:00Z') : null,
  });
  await t.db.insertInto('admin.oc_instances').values([
    inst('oc-lab-01', ids[0]!, c1), inst('oc-lab-02', ids[0]!, c2), inst('oc-lab-03', ids[1]!, c3),
    inst('oc-lab-04', ids[1]!, null), inst('oc-lab-05', ids[2]!, c5), inst('oc-lab-06', ids[2]!, c6, true),
  ]).execute();
}, 120000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 60000);

describe('registry', () => {
  test('ls shows alive instance counts', async () => {
    const r = await t.run(['servers', 'ls', '-o', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: { name: string }) => x.name)).toEqual(['lab-01', 'lab-02', 'lab-03']);
    expect(rows.map((x: { alive_instances: number }) => x.alive_instances)).toEqual([2, 2, 1]);
  });

  test('add validates the IP and ports; update and rm/restore are audited', async () => {
    let r = await t.run(['servers', 'add', '--name', 'x-01', '--ip', '10.0.0.300']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid IP address "10\.0\.0\.300"/);
    r = await t.run(['servers', 'add', '--name', 'x-01', '--ip', '127.0.0.9', '--ssh-port', '70000']);
    expect(r.code).toBe(2);
    // a dry run checks everything and adds nothing (under -q the plan is stdout)
    r = await t.run(['servers', 'add', '--name', 'x-01', '--ip', '127.0.0.9', '--region', 'lab-east', '--dry-run', '-q']);
    expect(r).toEqual({ code: 0, stdout: 'would add server x-01 (ip=127.0.0.9, region=lab-east)\n', stderr: '' });
    expect((await t.run(['servers', 'add', '--name', 'lab-01', '--ip', '127.0.0.9', '-n'])).stderr).toMatch(/already exists/);
    expect((await t.run(['servers', 'ls', '--all', '-o', 'name'])).stdout).not.toMatch(/x-01/);
    r = await t.run(['servers', 'add', '--name', 'x-01', '--ip', '127.0.0.9', '--region', 'lab-east', '--cpu-cores', '4', '-o', 'json']);
    expect((await t.run(['servers', 'update', 'x-01', '--status', 'maintenance', '--dry-run', '--yes'])).stderr).toBe('would set x-01: status active -> maintenance\ndry run: nothing changed\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'x-01', ip: '127.0.0.9', cpu_cores: 4, status: 'active', alive_instances: 0 });
    r = await t.run(['servers', 'add', '--name', 'x-01', '--ip', '127.0.0.10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
    r = await t.run(['servers', 'update', 'x-01', '--status', 'maintenance', '--reason', 'disk swap']);
    expect(r.code).toBe(0);
    r = await t.run(['servers', 'rm', 'x-01']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing .* without confirmation/);
    r = await t.run(['servers', 'rm', 'x-01', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/dry run/);
    r = await t.run(['servers', 'rm', 'x-01'], { tty: true, answers: ['x-01'] });
    expect(r.code).toBe(0);
    expect((await t.run(['servers', 'ls', '-o', 'name'])).stdout).not.toMatch(/x-01/);
    expect((await t.run(['servers', 'ls', '--deleted', '-o', 'name'])).stdout).toBe('x-01\n');
    r = await t.run(['servers', 'restore', 'x-01', '--yes']);
    expect(r.code).toBe(0);
    const audit = await t.db.selectFrom('admin.admin_logs').select(['action', 'reason']).where('target_type', '=', 'server').orderBy('created_at').execute();
    expect(audit.map((a) => a.action)).toEqual(['servers.add', 'servers.update', 'servers.rm', 'servers.restore']);
    expect(audit[1]!.reason).toBe('disk swap');
    expect((await t.run(['servers', 'rm', 'x-01', '--yes'])).code).toBe(0);
  });

  test('rm refuses a server with alive instances unless --force', async () => {
    const r = await t.run(['servers', 'rm', 'lab-01', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/lab-01 has 2 alive instances/);
  });

  test('show by name with its instances', async () => {
    const r = await t.run(['servers', 'show', 'lab-02']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/oc-lab-03/);
    expect((await t.run(['servers', 'show', 'nope'])).code).toBe(4);
  });
});

describe('remote', () => {
  test('check reports versions, resources and drift (exit 3)', async () => {
    const r = await t.run(['servers', 'check', '--all', '-o', 'json']);
    expect(r.stderr).toMatch(/3 servers: 1 ok, 2 drifted, 0 failed/);
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.servers[0]).toMatchObject({ server_name: 'lab-01', status: 'ok', containers_running: 2 });
    expect(j.servers[0].docker_version).toMatch(/^\d+\./);
    expect(j.servers[0].mem_free_mb).toBeGreaterThan(0);
    const kinds = j.drift.map((d: { server_name: string; kind: string; instance_id: string | null; container: string | null }) => `${d.server_name} ${d.kind} ${d.instance_id ?? d.container}`).sort();
    expect(kinds).toEqual(['lab-02 missing_container oc-lab-04', 'lab-02 unknown_container oc-stray-09', 'lab-03 running_for_deleted oc-lab-06']);
    // one handshake per server for the whole check (exec + docker API calls)
    expect(lab.servers.map((s) => lab.handshakes(s))).toEqual([1, 1, 1]);
  });

  test('check table output', async () => {
    const r = await t.run(['servers', 'check', 'lab-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SERVER\s+STATUS/);
    expect(r.stdout).toMatch(/lab-01\s+ok/);
  });

  test('exec fan-out prefixes lines, summarises and exits 3 when one fails', async () => {
    let r = await t.run(['servers', 'exec', '--all', '--', 'echo hi from $(hostname) && echo $DOCKER_HOST']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lab-01 \| hi from /m);
    expect(r.stdout).toMatch(/^lab-03 \| unix:\/\/.*\/e2\/d\.sock$/m);
    expect(r.stderr).toMatch(/3 servers: 3 ok, 0 failed/);
    r = await t.run(['servers', 'exec', 'lab-01', 'lab-02', '--', 'test', '$(hostname)', '=', 'none', '||', 'exit', '7']);
    expect(r.code).toBe(3);
    r = await t.run(['servers', 'exec', '--region', 'lab-east', '-o', 'json', '--', 'sh -c "echo out; echo err >&2; exit 4"']);
    expect(r.code).toBe(3);
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: { server_name: string }) => x.server_name)).toEqual(['lab-01', 'lab-03']);
    expect(rows[0]).toMatchObject({ exit_code: 4, stdout: 'out\n', stderr: 'err\n', status: 'failed' });
    r = await t.run(['servers', 'exec', '--all', '--group', '--', 'docker ps --format "{{.Names}}" | sort']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/=== lab-02 \(ok, exit 0, \d+ ms\)\noc-lab-03\noc-stray-09\n/);
  });

  test('the SSH connection is TCP_NODELAY (without ssh2\'s native crypto binding each packet is three writes, which Nagle held for the server\'s delayed ACK)', async () => {
    // the binding fails to load whenever it was built for another Node (CI's Node 24 pass) or not
    // at all; each handshake and channel round trip then waited ~40 ms. Node keeps the setting
    // until the socket connects and applies it then (checked with strace: setsockopt TCP_NODELAY
    // on the sshd's socket before connect, on Node 20 and 24).
    const net = await import('node:net');
    const seen: Array<import('node:net').Socket> = [];
    const orig = net.Socket.prototype.setNoDelay;
    const spy = jest.spyOn(net.Socket.prototype, 'setNoDelay').mockImplementation(function (this: import('node:net').Socket, on?: boolean) {
      if (on !== false) seen.push(this);
      return orig.call(this, on);
    });
    try {
      const r = await t.run(['servers', 'exec', 'lab-01', '--', 'true']);
      expect(r.code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(seen.map((s) => s.remotePort)).toContain(lab.servers[0]!.sshPort);
  });

  test('exec --timeout stops a slow command on that server only', async () => {
    const t0 = Date.now();
    const r = await t.run(['servers', 'exec', '--all', '--timeout', '0.8', '--', 'if [ "$(echo $DOCKER_HOST | grep -c e1/)" = 1 ]; then sleep 5; fi; echo done']);
    expect(r.code).toBe(3);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.stdout).toMatch(/^lab-01\s+\| done$/m);
    expect(r.stderr).toMatch(/lab-02 ! timeout: command timed out after 800 ms/);
    expect(r.stderr).toMatch(/3 servers: 2 ok, 1 failed; no exit code: lab-02 \(timeout\)/);
  });

  test('inventory works with the real ansible-inventory', async () => {
    const script = join(t.tmp, 'inventory.sh');
    const envLines = Object.entries(t.env).map(([k, v]) => `export ${k}='${v}'`).join('\n');
    const { BIN } = await import('../support/bin.js');
    writeFileSync(script, `#!/bin/sh\n${envLines}\nexec ${process.execPath} ${BIN} servers inventory "$@"\n`, { mode: 0o755 });
    const out = execFileSync('ansible-inventory', ['-i', script, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_LOCAL_TEMP: t.tmp, HOME: t.tmp } });
    const inv = JSON.parse(out);
    expect(inv.region_lab_east.hosts.sort()).toEqual(['lab-01', 'lab-03']);
    expect(inv._meta.hostvars['lab-02']).toMatchObject({ ansible_host: '127.0.0.1', ansible_port: lab.servers[1]!.sshPort, ansible_user: LAB_USER, ansible_ssh_private_key_file: lab.clientKey });
    const host = execFileSync('ansible-inventory', ['-i', script, '--host', 'lab-01'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_LOCAL_TEMP: t.tmp, HOME: t.tmp } });
    expect(JSON.parse(host)).toMatchObject({ ansible_port: lab.servers[0]!.sshPort });
  });
});
