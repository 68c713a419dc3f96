// Pure parts of the servers work: drift rules, known-hosts file, fingerprints, shell quoting,
// --since parsing, the Ansible inventory shape, server input validation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeDrift } from '../../src/fleet/servers/check.js';
import { KnownHosts, fingerprintOf, hostPattern } from '../../src/remote/ssh.js';
import { shellJoin } from '../../src/fleet/servers/exec.js';
import { dockerHostIn, engineVersionOf } from '../../src/remote/docker.js';
import { parseSince } from '../../src/fleet/instances/containers.js';
import { buildInventory, groupName } from '../../src/fleet/servers/inventory.js';
import { validateServerInput, type ServerRow } from '../../src/fleet/servers/registry.js';
import { Semaphore } from '../../src/remote/semaphore.js';
import { tempDir } from '../support/tmp.js';

test('drift: missing, stopped, running for deleted, unknown; matched by container_id prefix or name', () => {
  const rows = [
    { id: 'oc-a-01', container_id: 'abcdef012345', deleted_at: null },
    { id: 'oc-a-02', container_id: null, deleted_at: null },
    { id: 'oc-a-03', container_id: null, deleted_at: null },
    { id: 'oc-a-04', container_id: null, deleted_at: new Date() },
    { id: 'oc-a-05', container_id: null, deleted_at: new Date() },
  ];
  const containers = [
    { id: 'abcdef012345ffff', name: 'renamed', state: 'running' },
    { id: 'b1', name: 'oc-a-03', state: 'exited' },
    { id: 'b2', name: 'oc-a-04', state: 'running' },
    { id: 'b3', name: 'oc-a-05', state: 'exited' },
    { id: 'b4', name: 'oc-zz-9', state: 'running' },
    { id: 'b5', name: 'prometheus', state: 'running' },
  ];
  const d = computeDrift('s1', rows, containers, /^oc-/, new Set()).map((x) => `${x.kind}:${x.instance_id ?? x.container}`);
  expect(d.sort()).toEqual(['missing_container:oc-a-02', 'running_for_deleted:oc-a-04', 'stopped_container:oc-a-03', 'unknown_container:oc-zz-9']);
});

test('known hosts: unknown, known, changed; written in OpenSSH format', () => {
  const f = join(tempDir('kh'), 'sub', 'known_hosts');
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 4]), Buffer.from('abcd')]);
  const other = Buffer.concat([blob.subarray(0, 19), Buffer.from('wxyz')]);
  const kh = new KnownHosts(f);
  expect(kh.check(hostPattern('127.0.0.1', 2201), blob)).toBe('unknown');
  kh.add(hostPattern('127.0.0.1', 2201), blob);
  expect(readFileSync(f, 'utf8')).toBe(`[127.0.0.1]:2201 ssh-ed25519 ${blob.toString('base64')}\n`);
  const again = new KnownHosts(f);
  expect(again.check('[127.0.0.1]:2201', blob)).toBe('known');
  expect(again.check('[127.0.0.1]:2201', other)).toBe('changed');
  expect(hostPattern('10.0.0.1', 22)).toBe('10.0.0.1');
  expect(fingerprintOf(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('shellJoin keeps one argument as typed and quotes several', () => {
  expect(shellJoin(['echo $HOME && ls'])).toBe('echo $HOME && ls');
  expect(shellJoin(['echo', "it's", 'a b', '-n'])).toBe("echo 'it'\\''s' 'a b' -n");
});

test('parseSince', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  expect(parseSince('10m', now)).toBe(Date.parse('2026-11-24T11:50:00Z') / 1000);
  expect(parseSince('1700000000', now)).toBe(1700000000);
  expect(parseSince('2026-11-24T00:00:00Z', now)).toBe(Date.parse('2026-11-24T00:00:00Z') / 1000);
  expect(() => parseSince('yesterday', now)).toThrow(/--since/);
});

test('inventory groups by region, provider and status with ssh hostvars; config overrides the row', () => {
  const s = (name: string, region: string, provider: string): ServerRow => ({
    id: `id-${name}`, name, ip: '127.0.0.1', region, provider, cpu_cores: 1, memory_gb: 1, disk_gb: 1, status: 'active', ssh_user: 'root',
    ssh_port: 2222, docker_port: 2376, notes: null, created_at: new Date(), deleted_at: null, ssh_key_path: '~/.ssh/k',
  });
  const cfg = { ssh: { user: null, keyPath: null } } as never;
  const inv = buildInventory([s('a', 'jp-2', 'gcp'), s('b', 'us-west-1', 'aws')], cfg, '/home/op');
  expect(inv.region_jp_2).toEqual({ hosts: ['a'] });
  expect(inv.provider_aws).toEqual({ hosts: ['b'] });
  expect(inv._meta.hostvars.a).toMatchObject({ ansible_host: '127.0.0.1', ansible_port: 2222, ansible_user: 'root', ansible_ssh_private_key_file: '/home/op/.ssh/k' });
  const inv2 = buildInventory([s('a', 'jp-2', 'gcp')], { ssh: { user: 'deploy', keyPath: '/k' } } as never, '/h');
  expect(inv2._meta.hostvars.a).toMatchObject({ ansible_user: 'deploy', ansible_ssh_private_key_file: '/k' });
  expect(groupName('region', 'Asia East.1')).toBe('region_asia_east_1');
});

test('server input validation', () => {
  expect(() => validateServerInput({ name: 'a', ip: '::1' }, true)).not.toThrow();
  expect(() => validateServerInput({ name: 'a', ip: '1.2.3' }, true)).toThrow(/invalid IP/);
  expect(() => validateServerInput({ ssh_port: 0 }, false)).toThrow(/ssh_port/);
  expect(() => validateServerInput({ status: 'weird' }, false)).toThrow(/status/);
  expect(() => validateServerInput({ ip: '10.0.0.1' }, true)).toThrow(/--name/);
});

test('semaphore bounds concurrency and lets waiters leave on abort', async () => {
  const sem = new Semaphore(2);
  let active = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 10 }, async () => {
    const rel = await sem.acquire();
    active++; peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    active--; rel();
  }));
  expect(peak).toBe(2);
  const r1 = await sem.acquire();
  const r2 = await sem.acquire();
  const ac = new AbortController();
  const waiting = sem.acquire(ac.signal);
  ac.abort();
  await expect(waiting).rejects.toThrow(/interrupted/);
  r1(); r2();
});

test('DOCKER_HOST line of the facts shell and the engine version from its Server header', () => {
  expect(dockerHostIn('DOCKER_HOST=unix:///run/user/1000/docker.sock\n')).toBe('unix:///run/user/1000/docker.sock');
  expect(dockerHostIn('DOCKER_HOST=\r\nMemTotal: 1\n')).toBe('');
  expect(dockerHostIn('DOCKER_HOST=tcp://10.0.0.1:2375 \n')).toBe('tcp://10.0.0.1:2375');
  // a login banner first: the line is still found; a line not yet ended is not taken
  expect(dockerHostIn('Welcome to jp-2-srv-01\nDOCKER_HOST=unix:///x.sock\n')).toBe('unix:///x.sock');
  expect(dockerHostIn('DOCKER_HOST=unix:///x.so')).toBeNull();
  expect(dockerHostIn('Welcome to jp-2-srv-01\n')).toBeNull();
  expect(engineVersionOf('Docker/20.10.24+dfsg1 (linux)')).toBe('20.10.24+dfsg1');
  expect(engineVersionOf('Docker/29.1.3 (linux)')).toBe('29.1.3');
  // Podman's compat API and a missing header: no version from there (check asks GET /version)
  expect(engineVersionOf('Libpod/5.2.0 (linux)')).toBeNull();
  expect(engineVersionOf(null)).toBeNull();
});
