// servers fan-out benchmark: `sayclaw servers exec --all -- true` and `sayclaw servers check
// --all` (built binary) over N real sshd endpoints on loopback, against `xargs -P N` running
// plain ssh and against a sequential loop, in the same run. Also counts SSH handshakes per
// server per command from the sshd logs. Needs the lab packages (bash scripts/lab.sh install),
// MariaDB, and `npm run build`. Also `check` against itself with docker.sshChannel=dial-stdio, and
// the CPU seconds of one run: sayclaw, the sshds with their children, the dockerds.
// Usage: node bench/servers.mjs [N=24]
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, rmSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, median, timeOnce } from './lib.mjs';

const up = process.argv.includes('--up');
// --rtt MS: put a delaying TCP relay (separate process, MS/2 each way, order kept) in front of
// every sshd, for both sayclaw and the baselines (netem is not available on this kernel)
const rttArg = process.argv.indexOf('--rtt');
const rtt = rttArg > 0 ? Number(process.argv[rttArg + 1]) : 0;
if (rttArg > 0) process.argv.splice(rttArg, 2);
const N = Number(process.argv.filter((a) => !a.startsWith('--'))[2] ?? (up ? 3 : 24));
const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sayclaw-bench-'));
// the bundle must sit under the repo so its bare imports resolve from node_modules
const outDir = mkdtempSync(join(root, 'node_modules', '.cache-sayclaw-bench-'));
const entry = join(tmp, 'entry.ts');
writeFileSync(entry, `export { startLab, runLabGateways, labEnvFileText, LAB_USER } from '${root}tests/support/lab.ts';\nexport { createTestEnv } from '${root}tests/support/testenv.ts';\n`);
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: join(outDir, 'lab.mjs'), packages: 'external', logLevel: 'error', absWorkingDir: root, nodePaths: [join(root, 'node_modules')] });
const { startLab, runLabGateways, labEnvFileText, LAB_USER, createTestEnv } = await import(join(outDir, 'lab.mjs'));

const engines = Math.min(4, N);
console.log(`servers bench: ${N} sshd endpoints on 127.0.0.1 (${engines} dockerd behind them), ${process.env.SAYCLAW_BENCH_RUNS ?? 9} runs each; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const [t, lab] = await Promise.all([createTestEnv({ withPg: false }), startLab({ servers: N, engines, namePrefix: 'bench' })]);
if (up) {
  // `bash scripts/lab.sh up [N]`: keep a lab and its database running for manual use
  await lab.register(t.db);
  const gateways = await runLabGateways(lab, t.db);
  // only sayclaw's own variables (the shell keeps its HOME, USER, PATH); the lab's known_hosts
  // through a config file of its own
  const cfgFile = join(lab.dir, 'config.json');
  writeFileSync(cfgFile, JSON.stringify({ ssh: { knownHostsFile: join(lab.dir, 'known_hosts') } }, null, 2) + '\n');
  const envFile = join(lab.dir, 'env.sh');
  writeFileSync(envFile, labEnvFileText(t.env, cfgFile));
  console.log(`lab up: ${lab.servers.map((s) => `${s.name}=127.0.0.1:${s.sshPort}`).join(' ')}`);
  console.log('instances with running gateway containers:');
  for (const g of gateways) console.log(`  ${g.id.padEnd(13)} ${g.server.padEnd(8)} ${g.url.padEnd(23)} ${g.kind}`);
  console.log(`key: ${lab.clientKey}\nin another shell: . ${envFile}; bin/sayclaw servers check --all; bin/sayclaw instances health --all\n` +
    'Ctrl-C here stops the lab and drops its databases');
  await new Promise((r) => { process.once('SIGINT', r); process.once('SIGTERM', r); });
  await Promise.all([lab.close(), t.close()]);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
  process.exit(0);
}
const RELAY = `
const net = require('node:net');
const [half, ...targets] = process.argv.slice(1).map(Number);
const pipe = (from, to) => { let last = 0; from.on('data', (d) => { const at = Math.max(Date.now() + half, last); last = at;
  setTimeout(() => to.write(d), at - Date.now()); }); from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now()) + half));
  from.on('error', () => to.destroy()); };
// each relay listens on a port the kernel picks (a port found free beforehand can be taken by an
// outgoing connection before it is bound: EADDRINUSE); the ports are reported in target order
Promise.all(targets.map((target) => new Promise((resolve, reject) => {
  const srv = net.createServer((c) => { const u = net.connect(target, '127.0.0.1'); pipe(c, u); pipe(u, c); });
  srv.on('error', reject);
  srv.listen(0, '127.0.0.1', () => resolve(srv.address().port));
}))).then((ports) => process.stdout.write(ports.join(' ') + '\\n'), (err) => { process.stderr.write('relay: ' + err.message + '\\n'); process.exit(1); });
`;
let relay = null;
let relayGone = null;
const cgroups = [];
try {
  await lab.register(t.db);
  if (rtt > 0) {
    const { spawn } = await import('node:child_process');
    relay = spawn(process.execPath, ['-e', RELAY, String(rtt / 2), ...lab.servers.map((s) => String(s.sshPort))], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise((resolve, reject) => {
      let got = '';
      relay.stdout.on('data', (d) => { got += d; if (got.includes('\n')) resolve(got); });
      relay.once('exit', (code) => reject(new Error(`servers bench: the delaying relay exited (${code}) before it listened`)));
    });
    relay.once('exit', (code, sig) => { relayGone = `the delaying relay exited (${code ?? sig}) during the runs`; });
    const ports = line.trim().split(' ').map(Number);
    for (const [i, s] of lab.servers.entries()) {
      await t.db.updateTable('admin.servers').set({ ssh_port: ports[i] }).where('id', '=', s.id).execute();
      s.sshPort = ports[i];
    }
    console.log(`with a relay adding ${rtt} ms round-trip time in front of every sshd`);
  }
  const bin = join(root, 'bin', 'sayclaw');
  const env = { ...process.env, ...t.env };
  const ssh = ['-n', '-i', lab.clientKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'];
  const portsFile = join(tmp, 'ports');
  writeFileSync(portsFile, lab.servers.map((s) => s.sshPort).join('\n') + '\n');
  // a failed ssh (exit 255, rare under load) is counted, not allowed to stop xargs early
  const failLog = join(tmp, 'baseline-failures');
  writeFileSync(failLog, '');
  // the baselines log in as the same account as sayclaw (the servers' ssh_user)
  const sshCmd = (remote) => `ssh ${ssh.join(' ')} -p {} ${LAB_USER}@127.0.0.1 '${remote}' || echo {} >> ${failLog}`;
  const xargs = (remote) => () => timeOnce('sh', ['-c', `xargs -P ${N} -I{} sh -c "${sshCmd(remote).replace(/"/g, '\\"')}" < ${portsFile}`]);
  // the same with OpenSSH limited to the key exchange ssh2 negotiates (curve25519-sha256; plain
  // ssh defaults to the costlier post-quantum sntrup761x25519): shows how much of the gap is KEX
  const sshCmdKex = (remote) => sshCmd(remote).replace('ssh -n', 'ssh -n -o KexAlgorithms=curve25519-sha256');
  const xargsKex = (remote) => () => timeOnce('sh', ['-c', `xargs -P ${N} -I{} sh -c "${sshCmdKex(remote).replace(/"/g, '\\"')}" < ${portsFile}`]);
  const loop = (remote) => () => timeOnce('sh', ['-c', `while read p; do ${sshCmd(remote).replace(/\{\}/g, '$p')}; done < ${portsFile}`]);
  // a run where some server failed (exit 3: e.g. a handshake the relay or sshd dropped, which
  // the baselines see too) is timed and counted, not allowed to stop the benchmark; `check`
  // exits 3 anyway when the lab's engines have drift, so only `exec` failures are counted
  let sayclawFails = 0;
  const sayclaw = (args, allowFail = false) => () => timeOnce(process.execPath, [bin, ...args], {
    env, allowFail: true,
    onFail: (r) => { if (!allowFail) { sayclawFails++; process.stderr.write(`sayclaw run failed (exit ${r.status}): ${r.stderr.toString().trim().split('\n').pop()}\n`); } },
  });
  const runs = Number(process.env.SAYCLAW_BENCH_RUNS ?? 9);

  // handshakes per server for one run of each sayclaw command
  const before = lab.servers.map((s) => lab.handshakes(s));
  sayclaw(['servers', 'exec', '--all', '--', 'true'])();
  const mid = lab.servers.map((s) => lab.handshakes(s));
  sayclaw(['servers', 'check', '--all'], true)();
  const after = lab.servers.map((s) => lab.handshakes(s));
  const per = (a, b) => [...new Set(a.map((x, i) => x - b[i]))].join('/');
  console.log(`handshakes per server: servers exec ${per(mid, before)}, servers check ${per(after, mid)} (target 1)`);

  const DOCKER_WORK = 'docker version --format {{.Server.Version}} >/dev/null; docker ps -a --format {{.Names}} >/dev/null; df -Pk / >/dev/null; grep MemAvailable /proc/meminfo >/dev/null';
  const r1 = compare(`exec --all -- true vs xargs -P${N} ssh`, sayclaw(['servers', 'exec', '--all', '--', 'true']), xargs('true'), { runs, warmup: 1 });
  const r1k = compare(`exec --all -- true vs xargs -P${N} ssh, curve25519 KEX`, sayclaw(['servers', 'exec', '--all', '--', 'true']), xargsKex('true'), { runs, warmup: 1 });
  const r2 = compare(`check --all vs xargs -P${N} ssh docker...`, sayclaw(['servers', 'check', '--all'], true), xargs(DOCKER_WORK), { runs, warmup: 1 });
  const r3 = compare('exec --all -- true vs sequential ssh loop', sayclaw(['servers', 'exec', '--all', '--', 'true']), loop('true'), { runs: 3, warmup: 0 });
  const r4 = compare('check --all vs sequential ssh loop', sayclaw(['servers', 'check', '--all'], true), loop(DOCKER_WORK), { runs: 3, warmup: 0 });
  // the same binary with Docker over docker system dial-stdio (docker.sshChannel): what the
  // streamlocal channel saves, in the same run
  const r5 = compare('check --all vs check with docker.sshChannel=dial-stdio', sayclaw(['servers', 'check', '--all'], true),
    sayclaw(['--set', 'docker.sshChannel=dial-stdio', 'servers', 'check', '--all'], true), { runs, warmup: 1 });
  // What is on the CPU for one run: sayclaw itself (user+sys from /usr/bin/time), the sshds and
  // everything they start (per-connection sshd, shells, docker CLIs: the processes a channel
  // leaves behind as orphans too), the dockerds with their containerd; medians of `runs` runs.
  // The lab's processes go into cgroups of their own (v2 cpu.stat, which needs no controller);
  // where that is not possible, /proc's utime+cutime of the listeners (orphans are missed).
  const procCpu = (pid) => {
    try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100; } catch { return 0; }
  };
  const childrenOf = (pids) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return pids.has(Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1])); } catch { return false; }
  }).map(Number);
  const sshdPids = lab.servers.map((s) => s.proc.pid);
  const dockerdPids = lab.engines.map((e) => e.proc.pid);
  const meter = (name, pids) => {
    const root = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((r) => existsSync(join(r, 'cgroup.procs')) && existsSync(join(r, 'cgroup.controllers')));
    if (root) {
      const dir = join(root, `sayclaw-bench-${process.pid}-${name}`);
      try {
        mkdirSync(dir);
        cgroups.push(dir);
        for (const p of pids) writeFileSync(join(dir, 'cgroup.procs'), String(p));
        return { how: 'cgroup', read: () => Number(/usage_usec (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))[1]) / 1e6 };
      } catch { /* /proc below */ }
    }
    return { how: '/proc', read: () => pids.reduce((a, p) => a + procCpu(p), 0) };
  };
  const sshdCpu = meter('sshd', sshdPids);
  const dockerdCpu = meter('dockerd', [...dockerdPids, ...childrenOf(new Set(dockerdPids))]);
  const timeFile = join(tmp, 'time');
  const cpuRow = (name, args) => {
    const rows = [];
    for (let i = 0; i < runs; i++) {
      const s0 = sshdCpu.read(), d0 = dockerdCpu.read();
      timeOnce('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, bin, ...args], { env, allowFail: true });
      spawnSync('sleep', ['0.3']);
      const [u, sy] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      rows.push([u + sy, sshdCpu.read() - s0, dockerdCpu.read() - d0]);
    }
    const med = (k) => median(rows.map((r) => r[k])).toFixed(2);
    console.log(`cpu s, ${name.padEnd(40)} sayclaw ${med(0)}   sshd+children ${med(1)}   dockerd+containerd ${med(2)}   (${sshdCpu.how})`);
  };
  cpuRow('servers exec --all -- true', ['servers', 'exec', '--all', '--', 'true']);
  cpuRow('servers check --all', ['servers', 'check', '--all']);
  cpuRow('check, docker.sshChannel=dial-stdio', ['--set', 'docker.sshChannel=dial-stdio', 'servers', 'check', '--all']);
  const fails = readFileSync(failLog, 'utf8').split('\n').filter(Boolean).length;
  if (fails) console.log(`baseline ssh failures (exit != 0) over all runs: ${fails}`);
  if (sayclawFails) console.log(`sayclaw exec runs with a failed server over all runs: ${sayclawFails}`);
  if (relayGone) { console.log(`servers bench: ${relayGone}; these figures are not valid`); process.exitCode = 1; }
  console.log(`summary: exec ${r1.ratio}x of xargs -P (target <= 1.2; ${r1k.ratio}x with the same KEX), ${(r3.baseline_ms / r3.candidate_ms).toFixed(1)}x faster than sequential (target >= 10); `
    + `check ${r2.ratio}x of xargs -P, ${(r4.baseline_ms / r4.candidate_ms).toFixed(1)}x faster than sequential (target >= 10), ${r5.ratio}x of itself over dial-stdio; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  relay?.kill();
  await Promise.all([lab.close(), t.close()]);
  // empty once the lab's processes are gone
  for (const d of cgroups) for (let i = 0; i < 50; i++) { try { rmdirSync(d); break; } catch { spawnSync('sleep', ['0.1']); } }
  rmSync(tmp, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}
