// The test lab, from real parts, on loopback only: several Docker engines side by side
// (own data-root, exec-root, pidfile and unix socket), an offline gateway image built from
// busybox-static whose containers serve /healthz and /readyz on 127.0.0.1 ports, and several
// OpenSSH servers on 127.0.0.1 ports whose sessions get DOCKER_HOST pointing at "their" engine.
// Used by the tests (and bundled on the fly by bench/servers.mjs). Fails loudly, never skips.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../src/db/types.js';

export const LAB_IMAGE = 'sayclaw-lab-gateway:1';
const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? 'docker';
const HOW = 'install the lab packages with: bash scripts/lab.sh install';

export interface LabEngine { index: number; dir: string; sock: string; proc: ChildProcess | null; tlsPort?: number }
export interface LabServer {
  name: string;
  region: string;
  sshPort: number;
  dir: string;
  engine: LabEngine;
  hostKeyPub: string;
  sshdLog: string;
  proc: ChildProcess;
  /** set by register() */
  id?: string;
}

export interface LabOptions {
  /** SSH endpoints (default 3) */
  servers?: number;
  /** Docker engines; server i uses engine i % engines (default = servers; 0 = no engines) */
  engines?: number;
  namePrefix?: string;
  /** engines also listen on a 127.0.0.1 TCP port with mutual TLS (docker.transport=tls) */
  tls?: boolean;
}

export interface LabTls { caFile: string; certFile: string; keyFile: string }

export interface GatewayOptions { live?: boolean; ready?: boolean }

export interface Lab {
  dir: string;
  clientKey: string;
  /** client certificate for the engines' TLS ports (when started with tls) */
  tls: LabTls | null;
  servers: LabServer[];
  engines: LabEngine[];
  /** docker CLI against one engine */
  docker(s: LabServer | LabEngine, args: string[]): string;
  /** start a fake gateway container named `name` on 127.0.0.1:port; returns the container id */
  runGateway(s: LabServer, name: string, port: number, o?: GatewayOptions): string;
  stopEngine(e: LabEngine): Promise<void>;
  startEngine(e: LabEngine): Promise<void>;
  /** "Accepted publickey" lines in the server's sshd log */
  handshakes(s: LabServer): number;
  /** insert the servers into admin.servers; returns their ids in order */
  register(db: Kysely<MysqlDB>): Promise<string[]>;
  freePort(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The account the lab's servers are reached as: a plain login with /bin/sh, in the group that
 * owns the lab engines' sockets (dockerd --group), like an ops account in the docker group.
 * Not root: root's shell here sources a .bashrc that runs pyenv on every ssh command (~100 ms
 * of CPU each), which no real fleet server pays and which would drown what the benchmarks and
 * fan-out tests measure. Created once (idempotent; needs root, as the rest of the lab).
 */
export const LAB_USER = 'sayclaw-lab';

function ensureLabUser(): void {
  const exists = () => { try { execFileSync('id', ['-u', LAB_USER], { stdio: 'ignore' }); return true; } catch { return false; } };
  if (!exists()) {
    // two test workers may race here: whichever loses sees the user afterwards
    try {
      execFileSync('useradd', ['--system', '--user-group', '--create-home', '--home-dir', `/var/lib/${LAB_USER}`, '--shell', '/bin/sh', LAB_USER], { stdio: 'ignore' });
    } catch { /* checked below */ }
    if (!exists()) throw new Error(`test lab: cannot create the user ${LAB_USER} (run as root, or: ${HOW})`);
  }
  // a system account is created locked ("!"); sshd without PAM refuses locked accounts
  execFileSync('usermod', ['-p', '*', LAB_USER], { stdio: 'ignore' });
}

function need(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`test lab: ${what} not found at ${path}; ${HOW}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>, logFile?: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const tail = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
  throw new Error(`test lab: ${what} did not come up within ${ms} ms${tail ? `\n${tail}` : ''}`);
}

const tcpOpen = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

const dockerPing = (sock: string) => new Promise<boolean>((resolve) => {
  const r = request({ socketPath: sock, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
  r.on('error', () => resolve(false));
  r.on('timeout', () => { r.destroy(); resolve(false); });
  r.end();
});

function buildRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  // LIVE=0: no /healthz; READY=0: /readyz answers 404 (not ready). Logs go to stdout/stderr.
  writeFileSync(join(root, 'bin', 'gateway'), [
    '#!/bin/sh',
    'mkdir -p /tmp/www',
    'if [ "$LIVE" != 0 ]; then echo \'{"ok":true,"status":"live"}\' > /tmp/www/healthz; fi',
    'if [ "$LIVE" != 0 ] && [ "$READY" != 0 ]; then echo \'{"ok":true,"status":"ready"}\' > /tmp/www/readyz; fi',
    'echo "gateway $HOSTNAME listening on 127.0.0.1:$PORT (live=${LIVE:-1} ready=${READY:-1})"',
    'echo "starting channels" >&2',
    'exec /bin/httpd -f -v -p 127.0.0.1:$PORT -h /tmp/www',
    '',
  ].join('\n'), { mode: 0o755 });
  return root;
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  need('/usr/sbin/sshd', 'OpenSSH server (sshd)');
  need('/bin/busybox', 'busybox-static');
  need('/usr/bin/ssh-keygen', 'ssh-keygen');
  const nServers = opts.servers ?? 3;
  const nEngines = opts.engines ?? nServers;
  if (nEngines > 0) {
    need('/usr/sbin/dockerd', 'Docker engine (dockerd)');
    if (DOCKER === 'docker') throw new Error(`test lab: docker CLI not found; ${HOW}`);
  }
  // short path: unix socket paths are limited to 108 bytes
  ensureLabUser();
  const dir = mkdtempSync('/tmp/sclab-');
  // the lab user must reach the engine sockets and (sshd reads it as that user) authorized_keys
  chmodSync(dir, 0o711);
  mkdirSync('/run/sshd', { recursive: true });
  const clientKey = join(dir, 'id_client');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sayclaw-lab', '-f', clientKey]);
  copyFileSync(`${clientKey}.pub`, join(dir, 'authorized_keys'));
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  const engines: LabEngine[] = [];
  const servers: LabServer[] = [];
  const procs: ChildProcess[] = [];

  let tls: LabTls | null = null;
  let serverTls: { ca: string; cert: string; key: string } | null = null;
  if (opts.tls) {
    const d = join(dir, 'tls');
    mkdirSync(d);
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
    const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    sh(`openssl req -x509 ${ec} -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=sayclaw-lab-ca`);
    sh(`openssl req ${ec} -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1`);
    writeFileSync(join(d, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    sh('openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server-cert.pem');
    sh(`openssl req ${ec} -keyout key.pem -out client.csr -subj /CN=sayclaw-lab-client`);
    writeFileSync(join(d, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    sh('openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem');
    tls = { caFile: join(d, 'ca.pem'), certFile: join(d, 'cert.pem'), keyFile: join(d, 'key.pem') };
    serverTls = { ca: join(d, 'ca.pem'), cert: join(d, 'server-cert.pem'), key: join(d, 'server-key.pem') };
  }

  const lab: Lab = {
    dir, clientKey, tls, servers, engines,
    docker(s, args) {
      const sock = 'engine' in s ? s.engine.sock : s.sock;
      return execFileSync(DOCKER, ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    },
    runGateway(s, name, port, o = {}) {
      return lab.docker(s, ['run', '-d', '--name', name, '--network', 'host', '--restart', 'no',
        '-e', `PORT=${port}`, '-e', `LIVE=${o.live === false ? 0 : 1}`, '-e', `READY=${o.ready === false ? 0 : 1}`, LAB_IMAGE, '/bin/gateway']);
    },
    async stopEngine(e) {
      const p = e.proc;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 15000); })]);
      clearTimeout(timer);
      e.proc = null;
    },
    async startEngine(e) {
      const log = join(e.dir, 'dockerd.log');
      const p = spawn('/usr/sbin/dockerd', ['--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false',
        '--userland-proxy=false', '--data-root', join(e.dir, 'data'), '--exec-root', join(e.dir, 'x'), '--pidfile', join(e.dir, 'd.pid'),
        '-H', `unix://${e.sock}`, '--group', LAB_USER, '--log-level', 'warn',
        ...(serverTls && e.tlsPort ? ['--tlsverify', '--tlscacert', serverTls.ca, '--tlscert', serverTls.cert, '--tlskey', serverTls.key, '-H', `tcp://127.0.0.1:${e.tlsPort}`] : []),
      ], { stdio: ['ignore', 'ignore', 'ignore'], detached: false });
      // stdout/stderr to a file would need an fd; dockerd logs are not needed unless it fails
      e.proc = p;
      procs.push(p);
      await waitFor(`dockerd ${e.index}`, 30000, () => dockerPing(e.sock), log);
    },
    handshakes(s) {
      if (!existsSync(s.sshdLog)) return 0;
      return readFileSync(s.sshdLog, 'utf8').split('\n').filter((l) => l.includes('Accepted publickey')).length;
    },
    async register(db) {
      const ids: string[] = [];
      for (const s of servers) {
        const id = crypto.randomUUID();
        await db.insertInto('admin.servers').values({
          id, name: s.name, ip: '127.0.0.1', region: s.region, provider: 'lab', cpu_cores: 2, memory_gb: 4, disk_gb: 20, status: 'active',
          ssh_user: LAB_USER, ssh_port: s.sshPort, docker_port: s.engine.tlsPort ?? 2376, notes: `lab engine ${s.engine.index}`, ssh_key_path: clientKey,
        }).execute();
        s.id = id;
        ids.push(id);
      }
      return ids;
    },
    freePort,
    async close() {
      for (const s of servers) s.proc.kill('SIGTERM');
      await Promise.all(engines.map((e) => lab.stopEngine(e)));
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      // overlay mounts under data-root are gone once dockerd stopped; remove what is left
      try { execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' }); } catch { /* none */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    // engines in parallel; the image is imported into each (no registry, no pull)
    let rootfs = '';
    if (nEngines > 0) rootfs = buildRootfs(dir);
    for (let i = 0; i < nEngines; i++) {
      const edir = join(dir, `e${i}`);
      mkdirSync(edir);
      engines.push({ index: i, dir: edir, sock: join(edir, 'd.sock'), proc: null, tlsPort: opts.tls ? await freePort() : undefined });
    }
    await Promise.all(engines.map(async (e) => {
      await lab.startEngine(e);
      execFileSync('sh', ['-c', `tar -C '${rootfs}' -c . | '${DOCKER}' -H 'unix://${e.sock}' import - ${LAB_IMAGE}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    }));
    const prefix = opts.namePrefix ?? 'lab';
    const regions = ['lab-east', 'lab-west'];
    await Promise.all(Array.from({ length: nServers }, async (_, i) => {
      const sdir = join(dir, `s${i}`);
      mkdirSync(sdir);
      const hostKey = join(sdir, 'host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
      const port = await freePort();
      const engine = engines.length ? engines[i % engines.length]! : { index: -1, dir: sdir, sock: join(sdir, 'no-engine.sock'), proc: null };
      const log = join(sdir, 'sshd.log');
      writeFileSync(join(sdir, 'sshd_config'), [
        `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${join(sdir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
        'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'LogLevel VERBOSE', 'MaxStartups 200:30:400',
        'AllowTcpForwarding yes', 'PrintMotd no', `SetEnv DOCKER_HOST=unix://${engine.sock}`, '',
      ].join('\n'));
      const proc = spawn('/usr/sbin/sshd', ['-D', '-f', join(sdir, 'sshd_config'), '-E', log], { stdio: 'ignore' });
      procs.push(proc);
      const s: LabServer = {
        name: `${prefix}-${String(i + 1).padStart(2, '0')}`, region: regions[i % regions.length]!, sshPort: port, dir: sdir, engine,
        hostKeyPub: readFileSync(`${hostKey}.pub`, 'utf8').trim(), sshdLog: log, proc,
      };
      servers[i] = s;
      await waitFor(`sshd ${s.name} on 127.0.0.1:${port}`, 10000, () => tcpOpen(port), log);
    }));
  } catch (err) {
    await lab.close().catch(() => undefined);
    throw err;
  }
  return lab;
}
