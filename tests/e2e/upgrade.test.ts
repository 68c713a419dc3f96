// instances upgrade | rollback against the lab: three real OpenClaw gateways (image build 1 ->
// build 2, same filesystem, another image id) on two servers, busybox stand-ins on a third for
// the settings check and Ctrl-C, and the never-ready image as the failing upgrade. Some runs go
// through the built binary (run `npm run build` first), the rest in-process.
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { REAL_LAB_SETUP_MS, startLab, LAB_IMAGE, LAB_IMAGE_NEVER_READY, OPENCLAW_IMAGE, OPENCLAW_IMAGE_2, type Lab, type LabServer } from '../support/lab.js';
import { runBin } from '../support/bin.js';
import { execFileSync } from 'node:child_process';

import { jest } from '@jest/globals';
// real gateways start in ~15 s on an idle machine, several minutes while other suites load the 2 cores
jest.setTimeout(1_200_000);
const SLOW = '420s';

let t: TestEnv;
let lab: Lab;
const port: Record<string, number> = {};
const token: Record<string, string> = {};
const REAL = ['oc-up-01', 'oc-up-02', 'oc-up-03'];
const STANDIN_2 = 'sayclaw-lab-gateway:2';
let s0: LabServer; let s1: LabServer; let s2: LabServer;
const serverOf = (id: string) => (id === 'oc-up-03' ? s1 : id.startsWith('oc-up-s') ? s2 : s0);

interface Inspect { Id: string; Name: string; Image: string; State: { Status: string; Running: boolean }; Config: { Image: string; Env: string[]; Cmd: string[] | null; Labels: Record<string, string> | null; User: string };
  HostConfig: { Binds: string[] | null; RestartPolicy: { Name: string; MaximumRetryCount: number }; Memory: number; NetworkMode: string }; Mounts: Array<{ Type: string; Name?: string; Destination: string }> }
const inspect = (s: LabServer, ref: string): Inspect => JSON.parse(lab.docker(s, ['inspect', ref]))[0];
const exists = (s: LabServer, ref: string) => { try { lab.docker(s, ['inspect', ref]); return true; } catch { return false; } };
/**
 * Wait (up to 3 minutes) until a container other than oldId runs under `name`, while the verb
 * `run` runs in this process: the docker CLI is called asynchronously so the verb's own event
 * loop is never held up by the poll. False when the verb settled first or the time ran out.
 */
async function newContainerRuns(s: LabServer, name: string, oldId: string, run: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void run.then(() => { settled = true; }, () => { settled = true; });
  for (const end = Date.now() + 180_000; Date.now() < end && !settled;) {
    const cur = await lab.dockerAsync(s, ['inspect', name]).then((x) => (JSON.parse(x) as Inspect[])[0], () => null);
    if (cur && cur.Id !== oldId && cur.State.Running) return true;
    await new Promise((x) => setTimeout(x, 100));
  }
  return false;
}
/** Read a file in a real gateway's container: on a loaded machine the gateway may be restarting
 * (its restart policy) just then, so try a few times. */
async function readIn(s: LabServer, id: string, path: string): Promise<string> {
  for (let i = 0; ; i++) {
    // the gateway image has busybox only as /bin/sh (no cat): read with the shell itself
    try { return lab.docker(s, ['exec', id, 'sh', '-c', `while IFS= read -r l; do echo "$l"; done < ${path}`]); } catch (e) {
      if (i >= 20) throw new Error(`${id}: cannot read ${path} (${lab.docker(s, ['inspect', '-f', '{{.State.Status}} restarts={{.RestartCount}}', id])}): ${(e as Error).message}`);
      await new Promise((x) => setTimeout(x, 3000));
    }
  }
}
const imageId = (s: LabServer, ref: string) => lab.docker(s, ['image', 'inspect', '-f', '{{.Id}}', ref]);

async function readyz(p: number): Promise<{ status: number; ready: unknown }> {
  try {
    const r = await fetch(`http://127.0.0.1:${p}/readyz`);
    const body = await r.json().catch(() => ({})) as { ready?: unknown };
    return { status: r.status, ready: body.ready };
  } catch { return { status: 0, ready: null }; }
}
const logsOf = (s: LabServer, id: string) => execFileSync('sh', ['-c', `docker -H unix://${s.engine.sock} logs --tail 15 ${id} 2>&1`], { encoding: 'utf8' });
/**
 * Test setup only: wait until a gateway the test started is ready. On this shared 2-core machine
 * a real gateway starting under heavy load now and then exits during startup (exit 1); the
 * setup starts it again (at most twice) rather than fail every test of the file.
 */
async function waitReadyz(id: string, ms = 420_000): Promise<void> {
  const until = Date.now() + ms;
  const s = serverOf(id);
  let r = { status: 0, ready: null as unknown };
  let restarts = 0;
  while (Date.now() < until) {
    r = await readyz(port[id]!);
    if (r.status === 200 && r.ready === true) return;
    if (restarts < 2 && lab.docker(s, ['inspect', '-f', '{{.State.Status}}', id]) === 'exited') {
      process.stderr.write(`setup: ${id} exited while starting (load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}), starting it again:\n${logsOf(s, id)}\n`);
      lab.docker(s, ['start', id]);
      restarts++;
    }
    await new Promise((x) => setTimeout(x, 500));
  }
  const st = lab.docker(s, ['inspect', '-f', '{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}', id]);
  throw new Error(`${id} not ready in ${ms} ms (last /readyz ${r.status}; container ${st}; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})\n${logsOf(s, id)}`);
}
const audits = async (action: string) => (await t.db.selectFrom('admin.admin_logs').select(['target_id', 'before_json', 'after_json'])
  .where('action', '=', action).orderBy('created_at').execute()).map((r) => ({ id: r.target_id, before: JSON.parse(r.before_json ?? 'null'), after: JSON.parse(r.after_json ?? 'null') }));

beforeAll(async () => {
  [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 3, namePrefix: 'up', realGateways: 2 })]);
  [s0, s1, s2] = lab.servers as [LabServer, LabServer, LabServer];
  const ids = await lab.register(t.db);
  // real gateways listen on derived ports too (base+2, +4, ...): each gets a block of its own
  for (const id of [...REAL, 'oc-up-s1', 'oc-up-s2', 'oc-up-s3', 'oc-up-s4']) {
    port[id] = (REAL as readonly string[]).includes(id) ? lab.gatewayPort() : await lab.freePort();
    token[id] = `gwt_${crypto.randomUUID().replace(/-/g, '')}`;
  }
  await Promise.all([lab.openclawImage(s0, 2), lab.openclawImage(s1, 2)]);
  const cids: Record<string, string> = {};
  // as lab.runOpenclaw starts them, plus a restart policy as a fleet would have: on a loaded
  // machine a gateway now and then gives up starting (its 5 s state-lease heartbeat timeout) and
  // docker starts it again; the upgrade keeps the policy for the new container. One at a time:
  // three Node gateways starting together on a loaded 2-core machine starve each other
  for (const id of REAL) {
    cids[id] = lab.docker(serverOf(id), ['run', '-d', '--name', id, '--network', 'host', '--restart', 'on-failure:20',
      '-e', `OPENCLAW_GATEWAY_PORT=${port[id]}`, '-e', `OPENCLAW_GATEWAY_TOKEN=${token[id]}`, '-v', `${id}-state:/home/node/.openclaw`, OPENCLAW_IMAGE]);
    await waitReadyz(id);
  }
  // a second ready stand-in image: the same filesystem under another image id
  lab.docker(s2, ['create', '--name', 'tmp-build2', LAB_IMAGE]);
  lab.docker(s2, ['commit', '-c', 'LABEL sayclaw.lab.build=2', 'tmp-build2', STANDIN_2]);
  lab.docker(s2, ['rm', 'tmp-build2']);
  // stand-ins started by hand, with settings of their own (READY comes from the image here)
  lab.docker(s2, ['run', '-d', '--name', 'oc-up-s1', '--network', 'host', '--restart', 'on-failure:3', '--memory', '96m',
    '--label', 'team=ops', '--label', 'sayclaw.instance=oc-up-s1', '-e', `OPENCLAW_GATEWAY_PORT=${port['oc-up-s1']}`, '-e', 'FOO=bar baz',
    '-v', 'oc-up-s1-data:/data', '-v', '/anon', LAB_IMAGE, 'sh', '-c', 'echo custom-command; exec /bin/gateway']);
  lab.docker(s2, ['exec', 'oc-up-s1', 'sh', '-c', 'echo named > /data/keep; echo anon > /anon/keep']);
  for (const id of ['oc-up-s2', 'oc-up-s3', 'oc-up-s4']) lab.docker(s2, ['run', '-d', '--name', id, '--network', 'host', '-e', `OPENCLAW_GATEWAY_PORT=${port[id]}`, LAB_IMAGE]);
  const row = (id: string, srv: string, cid: string | null) => ({ id, server_id: srv, container_id: cid, name: id, gateway_port: port[id]!,
    gateway_url: `http://127.0.0.1:${port[id]}`, gateway_token: token[id]!, model: 'gpt-4o', health_status: 'healthy' });
  await t.db.insertInto('admin.oc_instances').values([
    // oc-up-01 is found by its container_id (which must follow the swap); the others by name
    row('oc-up-01', ids[0]!, cids['oc-up-01']!.slice(0, 12)), row('oc-up-02', ids[0]!, null), row('oc-up-03', ids[1]!, null),
    row('oc-up-s1', ids[2]!, null), row('oc-up-s2', ids[2]!, null), row('oc-up-s3', ids[2]!, null), row('oc-up-s4', ids[2]!, null),
  ]).execute();
  await Promise.all(Object.keys(port).map((id) => waitReadyz(id)));
  for (const id of REAL) lab.docker(serverOf(id), ['exec', id, 'sh', '-c', `echo ${id}-data > /home/node/.openclaw/marker`]);
}, REAL_LAB_SETUP_MS + 1_200_000);
afterAll(async () => { await Promise.all([lab?.close(), t?.close()]); }, 120_000);

test('bad input: one line, exit 2 (4 for an unknown id), nothing changed', async () => {
  const before = REAL.map((id) => inspect(serverOf(id), id).Id);
  const cases: Array<[string[], number, RegExp]> = [
    [['instances', 'upgrade', 'oc-up-01'], 2, /^error: name the new image with --image IMAGE/],
    [['instances', 'upgrade', 'oc-up-01', '--image', OPENCLAW_IMAGE_2, '--batch', '0'], 2, /--batch.*must be between 1 and 1000/],
    [['instances', 'upgrade', 'oc-up-01', '--image', OPENCLAW_IMAGE_2, '--health-timeout', 'soon'], 2, /--health-timeout expects a duration/],
    [['instances', 'upgrade', 'oc-up-01', '--image', OPENCLAW_IMAGE_2, '--via', 'carrier-pigeon'], 2, /--via expects ssh or http/],
    [['instances', 'upgrade', 'oc-up-01', '--prefix', 'oc-up-', '--image', OPENCLAW_IMAGE_2], 2, /ids or --prefix\/filters, not both/],
    [['instances', 'upgrade', 'oc-up-99', '--image', OPENCLAW_IMAGE_2], 4, /no such instance: oc-up-99/],
    [['instances', 'upgrade', 'oc-up-01', '--image', `${OPENCLAW_IMAGE_2}\x1b[2J`], 2, /must not contain spaces or control characters/],
    // no TTY and no --yes
    [['instances', 'upgrade', 'oc-up-01', '--image', OPENCLAW_IMAGE_2], 2, /refusing to upgrade 1 instance without confirmation/],
    [['instances', 'rollback'], 2, /name the instances to roll back/],
  ];
  for (const [argv, code, msg] of cases) {
    const r = await t.run(argv);
    expect({ argv, code: r.code }).toEqual({ argv, code });
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).not.toMatch(/\x1b/);
  }
  expect(REAL.map((id) => inspect(serverOf(id), id).Id)).toEqual(before);
  expect(await audits('instances.upgrade')).toEqual([]);
});

test('dry run (built binary): the plan in batches, one container per server per batch; nothing changed', async () => {
  const before = REAL.map((id) => inspect(serverOf(id), id).Id);
  const r = await runBin(['instances', 'upgrade', '--prefix', 'oc-up-0', '--image', OPENCLAW_IMAGE_2, '--batch', '2', '--dry-run'], { ...t.env });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/will upgrade 3 instances:/);
  // oc-up-01 and -02 share a server: -02 waits for batch 2
  expect(r.stderr).toMatch(new RegExp(`^1\\s+oc-up-01\\s+up-01\\s+${OPENCLAW_IMAGE}\\s+${OPENCLAW_IMAGE_2}\\s+present\\s+-$`, 'm'));
  expect(r.stderr).toMatch(new RegExp(`^1\\s+oc-up-03\\s+up-02\\s+${OPENCLAW_IMAGE}\\s+${OPENCLAW_IMAGE_2}`, 'm'));
  expect(r.stderr).toMatch(new RegExp(`^2\\s+oc-up-02\\s+up-01\\s+${OPENCLAW_IMAGE}`, 'm'));
  expect(r.stderr).toMatch(/dry run: would upgrade 3 instances; nothing changed/);
  expect(REAL.map((id) => inspect(serverOf(id), id).Id)).toEqual(before);
  // --per-server 2 puts both of up-01 into the first batch
  const r2 = await t.run(['instances', 'upgrade', '--prefix', 'oc-up-0', '--image', OPENCLAW_IMAGE_2, '--batch', '3', '--per-server', '2', '-n', '-q', '-o', 'json']);
  expect(JSON.parse(r2.stdout).map((x: { id: string; batch: number }) => `${x.batch} ${x.id}`)).toEqual(['1 oc-up-01', '1 oc-up-02', '1 oc-up-03']);
});

test('stand-in: every setting of the container is kept but the image; the image\'s own defaults follow the new image', async () => {
  const old = inspect(s2, 'oc-up-s1');
  const r = await t.run(['instances', 'upgrade', 'oc-up-s1', '--image', STANDIN_2, '--yes', '--health-timeout', SLOW, '-o', 'json']);
  expect(r.stderr).toBe(r.stderr); // for the failure message below
  expect({ code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ code: 0, stderr: '' });
  const [res] = JSON.parse(r.stdout);
  expect(res).toMatchObject({ id: 'oc-up-s1', result: 'upgraded', from_image: LAB_IMAGE, to_image: STANDIN_2, error: null });
  const now = inspect(s2, 'oc-up-s1');
  expect(now.Id).not.toBe(old.Id);
  expect(now.Image).toBe(imageId(s2, STANDIN_2));
  expect(now.State.Running).toBe(true);
  expect(now.Config.Cmd).toEqual(['sh', '-c', 'echo custom-command; exec /bin/gateway']);
  expect(now.Config.Env).toEqual(expect.arrayContaining([`OPENCLAW_GATEWAY_PORT=${port['oc-up-s1']}`, 'FOO=bar baz']));
  expect(now.Config.Labels).toMatchObject({ team: 'ops', 'sayclaw.instance': 'oc-up-s1', 'sayclaw.lab.build': '2' });
  expect(now.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
  expect(now.HostConfig.Memory).toBe(96 * 1024 * 1024);
  expect(now.HostConfig.NetworkMode).toBe('host');
  expect(now.HostConfig.Binds).toEqual(expect.arrayContaining(['oc-up-s1-data:/data']));
  // the anonymous volume is the same volume, so its data is there
  const anonOld = old.Mounts.find((m) => m.Destination === '/anon')!.Name;
  expect(now.Mounts.find((m) => m.Destination === '/anon')!.Name).toBe(anonOld);
  expect(lab.docker(s2, ['exec', 'oc-up-s1', 'sh', '-c', 'cat /data/keep /anon/keep'])).toBe('named\nanon');
  // the old container is kept, stopped, for rollback
  const prev = inspect(s2, 'oc-up-s1.prev');
  expect(prev.Id).toBe(old.Id);
  expect(prev.State.Running).toBe(false);
  expect((await readyz(port['oc-up-s1']!)).ready).toBe(true);
  const [a] = await audits('instances.upgrade');
  expect(a).toMatchObject({ id: 'oc-up-s1', before: { image: LAB_IMAGE }, after: { image: STANDIN_2, result: 'upgraded', previous_container: 'oc-up-s1.prev' } });
  expect(JSON.stringify(a)).not.toContain(token['oc-up-s1']);
});

test('real gateways in batches of 2 (built binary): ports, token, volume data and the row stay; ID.prev kept; a re-run skips them', async () => {
  const rowsBefore = await t.db.selectFrom('admin.oc_instances').selectAll().where('id', 'in', REAL).orderBy('id').execute();
  const old = Object.fromEntries(REAL.map((id) => [id, inspect(serverOf(id), id)]));
  const r = await runBin(['instances', 'upgrade', '--prefix', 'oc-up-0', '--image', OPENCLAW_IMAGE_2, '--batch', '2', '--max', '3', '--health-timeout', SLOW, '--yes', '-o', 'json', '--reason', 'build 2'], { ...t.env });
  expect({ code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ code: 0, stderr: '' });
  const res = JSON.parse(r.stdout) as Array<{ id: string; batch: number; result: string; container: string }>;
  expect(res.map((x) => `${x.batch} ${x.id} ${x.result}`).sort()).toEqual(['1 oc-up-01 upgraded', '1 oc-up-03 upgraded', '2 oc-up-02 upgraded']);
  expect(r.stderr).toMatch(/batch 1\/2: oc-up-01 oc-up-03/);
  expect(r.stderr).toMatch(/upgraded 3 instances/);
  expect(r.stderr).toMatch(/undo: sayclaw instances rollback oc-up-01 oc-up-02 oc-up-03/);
  for (const id of REAL) {
    const s = serverOf(id);
    const now = inspect(s, id);
    expect(now.Image).toBe(imageId(s, OPENCLAW_IMAGE_2));
    expect(now.Id.slice(0, 12)).toBe(res.find((x) => x.id === id)!.container);
    expect(now.Config.Env).toEqual(expect.arrayContaining([`OPENCLAW_GATEWAY_PORT=${port[id]}`, `OPENCLAW_GATEWAY_TOKEN=${token[id]}`]));
    expect(now.Config.User).toBe('node');
    expect(now.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 20 });
    expect(now.HostConfig.Binds).toEqual([`${id}-state:/home/node/.openclaw`]);
    expect(await readIn(s, id, '/home/node/.openclaw/marker')).toBe(`${id}-data`);
    expect(await readyz(port[id]!)).toEqual({ status: 200, ready: true });
    const prev = inspect(s, `${id}.prev`);
    expect({ id: prev.Id, running: prev.State.Running }).toEqual({ id: old[id]!.Id, running: false });
  }
  // the row: the same but for container_id, which followed the swap where it was set
  const rowsAfter = await t.db.selectFrom('admin.oc_instances').selectAll().where('id', 'in', REAL).orderBy('id').execute();
  expect(rowsAfter[0]!.container_id).toBe(inspect(s0, 'oc-up-01').Id.slice(0, 12));
  expect(rowsAfter.map((x) => ({ ...x, container_id: null }))).toEqual(rowsBefore.map((x) => ({ ...x, container_id: null })));
  const a = (await audits('instances.upgrade')).filter((x) => REAL.includes(x.id));
  expect(a.map((x) => `${x.id} ${x.before.image} -> ${x.after.image} ${x.after.result}`).sort())
    .toEqual(REAL.map((id) => `${id} ${OPENCLAW_IMAGE} -> ${OPENCLAW_IMAGE_2} upgraded`));
  expect(JSON.stringify(a)).not.toMatch(/gwt_/);
  // the instance's timeline shows its upgrade (issue #18: "its upgrades")
  const hist = JSON.parse((await t.run(['instances', 'history', 'oc-up-01', '-o', 'json'])).stdout) as Array<{ event: string; detail: string }>;
  expect(hist.filter((e) => e.event === 'instances.upgrade')).toEqual([expect.objectContaining({ detail: expect.stringContaining(OPENCLAW_IMAGE_2) })]);
  // again: all on the image already
  const again = await t.run(['instances', 'upgrade', '--prefix', 'oc-up-0', '--image', OPENCLAW_IMAGE_2, '--yes']);
  expect(again.code).toBe(0);
  expect(again.stderr).toMatch(/oc-up-01: already on sayclaw-lab-openclaw:2, skipped/);
  expect(again.stderr).toMatch(/nothing to upgrade/);
});

test('rollback: back to the previous container, ready; the replaced one becomes ID.prev; --prune removes it', async () => {
  const cur = inspect(s1, 'oc-up-03');
  const prev = inspect(s1, 'oc-up-03.prev');
  let r = await t.run(['instances', 'rollback', 'oc-up-03', '--dry-run']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`oc-up-03\\s+up-02\\s+${OPENCLAW_IMAGE_2}\\s+${OPENCLAW_IMAGE}\\s+oc-up-03\\.prev`));
  expect(inspect(s1, 'oc-up-03').Id).toBe(cur.Id);
  r = await t.run(['instances', 'rollback', 'oc-up-03', '--health-timeout', SLOW, '-o', 'json'], { tty: true, answers: ['oc-up-03'] });
  expect({ code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(r.stdout)[0]).toMatchObject({ id: 'oc-up-03', result: 'rolled-back', image: OPENCLAW_IMAGE, container: prev.Id.slice(0, 12) });
  const now = inspect(s1, 'oc-up-03');
  expect({ id: now.Id, running: now.State.Running, image: now.Config.Image }).toEqual({ id: prev.Id, running: true, image: OPENCLAW_IMAGE });
  expect(inspect(s1, 'oc-up-03.prev').Id).toBe(cur.Id);
  expect(await readyz(port['oc-up-03']!)).toEqual({ status: 200, ready: true });
  expect(await readIn(s1, 'oc-up-03', '/home/node/.openclaw/marker')).toBe('oc-up-03-data');
  expect((await audits('instances.rollback')).map((x) => `${x.id} ${x.before.image} -> ${x.after.image} ${x.after.result}`))
    .toEqual([`oc-up-03 ${OPENCLAW_IMAGE_2} -> ${OPENCLAW_IMAGE} rolled-back`]);
  // prune: the previous container goes, the instance stays as it is
  r = await t.run(['instances', 'rollback', '--prune', 'oc-up-02', '--yes']);
  expect(r.code).toBe(0);
  expect(exists(s0, 'oc-up-02.prev')).toBe(false);
  expect(inspect(s0, 'oc-up-02').State.Running).toBe(true);
  expect((await audits('instances.prune')).map((x) => x.id)).toEqual(['oc-up-02']);
  // nothing left to roll back to: skipped, exit 3
  r = await t.run(['instances', 'rollback', 'oc-up-02', '--yes']);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/oc-up-02: no previous container oc-up-02\.prev on up-01 \(pruned, or never upgraded\), skipped/);
});

// Only stand-ins from here: the real-gateway lock goes back, so another file's real gateways
// start while these wait out their readiness and stop timeouts (the real ones here idle).
describe('stand-ins only', () => {
  beforeAll(() => lab.releaseRealGateways());

  test('a failing image (never ready): its batch is rolled back, the rollout stops (exit 3), later batches untouched', async () => {
    // a first upgrade gives oc-up-s3 a previous container, which the failed one must leave in place
    let r = await t.run(['instances', 'upgrade', 'oc-up-s3', '--image', STANDIN_2, '--yes']);
    expect({ code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const before = { three: inspect(s2, 'oc-up-s3'), four: inspect(s2, 'oc-up-s4'), prev: inspect(s2, 'oc-up-s3.prev') };
    // both on one server: batch 1 is oc-up-s3, batch 2 oc-up-s4
    r = await t.run(['instances', 'upgrade', 'oc-up-s3', 'oc-up-s4', '--image', LAB_IMAGE_NEVER_READY, '--batch', '2', '--health-timeout', '5s', '--stop-timeout', '1', '--yes', '-o', 'json']);
    expect(r.code).toBe(3);
    const res = JSON.parse(r.stdout) as Array<{ id: string; batch: number; result: string; error: string }>;
    expect(res.map((x) => `${x.batch} ${x.id} ${x.result}`)).toEqual(['1 oc-up-s3 rolled-back', '2 oc-up-s4 not-started']);
    expect(res[0]!.error).toMatch(/^new container not ready within 5 s: not_ready \(startup-sidecars\)$/);
    expect(res[1]!.error).toBe('not started: batch 1 failed, rollout stopped');
    expect(r.stderr).toMatch(/upgraded 0 instances, 2 failed/);
    // oc-up-s3: the same container as before, running and ready; its ID.prev is still the one from before
    const three = inspect(s2, 'oc-up-s3');
    expect({ id: three.Id, running: three.State.Running }).toEqual({ id: before.three.Id, running: true });
    expect(inspect(s2, 'oc-up-s3.prev').Id).toBe(before.prev.Id);
    expect(lab.docker(s2, ['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('oc-up-s3')).sort()).toEqual(['oc-up-s3', 'oc-up-s3.prev']);
    expect(await readyz(port['oc-up-s3']!)).toEqual({ status: 200, ready: true });
    expect(inspect(s2, 'oc-up-s4').Id).toBe(before.four.Id);
    const a = (await audits('instances.upgrade')).filter((x) => x.after.to_image === LAB_IMAGE_NEVER_READY);
    expect(a.map((x) => `${x.id} ${x.after.result}`)).toEqual(['oc-up-s3 rolled-back']);
  });

  test('Ctrl-C during the readiness wait: the batch is rolled back, nothing half-swapped, exit 130', async () => {
    const old = inspect(s2, 'oc-up-s2');
    const ac = new AbortController();
    const p = t.run(['instances', 'upgrade', 'oc-up-s2', '--image', LAB_IMAGE_NEVER_READY, '--health-timeout', '90s', '--yes', '-o', 'json'], { signal: ac.signal });
    // abort once the new container runs (its name taken by a container other than the old one)
    const seen = await newContainerRuns(s2, 'oc-up-s2', old.Id, p);
    ac.abort();
    const r = await p;
    expect({ seen, code: r.code, stderr: r.code === 130 ? '' : r.stderr }).toEqual({ seen: true, code: 130, stderr: '' });
    expect(r.stderr).toMatch(/interrupted: the batch in flight was settled/);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ id: 'oc-up-s2', result: 'rolled-back', error: 'new container interrupted before it was ready' });
    const now = inspect(s2, 'oc-up-s2');
    expect({ id: now.Id, running: now.State.Running }).toEqual({ id: old.Id, running: true });
    expect(lab.docker(s2, ['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('oc-up-s2'))).toEqual(['oc-up-s2']);
    expect(await readyz(port['oc-up-s2']!)).toEqual({ status: 200, ready: true });
  });

  test('an image that is not there: skipped without --pull; a failed --pull changes nothing (exit 3)', async () => {
    const old = inspect(s2, 'oc-up-s2');
    let r = await t.run(['instances', 'upgrade', 'oc-up-s2', '--image', '127.0.0.1:9/nope:1', '--yes']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/oc-up-s2: image 127\.0\.0\.1:9\/nope:1 is not on up-03: add --pull, or load it there, skipped/);
    // a registry on a closed loopback port: the pull fails before anything is swapped
    r = await t.run(['instances', 'upgrade', 'oc-up-s2', '--image', '127.0.0.1:9/nope:1', '--pull', '--yes', '-o', 'json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ id: 'oc-up-s2', result: 'not-started', error: expect.stringMatching(/^pull 127\.0\.0\.1:9\/nope:1: .*; nothing changed$/) });
    expect(inspect(s2, 'oc-up-s2').Id).toBe(old.Id);
    expect(inspect(s2, 'oc-up-s2').State.Running).toBe(true);
  });

  test('the server lost in the middle of a batch: the rollback cannot finish and says so, per step (exit 3)', async () => {
    const old = inspect(s2, 'oc-up-s4');
    const p = t.run(['instances', 'upgrade', 'oc-up-s4', '--image', LAB_IMAGE_NEVER_READY, '--health-timeout', '15s', '--stop-timeout', '1', '--yes', '-o', 'json']);
    const seen = await newContainerRuns(s2, 'oc-up-s4', old.Id, p);
    await lab.stopEngine(s2.engine);
    const r = await p;
    await lab.startEngine(s2.engine);
    expect({ seen, code: r.code }).toEqual({ seen: true, code: 3 });
    const [res] = JSON.parse(r.stdout);
    expect(res).toMatchObject({ id: 'oc-up-s4', result: 'rollback-failed' });
    expect(res.error).toMatch(/^new container not ready within 15 s: .*; rollback: remove the new container: .*rename oc-up-s4\.prev back: /);
    // what is on the server afterwards is what the error says: the old container still named oc-up-s4.prev
    expect(inspect(s2, 'oc-up-s4.prev').Id).toBe(old.Id);
    const [a] = (await audits('instances.upgrade')).filter((x) => x.id === 'oc-up-s4');
    expect(a!.after).toMatchObject({ result: 'rollback-failed', image: LAB_IMAGE });
  });
});
