// instances upgrade benchmark: `sayclaw instances upgrade` (built binary) of 6 instances on 3 lab
// servers in batches of 2 (one per server per batch: 3 batches), against a plain script doing
// the same docker steps and readiness waits (per instance, one ssh session: remove the old
// ID.prev, stop, rename to ID.prev, docker run with the same settings, poll /readyz until it
// says ready; the two instances of a batch in parallel), in the same run. Each run flips the
// instances between two images, so every run has the full work to do. Gateways are the busybox
// stand-ins (ready as soon as they listen) so what is measured is the tool, not Node's startup;
// --real uses the real OpenClaw gateway image (builds 1 and 2; minutes per run).
// Needs the lab packages (bash scripts/lab.sh install), MariaDB, and `npm run build`.
// Usage: node bench/upgrade.mjs [--real]   (SAYCLAW_BENCH_RUNS, default 5)
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, timeOnce } from './lib.mjs';

const real = process.argv.includes('--real');
const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sayclaw-bench-'));
const outDir = mkdtempSync(join(root, 'node_modules', '.cache-sayclaw-bench-'));
const entry = join(tmp, 'entry.ts');
writeFileSync(entry, `export { startLab, LAB_USER, LAB_IMAGE, OPENCLAW_IMAGE, OPENCLAW_IMAGE_2 } from '${root}tests/support/lab.ts';\nexport { createTestEnv } from '${root}tests/support/testenv.ts';\n`);
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: join(outDir, 'lab.mjs'), packages: 'external', logLevel: 'error', absWorkingDir: root, nodePaths: [join(root, 'node_modules')] });
const { startLab, LAB_USER, LAB_IMAGE, OPENCLAW_IMAGE, OPENCLAW_IMAGE_2, createTestEnv } = await import(join(outDir, 'lab.mjs'));

const runs = Number(process.env.SAYCLAW_BENCH_RUNS ?? 5);
const N = 6;
console.log(`upgrade bench: ${N} instances on 3 servers, batches of 2, ${real ? 'real OpenClaw gateways' : 'busybox stand-in gateways'}, ${runs} runs each`);
const [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 3, namePrefix: 'ub' })]);
try {
  const ids = await lab.register(t.db);
  const images = real ? [OPENCLAW_IMAGE, OPENCLAW_IMAGE_2] : [LAB_IMAGE, 'sayclaw-lab-gateway:2'];
  for (const s of lab.servers) {
    if (real) await lab.openclawImage(s, 2);
    else {
      lab.docker(s, ['create', '--name', 'tmp-b2', LAB_IMAGE]);
      lab.docker(s, ['commit', '-c', 'LABEL sayclaw.lab.build=2', 'tmp-b2', images[1]]);
      lab.docker(s, ['rm', 'tmp-b2']);
    }
  }
  const inst = [];
  for (let i = 0; i < N; i++) {
    const s = lab.servers[i % 3];
    const id = `oc-ub-${String(i + 1).padStart(2, '0')}`;
    const port = await lab.freePort();
    const token = `gwt_${crypto.randomUUID().replace(/-/g, '')}`;
    inst.push({ id, s, port, token, sid: ids[i % 3] });
  }
  // the settings both sides keep: host network, port and token, a volume, restart policy, a label
  const runArgs = (x, image) => ['--network', 'host', '--restart', 'unless-stopped', '--label', 'sayclaw.bench=1', '-e', `OPENCLAW_GATEWAY_PORT=${x.port}`,
    '-e', `OPENCLAW_GATEWAY_TOKEN=${x.token}`, '-v', `${x.id}-state:/home/node/.openclaw`, image];
  for (const x of inst) lab.docker(x.s, ['run', '-d', '--name', x.id, ...runArgs(x, images[0])]);
  await t.db.insertInto('admin.oc_instances').values(inst.map((x) => ({ id: x.id, server_id: x.sid, name: x.id, gateway_port: x.port,
    gateway_url: `http://127.0.0.1:${x.port}`, gateway_token: x.token }))).execute();
  const waitAll = async () => {
    for (const x of inst) {
      for (let i = 0; ; i++) {
        const ok = await fetch(`http://127.0.0.1:${x.port}/readyz`).then(async (r) => r.status === 200 && (await r.json()).ready === true, () => false);
        if (ok) break;
        if (i > 2400) throw new Error(`${x.id} not ready`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  await waitAll();

  let current = 0;
  const next = () => { current = 1 - current; return images[current]; };
  const bin = join(root, 'bin', 'sayclaw');
  const env = { ...process.env, ...t.env };
  const health = real ? '600s' : '60s';
  // outside the timing: each run must have swapped every container to its image (no "already on it" shortcut)
  const check = (image, who) => {
    for (const x of inst) {
      const got = lab.docker(x.s, ['inspect', '-f', '{{.Config.Image}} {{.State.Running}}', x.id]);
      if (got !== `${image} true`) throw new Error(`${who} run left ${x.id} at "${got}", expected ${image}`);
    }
  };
  const candidate = () => {
    const image = next();
    const ms = timeOnce(process.execPath, [bin, 'instances', 'upgrade', '--prefix', 'oc-ub-', '--image', image, '--batch', '2', '--max', String(N),
      '--stop-timeout', '1', '--health-timeout', health, '--yes', '-q'], { env });
    check(image, 'sayclaw');
    return ms;
  };
  // the plain script: per batch, the two instances in parallel, one ssh session each
  const ssh = ['-n', '-i', lab.clientKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
    '-o', 'KexAlgorithms=curve25519-sha256'];
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = join(tmp, 'baseline.sh');
  const batches = [[inst[0], inst[1]], [inst[2], inst[3]], [inst[4], inst[5]]];
  const baseline = () => {
    const image = next();
    const lines = ['set -e'];
    for (const b of batches) {
      for (const x of b) {
        const remote = [`docker rm -f ${x.id}.prev >/dev/null 2>&1 || true`, `docker stop -t 1 ${x.id} >/dev/null`, `docker rename ${x.id} ${x.id}.prev`,
          `docker run -d --name ${x.id} ${runArgs(x, image).map(q).join(' ')} >/dev/null`,
          `n=0; until curl -sf --max-time 5 http://127.0.0.1:${x.port}/readyz | grep -q '"ready":true'; do n=$((n+1)); [ $n -lt 2400 ] || exit 1; sleep 0.5; done`].join('; ');
        lines.push(`ssh ${ssh.join(' ')} -p ${x.s.sshPort} ${LAB_USER}@127.0.0.1 ${q(remote)} &`);
      }
      lines.push('wait');
    }
    writeFileSync(script, `${lines.join('\n')}\n`);
    const ms = timeOnce('sh', [script]);
    check(image, 'baseline');
    return ms;
  };
  const r = compare(`upgrade ${N} in batches of 2 vs plain ssh+docker script`, candidate, baseline, { runs, warmup: 1 });
  await waitAll();
  console.log(`summary: instances upgrade ${r.ratio}x of the plain script (target <= 1.2)`);
} finally {
  await Promise.all([lab.close(), t.close()]);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}
