// The pure parts of instances upgrade: the create options read from the old container (what the
// operator set is kept, what only came from the old image is not), and batching per server.
import { createOptionsFrom } from '../../src/fleet/instances/container-spec.js';
import { formBatches } from '../../src/fleet/instances/upgrade.js';
import type Dockerode from 'dockerode';

const oldImage = {
  Cmd: ['/usr/local/bin/node', '/app/openclaw.mjs', 'gateway', 'run'], Entrypoint: null, Env: ['PATH=/usr/bin:/bin', 'HOME=/home/node'],
  Labels: { 'org.version': '1' }, User: 'node', WorkingDir: '/home/node', ExposedPorts: { '18789/tcp': {} },
};
function info(over: { Config?: Record<string, unknown>; HostConfig?: Record<string, unknown>; Mounts?: unknown[]; Networks?: Record<string, unknown> } = {}): Dockerode.ContainerInspectInfo {
  return {
    Id: 'abcdef0123456789'.padEnd(64, '0'), Name: '/oc-1', Image: 'sha256:old',
    Config: { Hostname: 'abcdef012345', Image: 'openclaw:1', Cmd: oldImage.Cmd, Entrypoint: null, Env: [...oldImage.Env, 'OPENCLAW_GATEWAY_PORT=19001', 'OPENCLAW_GATEWAY_TOKEN=t'],
      Labels: { 'org.version': '1', team: 'ops' }, User: 'node', WorkingDir: '/home/node', ExposedPorts: { '18789/tcp': {} }, Tty: false, ...over.Config },
    HostConfig: { NetworkMode: 'host', Binds: ['oc-1-state:/home/node/.openclaw'], RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 }, Memory: 1073741824, PortBindings: {}, ...over.HostConfig },
    Mounts: over.Mounts ?? [{ Type: 'volume', Name: 'oc-1-state', Destination: '/home/node/.openclaw', RW: true }],
    NetworkSettings: { Networks: over.Networks ?? { host: {} } },
    State: { Status: 'running', Running: true },
  } as unknown as Dockerode.ContainerInspectInfo;
}

test('keeps the container\'s own settings, drops what it inherited from the old image', () => {
  const o = createOptionsFrom(info(), oldImage, 'openclaw:2', 'oc-1') as Record<string, unknown>;
  expect(o).toEqual({
    name: 'oc-1', Image: 'openclaw:2', Tty: false,
    Env: ['OPENCLAW_GATEWAY_PORT=19001', 'OPENCLAW_GATEWAY_TOKEN=t'], Labels: { team: 'ops' },
    HostConfig: { NetworkMode: 'host', Binds: ['oc-1-state:/home/node/.openclaw'], RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 }, Memory: 1073741824, PortBindings: {} },
  });
});

test('an overridden command, user, workdir or env value is kept; an overridden entrypoint keeps its command', () => {
  let o = createOptionsFrom(info({ Config: { Cmd: ['sh', '-c', 'x'], User: 'root', WorkingDir: '/srv', Env: ['PATH=/opt/bin', 'HOME=/home/node'] } }), oldImage, 'i:2', 'oc-1') as Record<string, unknown>;
  expect(o).toMatchObject({ Cmd: ['sh', '-c', 'x'], User: 'root', WorkingDir: '/srv', Env: ['PATH=/opt/bin'] });
  o = createOptionsFrom(info({ Config: { Entrypoint: ['/bin/tini', '--'] } }), oldImage, 'i:2', 'oc-1') as Record<string, unknown>;
  expect(o).toMatchObject({ Entrypoint: ['/bin/tini', '--'], Cmd: oldImage.Cmd });
  expect(o.Hostname).toBeUndefined();
  o = createOptionsFrom(info({ Config: { Hostname: 'gw-1' } }), oldImage, 'i:2', 'oc-1') as Record<string, unknown>;
  expect(o.Hostname).toBe('gw-1');
});

test('anonymous volumes are bound by name so their data carries over; bind mounts and --mount stay as they are', () => {
  const o = createOptionsFrom(info({
    HostConfig: { Binds: ['/srv/cfg:/cfg:ro'], Mounts: [{ Type: 'volume', Source: 'logs', Target: '/logs' }] },
    Mounts: [{ Type: 'bind', Source: '/srv/cfg', Destination: '/cfg', RW: false }, { Type: 'volume', Name: 'logs', Destination: '/logs', RW: true },
      { Type: 'volume', Name: '3f9e0c', Destination: '/data', RW: true }, { Type: 'volume', Name: '77aa', Destination: '/ro', RW: false }],
  }), oldImage, 'i:2', 'oc-1') as { HostConfig: { Binds: string[]; Mounts: unknown[] } };
  expect(o.HostConfig.Binds).toEqual(['/srv/cfg:/cfg:ro', '3f9e0c:/data', '77aa:/ro:ro']);
  expect(o.HostConfig.Mounts).toEqual([{ Type: 'volume', Source: 'logs', Target: '/logs' }]);
});

test('a user-defined network keeps its aliases (not the old container id) and static address', () => {
  const o = createOptionsFrom(info({ HostConfig: { NetworkMode: 'fleet' }, Networks: { fleet: { Aliases: ['abcdef012345', 'gw'], IPAMConfig: { IPv4Address: '10.9.0.5' } } } }), oldImage, 'i:2', 'oc-1') as Record<string, unknown>;
  expect(o.NetworkingConfig).toEqual({ EndpointsConfig: { fleet: { Aliases: ['gw'], IPAMConfig: { IPv4Address: '10.9.0.5' } } } });
});

test('batches: in id order, at most perServer of one server per batch', () => {
  const it = (id: string, server: string) => ({ id, server });
  const items = [it('a', 's1'), it('b', 's1'), it('c', 's2'), it('d', 's1'), it('e', 's3')];
  const ids = (bs: Array<Array<{ id: string }>>) => bs.map((b) => b.map((x) => x.id).join(''));
  expect(ids(formBatches(items, 2, 1))).toEqual(['ac', 'be', 'd']);
  expect(ids(formBatches(items, 1, 1))).toEqual(['a', 'b', 'c', 'd', 'e']);
  expect(ids(formBatches(items, 3, 2))).toEqual(['abc', 'de']);
  expect(ids(formBatches(items, 10, 1))).toEqual(['ace', 'b', 'd']);
  expect(formBatches([], 2, 1)).toEqual([]);
});

test('servers check drift: the ID.prev an upgrade keeps (and ID.prev-old / ID.next in flight) belong to the instance', async () => {
  const { computeDrift } = await import('../../src/fleet/servers/check.js');
  const rows = [{ id: 'oc-1', container_id: null, deleted_at: null }];
  const cs = [{ id: 'c1', name: 'oc-1', state: 'running' }, { id: 'c2', name: 'oc-1.prev', state: 'exited' }, { id: 'c3', name: 'oc-1.next', state: 'exited' },
    { id: 'c4', name: 'oc-2.prev', state: 'exited' }];
  expect(computeDrift('s', rows, cs, /^oc-/, new Set()).map((d) => `${d.kind} ${d.container}`)).toEqual(['unknown_container oc-2.prev']);
});
