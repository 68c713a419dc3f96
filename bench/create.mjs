// instances create benchmark: `sayclaw instances create --count 3` (built binary) of the REAL
// OpenClaw gateway on one lab server (sshd + its own dockerd), against a plain script doing the
// same three `docker run`s (same image, network, env, volume, memory limit, restart policy) in
// parallel and polling the same /readyz until each says ready, in the same run. The script talks
// to the engine's socket directly and polls with curl: no SSH, no database, no port lock, no
// transaction, so it is the floor (the gateway's own start dominates both). Containers are
// removed between runs. Needs the lab (bash scripts/lab.sh install), MariaDB and `npm run build`.
// Usage: node bench/create.mjs   (SAYCLAW_BENCH_RUNS=3 by default)
import { build } from 'esbuild';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, timeOnce } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sayclaw-bench-'));
const outDir = mkdtempSync(join(root, 'node_modules', '.cache-sayclaw-bench-'));
const entry = join(tmp, 'entry.ts');
writeFileSync(entry, `export { startLab, OPENCLAW_IMAGE } from '${root}tests/support/lab.ts';\nexport { createTestEnv } from '${root}tests/support/testenv.ts';\n`);
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: join(outDir, 'lab.mjs'), packages: 'external', logLevel: 'error', absWorkingDir: root, nodePaths: [join(root, 'node_modules')] });
const { startLab, OPENCLAW_IMAGE, createTestEnv } = await import(join(outDir, 'lab.mjs'));

const runs = Number(process.env.SAYCLAW_BENCH_RUNS ?? 3);
const N = 3;
console.log(`create bench: instances create --count ${N} (real OpenClaw gateway) on one lab server vs a plain docker run + curl /readyz script, ${runs} runs each`);
const [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: 1, namePrefix: 'bench' })]);
try {
  await lab.register(t.db);
  const s = lab.servers[0];
  await lab.openclawImage(s);
  const bin = join(root, 'bin', 'sayclaw');
  const env = { ...process.env, ...t.env };
  timeOnce(process.execPath, [bin, 'templates', 'add', 'bench', '--image', OPENCLAW_IMAGE, '--quota', 'unlimited', '--memory-mb', '2048', '--port-range', '23000-23999'], { env });
  const clean = () => {
    const ids = lab.docker(s, ['ps', '-aq']).split('\n').filter(Boolean);
    if (ids.length) lab.docker(s, ['rm', '-f', ...ids]);
    const vols = lab.docker(s, ['volume', 'ls', '-q']).split('\n').filter(Boolean);
    if (vols.length) lab.docker(s, ['volume', 'rm', ...vols]);
  };
  let round = 0;
  const sayclaw = () => {
    const r = ++round;
    const ms = timeOnce(process.execPath, [bin, 'instances', 'create', '--prefix', `oc-bench-${r}-`, '--count', String(N), '--template', 'bench', '--server', s.name, '--wait', '300s', '--yes', '-q'], { env });
    clean();
    return ms;
  };
  let port = 24000;
  const dockerCli = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? 'docker';
  const script = () => {
    const r = ++round;
    const lines = ['set -e', 'pids=""'];
    for (let i = 1; i <= N; i++) {
      const p = port; port += 20; // spaced like sayclaw's host-network picks (the gateway's derived ports)
      const name = `oc-plain-${r}-${i}`;
      lines.push(`( ${dockerCli} -H unix://${s.engine.sock} run -d --name ${name} --network host --restart unless-stopped --memory 2048m `
        + `--label sayclaw.instance=${name} -e OPENCLAW_GATEWAY_PORT=${p} -e OPENCLAW_GATEWAY_TOKEN=tok${r}${i}${'0'.repeat(40)} -e OPENAI_API_KEY=sk-bench `
        + `-v ${name}-state:/home/node/.openclaw ${OPENCLAW_IMAGE} >/dev/null; `
        + `until curl -sf -m 5 http://127.0.0.1:${p}/readyz | grep -q '"ready":true'; do sleep 0.25; done ) & pids="$pids $!"`);
    }
    lines.push('for p in $pids; do wait $p; done');
    const ms = timeOnce('sh', ['-c', lines.join('\n')]);
    clean();
    return ms;
  };
  const res = compare(`create --count ${N} vs docker run x${N} + curl /readyz`, sayclaw, script, { runs, warmup: 0 });
  console.log(`summary: instances create --count ${N} is ${res.ratio}x the plain script (target <= 1.2; the gateway's own start is the floor)`);
} finally {
  await Promise.all([lab.close(), t.close()]);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}
