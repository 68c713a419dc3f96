// sayclaw top's pure parts: the snapshot assembly (header counts, remote facts over recorded
// ones), the filter (a plain JavaScript oracle, generated rows), the column layout (never wider
// than the terminal, the id always kept, columns dropped by priority) and the reconnect backoff.
import fc from 'fast-check';
import { assembleSnapshot, emptyRemote, type DbPart, type TopInstanceRow } from '../../src/fleet/top/snapshot.js';
import { matchesInstance, layout, INSTANCE_SORTS } from '../../src/tui/top.js';
import { backoffMs, BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '../../src/fleet/top/remote.js';
import { width } from '../../src/tui/terminal.js';

const now = new Date('2026-12-01T12:00:00Z');
function dbPart(): DbPart {
  const inst = (id: string, health: string, server: string | null) => ({
    id, server_name: server, region: 'jp-2', assigned_email: null, model: 'gpt-4o', health_status: health, gateway_port: 1, total_requests: '0', total_tokens: '0',
    last_health_at: null, container_id: null, gateway_url: null, gateway_token: 'gwt_secret', server_id: server, assigned_user_id: null, created_at: now, deleted_at: null,
  });
  const srv = (id: string) => ({ id, name: id, ip: '127.0.0.1', region: 'jp-2', provider: null, cpu_cores: null, memory_gb: null, disk_gb: null, status: 'active',
    ssh_user: null, ssh_port: 22, docker_port: 2376, notes: null, created_at: now, deleted_at: null, ssh_key_path: 'k', alive_instances: 2 });
  return {
    at: now, zone: 'UTC', servers: [srv('s1'), srv('s2')],
    instances: [inst('oc-1', 'healthy', 's1'), inst('oc-2', 'unhealthy', 's1'), inst('oc-3', 'unknown', 's2'), inst('oc-4', 'healthy', 's2')],
    usage: new Map([['oc-1', { requests: '3', tokens: '300' }]]),
    usage_total: { requests: '3', prompt_tokens: '200', completion_tokens: '100', tokens: '300', quota: '400', cost_usd: '0.000800' },
    over_quota: [], jobs: [], errors: ['quota: boom'],
  };
}

test('assembleSnapshot: recorded health until top probes; servers unknown until checked; errors kept', () => {
  const d = dbPart();
  let s = assembleSnapshot(d, emptyRemote(), ['remote: x']);
  expect(s.header.instances).toEqual({ alive: 4, healthy: 2, unhealthy: 1, unknown: 1 });
  expect(s.header.servers).toEqual({ total: 2, up: 0, down: 0, unknown: 2 });
  expect(s.header.errors).toEqual(['quota: boom', 'remote: x']);
  expect(s.instances.map((i) => [i.id, i.requests_today, i.tokens_today])).toEqual([['oc-1', '3', '300'], ['oc-2', '0', '0'], ['oc-3', '0', '0'], ['oc-4', '0', '0']]);
  const r = emptyRemote();
  const check = (name: string, up: boolean) => ({ server_name: name, ip: null, status: up ? 'ok' as const : 'failed' as const, ssh_ms: up ? 12 : null, docker_version: up ? '24.0' : null,
    containers_running: null, containers_total: null, disk_free_gb: null, disk_used_pct: null, mem_free_mb: null, mem_total_mb: null, drift: up ? 1 : 0, docker_via: up ? 'streamlocal' as const : null, error: up ? null : 'ssh: refused' });
  r.servers.set('s1', { check: check('s1', true), at: now, failures: 0, retry_at: null });
  r.servers.set('s2', { check: check('s2', false), at: now, failures: 1, retry_at: now });
  r.drift = [{ server_name: 's1', kind: 'stopped_container', instance_id: 'oc-4', container: 'oc-4', state: 'exited', detail: 'container is exited' },
    { server_name: 'gone', kind: 'unknown_container', instance_id: null, container: 'x', state: 'running', detail: '' }];
  r.health.set('oc-4', { id: 'oc-4', server_name: 's2', via: 'http', url: null, state: 'unreachable', status: 'unhealthy', live: null, ready: null, reason: 'healthz: ECONNREFUSED',
    http_status: null, latency_ms: null, token_sent: false, previous_status: 'healthy', fail_count: 0, at: now });
  s = assembleSnapshot(d, r);
  expect(s.header.servers).toEqual({ total: 2, up: 1, down: 1, unknown: 0 });
  expect(s.header.instances).toEqual({ alive: 4, healthy: 1, unhealthy: 2, unknown: 1 });
  // drift only of the servers shown
  expect(s.header.drift).toBe(1);
  expect(s.instances.find((i) => i.id === 'oc-4')).toMatchObject({ health: 'unreachable', reason: 'healthz: ECONNREFUSED', probed_by: 'top' });
  expect(JSON.stringify(s)).not.toContain('gwt_secret');
});

const row = (id: string, user: string | null, server: string | null): TopInstanceRow => ({
  id, server_name: server, region: null, user, model: null, health: 'healthy', reason: null, last_probe: null, probed_by: 'recorded', requests_today: '0', tokens_today: '0' });

test('the filter is a case-insensitive part of id, user or server (property, against an oracle)', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'B', '-', '1', '.', '@', '%', '_', '李') , maxLength: 8 });
  fc.assert(fc.property(text, fc.option(text), fc.option(text), text, (id, user, server, f) => {
    const r = row(id, user, server);
    const oracle = f === '' || [id, user ?? '', server ?? ''].some((v) => v.toLowerCase().indexOf(f.toLowerCase()) !== -1);
    expect(matchesInstance(r, f)).toBe(oracle);
  }), { numRuns: 2000 });
});

test('layout: never wider than the terminal, the id always there, low-priority columns dropped first', () => {
  const cols = [
    { header: 'ID', get: (r: TopInstanceRow) => r.id, min: 8, max: 28, prio: 0 },
    { header: 'USER', get: (r: TopInstanceRow) => r.user ?? '-', min: 6, max: 26, prio: 2 },
    { header: 'SERVER', get: (r: TopInstanceRow) => r.server_name ?? '-', min: 6, max: 16, prio: 1 },
    { header: 'REASON', get: (r: TopInstanceRow) => r.reason ?? '', min: 6, max: 60, prio: 3 },
  ];
  fc.assert(fc.property(fc.integer({ min: 20, max: 240 }), fc.array(fc.tuple(fc.string({ maxLength: 40 }), fc.option(fc.string({ maxLength: 40 }))), { maxLength: 20 }), (w, specs) => {
    const rows = specs.map(([id, u]) => row(id, u, 'jp-2-srv-01'));
    const lay = layout(cols, rows, w, now);
    expect(lay[0]!.col.header).toBe('ID');
    expect(2 + lay.reduce((a, x) => a + x.w, 0) + 2 * (lay.length - 1)).toBeLessThanOrEqual(w);
    const kept = new Set(lay.map((x) => x.col.prio));
    for (const p of kept) for (let q = 0; q < p; q++) expect(kept.has(q)).toBe(true);
  }), { numRuns: 500 });
  expect(width('李娜')).toBe(4);
});

test('sorts: by health puts the unhealthy first; by requests the busiest', () => {
  const rows = [{ ...row('b', null, null), health: 'healthy', requests_today: '5' }, { ...row('a', null, null), health: 'unreachable', requests_today: '10' },
    { ...row('c', null, null), health: 'unknown', requests_today: '9007199254740993' }];
  const by = (name: string) => [...rows].sort(INSTANCE_SORTS.find(([n]) => n === name)![1]).map((r) => r.id);
  expect(by('id')).toEqual(['a', 'b', 'c']);
  expect(by('health')).toEqual(['a', 'c', 'b']);
  expect(by('requests')).toEqual(['c', 'a', 'b']);
});

test('reconnect backoff doubles per failure up to the cap', () => {
  expect([0, 1, 2, 3, 4].map(backoffMs)).toEqual([0, BACKOFF_BASE_MS, 2 * BACKOFF_BASE_MS, 4 * BACKOFF_BASE_MS, 8 * BACKOFF_BASE_MS]);
  expect(backoffMs(40)).toBe(BACKOFF_MAX_MS);
});
