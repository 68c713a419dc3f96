// The test lab, from real parts, on loopback only: several Docker engines side by side
// (own data-root, exec-root, pidfile and unix socket), gateway images imported offline (the
// real OpenClaw gateway from the root filesystem tarball `scripts/lab.sh install` builds, and
// busybox stand-ins: ready, never ready, an "old image" answering HTML everywhere), and several
// OpenSSH servers on 127.0.0.1 ports whose sessions get DOCKER_HOST pointing at "their" engine.
// Used by the tests (and bundled on the fly by bench/servers.mjs). Fails loudly, never skips.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { getPriority, homedir, setPriority, tmpdir } from 'node:os';
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../src/db/types.js';

/** The busybox stand-in gateway images (one tar, three configs). */
export const LAB_IMAGE = 'sayclaw-lab-gateway:1';
export const LAB_IMAGE_NEVER_READY = 'sayclaw-lab-gateway:never-ready';
export const LAB_IMAGE_OLD = 'sayclaw-lab-gateway:old';
/** The real OpenClaw gateway: two tags of the same root filesystem with different image ids. */
export const OPENCLAW_VERSION = '2026.9.6';
export const NODE_VERSION = '24.22.3';
export const OPENCLAW_IMAGE = 'sayclaw-lab-openclaw:1';
export const OPENCLAW_IMAGE_2 = 'sayclaw-lab-openclaw:2';
const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? 'docker';
const HOW = 'install the lab packages with: bash scripts/lab.sh install';

const ROOTFS_REVISION = 2;

/** The gateway root filesystem tarball that `scripts/lab.sh install` builds (same names there). */
export function openclawTarball(env: Record<string, string | undefined> = process.env): string {
  const cache = env.SAYCLAW_LAB_CACHE ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'sayclaw-lab');
  return join(cache, `openclaw-${OPENCLAW_VERSION}-node-${NODE_VERSION}-r${ROOTFS_REVISION}.tar`);
}

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
  /** extra sshd_config lines for server i (e.g. PermitOpen, LogLevel DEBUG1); they come first, and sshd keeps a keyword's first value */
  sshdConfig?: (i: number) => string[];
  /**
   * This lab starts real OpenClaw gateways on its first N engines: those engines start with both
   * real images already in place (openclawDataRoot: no import), and the lab takes the machine-wide
   * real-gateway lock (realGatewayLock) at start, or with lockAtStart: false when the test calls
   * holdRealGateways(), and holds it until close().
   */
  realGateways?: number;
  /** false: take the real-gateway lock only when the test calls holdRealGateways() (default: at start when realGateways) */
  lockAtStart?: boolean;
}

export interface LabTls { caFile: string; certFile: string; keyFile: string }

export interface GatewayOptions {
  /** false: /healthz answers 404 */
  live?: boolean;
  /** false: /readyz answers 503 {"ready":false,"failing":["startup-sidecars"]} forever */
  ready?: boolean;
  /** an image older than 2026.3: 200 HTML on every path */
  old?: boolean;
}

export interface OpenclawOptions {
  /** OPENCLAW_GATEWAY_TOKEN */
  token: string;
  /** default OPENCLAW_IMAGE */
  image?: string;
  /** named volume on /home/node/.openclaw (default NAME-state) */
  volume?: string;
}

export interface Lab {
  dir: string;
  clientKey: string;
  /** client certificate for the engines' TLS ports (when started with tls) */
  tls: LabTls | null;
  servers: LabServer[];
  engines: LabEngine[];
  /** docker CLI against one engine */
  docker(s: LabServer | LabEngine, args: string[]): string;
  /** the same without blocking the event loop: for polls that run beside an in-process CLI run */
  dockerAsync(s: LabServer | LabEngine, args: string[]): Promise<string>;
  /** start a busybox stand-in gateway container named `name` on 127.0.0.1:port; returns the container id */
  runGateway(s: LabServer, name: string, port: number, o?: GatewayOptions): string;
  /**
   * The real OpenClaw gateway image on that server's engine, imported from the lab tarball the
   * first time a test asks (~8 s per engine); build 2 is the same filesystem under another image id.
   */
  openclawImage(s: LabServer | LabEngine, build?: 1 | 2): Promise<string>;
  /** start a real OpenClaw gateway (--network host, loopback, token auth) on 127.0.0.1:port; returns the container id */
  runOpenclaw(s: LabServer, name: string, port: number, o: OpenclawOptions): Promise<string>;
  /** take the machine-wide real-gateway lock now (realGatewayLock), if this lab does not hold it yet; held until close() */
  holdRealGateways(): Promise<void>;
  /**
   * give the lock back before close(), for a file whose remaining tests start no real gateway:
   * its running ones idle (~2% of a core each) while another file's start. A later
   * holdRealGateways() takes it again.
   */
  releaseRealGateways(): Promise<void>;
  stopEngine(e: LabEngine): Promise<void>;
  startEngine(e: LabEngine): Promise<void>;
  /** "Accepted publickey" lines in the server's sshd log */
  handshakes(s: LabServer): number;
  /** insert the servers into admin.servers; returns their ids in order */
  register(db: Kysely<MysqlDB>): Promise<string[]>;
  freePort(): Promise<number>;
  /** a base port for a real OpenClaw gateway on the host network, or of a port range (see gatewayPort()) */
  gatewayPort(blocks?: number): number;
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
  // a system account is created locked ("!"); sshd without PAM refuses locked accounts. Only
  // when it is still locked: usermod takes the lock of /etc/passwd, which another test process
  // starting its lab may hold just then (usermod then exits 16: try again)
  const unlocked = () => readFileSync('/etc/shadow', 'utf8').split('\n').some((l) => l.startsWith(`${LAB_USER}:*:`));
  for (let i = 0; !unlocked(); i++) {
    try { execFileSync('usermod', ['-p', '*', LAB_USER], { stdio: 'ignore' }); } catch (e) {
      if (i >= 20) throw new Error(`test lab: cannot unlock the user ${LAB_USER}: ${(e as Error).message}`);
      execFileSync('sleep', ['0.1']);
    }
  }
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

/**
 * A base port for a real OpenClaw gateway on the host network. The gateway also listens on
 * derived ports (browser control base+2, canvas base+4, browser CDP ports from base+11 up to
 * base+110: OpenClaw's docs/gateway/multiple-gateways.md), so two gateways whose bases are close
 * break each other (one exits at start). Bases are blocks of GATEWAY_BLOCK ports, claimed across
 * every test process on this machine with a file per block (O_EXCL; a claim of a dead pid is
 * taken over), and none of a block's ports may be listening; they lie below the ephemeral range,
 * so no listen(0) elsewhere lands in one. Released by releaseGatewayPorts() (lab.close()).
 */
/**
 * The env file `scripts/lab.sh up` prints for another shell: only sayclaw's own variables (the
 * shell keeps its HOME, USER and PATH), each single-quoted for sh.
 */
export function labEnvFileText(env: Record<string, string | undefined>, configFile: string): string {
  const vars = { ...Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('SAYCLAW_') && v !== undefined)), SAYCLAW_CONFIG: configFile };
  return Object.entries(vars).map(([k, v]) => `export ${k}='${String(v).replace(/'/g, `'\\''`)}'`).join('\n') + '\n';
}

export const GATEWAY_BLOCK = 128;
const GATEWAY_CLAIMS = join(tmpdir(), 'sayclaw-lab-ports');
const myClaims = new Set<string>();

function listening(): Set<number> {
  const out = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[3] === '0A') out.add(parseInt(c[1]!.split(':').pop()!, 16));
    }
  }
  return out;
}

/**
 * A base port with `blocks` blocks of GATEWAY_BLOCK ports after it that nothing listens on and
 * no other test process (live) has claimed: for real gateways (which listen on derived ports
 * too) and for templates' port ranges, so test files and test runs side by side never meet.
 */
export function gatewayPort(blocks = 1): number {
  mkdirSync(GATEWAY_CLAIMS, { recursive: true });
  const busy = listening();
  // below the kernel's ephemeral range (32768-60999 here), where every listen(0) of the tests
  // lands, and above 20000 (fixed ports in templates tests that never listen)
  const first = Math.ceil(21000 / GATEWAY_BLOCK);
  const count = Math.floor(32000 / GATEWAY_BLOCK) - first - blocks + 1;
  const start = Math.floor(Math.random() * count);
  const claimOne = (claim: string): boolean => {
    try {
      writeFileSync(claim, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      // taken: by a live process, or left by a dead one (take it over)
      let pid = 0;
      try { pid = Number(readFileSync(claim, 'utf8')); } catch { return false; }
      let alive = true;
      try { process.kill(pid, 0); } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
      if (alive || pid === process.pid) return false;
      writeFileSync(claim, String(process.pid));
      return true;
    }
  };
  for (let k = 0; k < count; k++) {
    const base = (first + ((start + k) % count)) * GATEWAY_BLOCK;
    let free = true;
    for (let p = base; p < base + blocks * GATEWAY_BLOCK && free; p++) if (busy.has(p)) free = false;
    if (!free) continue;
    const got: string[] = [];
    for (let b = 0; b < blocks; b++) {
      const claim = join(GATEWAY_CLAIMS, String(base + b * GATEWAY_BLOCK));
      if (!claimOne(claim)) break;
      got.push(claim);
    }
    if (got.length < blocks) { for (const c of got) rmSync(c, { force: true }); continue; }
    for (const c of got) myClaims.add(c);
    return base;
  }
  throw new Error(`test lab: no ${blocks} free block(s) of gateway ports between 21000 and 32000`);
}

export function releaseGatewayPorts(): void {
  for (const c of myClaims) { try { rmSync(c, { force: true }); } catch { /* gone */ } }
  myClaims.clear();
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
  // The port comes from OPENCLAW_GATEWAY_PORT like the real gateway's (PORT also works). busybox
  // nc -ll forks /bin/gateway-http per connection. Logs go to stdout/stderr.
  writeFileSync(join(root, 'bin', 'gateway'), [
    '#!/bin/sh',
    'PORT=${OPENCLAW_GATEWAY_PORT:-$PORT}',
    'mkdir -p /tmp/www',
    'echo \'{"ok":true,"status":"live"}\' > /tmp/www/healthz',
    'echo "gateway $HOSTNAME listening on 127.0.0.1:$PORT (live=${LIVE:-1} ready=${READY:-1})${GW_MODE:+ mode=$GW_MODE}"',
    'echo "starting channels" >&2',
    // PID 1 of a container gets no SIGTERM it has no handler for: like the real gateway (which
    // drains and exits at once), the stand-in ends on SIGTERM instead of making `docker stop`
    // wait out its timeout
    'nc -ll -p "$PORT" 127.0.0.1 -e /bin/gateway-http &',
    'nc=$!',
    "trap 'kill $nc 2>/dev/null; exit 0' TERM INT",
    'wait $nc',
    '',
  ].join('\n'), { mode: 0o755 });
  // One HTTP request on stdin/stdout. LIVE=0: /healthz 404. READY=0: /readyz 503 with
  // startup-sidecars failing, forever. GW_MODE=old: 200 HTML on every path (no probes, pre-2026.3).
  writeFileSync(join(root, 'bin', 'gateway-http'), [
    '#!/bin/sh',
    'read -r method path _',
    'path=${path%%\\?*}',
    'cr=$(printf "\\r")',
    'while IFS= read -r line; do line=${line%"$cr"}; [ -z "$line" ] && break; done',
    'reply() { printf "HTTP/1.1 %s\\r\\nContent-Type: %s\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s" "$1" "$2" "${#3}" "$3"; echo "$method $path response:${1%% *}" >&2; }',
    'if [ "$GW_MODE" = old ]; then reply "200 OK" "text/html; charset=utf-8" "<!doctype html><html><head><title>OpenClaw Control</title></head><body><div id=app></div></body></html>"; exit 0; fi',
    'case "$path" in',
    '  /healthz|/health) if [ "$LIVE" = 0 ]; then reply "404 Not Found" text/plain "Not Found"; else reply "200 OK" application/json "$(cat /tmp/www/healthz)"; fi ;;',
    '  /readyz|/ready) if [ "$LIVE" = 0 ] || [ "$READY" = 0 ]; then reply "503 Service Unavailable" application/json \'{"ready":false,"failing":["startup-sidecars"],"uptimeMs":1}\'; else reply "200 OK" application/json \'{"ready":true,"failing":[],"uptimeMs":1}\'; fi ;;',
    '  *) reply "404 Not Found" text/plain "Not Found" ;;',
    'esac',
    '',
  ].join('\n'), { mode: 0o755 });
  return root;
}

const DOCKERD = '/usr/sbin/dockerd';

/** dockerd with its own data-root, exec-root, pidfile and socket, and no networking of its own. */
function spawnDockerd(dataRoot: string, dir: string, sock: string, extra: string[] = [], nice?: number): ChildProcess {
  // nice(1) execs dockerd in its own process: the pid stays dockerd's; containerd, the shims and
  // the containers inherit the priority. Its -n is relative to this process's own
  const by = nice === undefined ? 0 : nice - getPriority();
  const [cmd, pre] = by ? ['nice', ['-n', String(by), DOCKERD]] : [DOCKERD, []];
  // stdout/stderr to a file would need an fd; dockerd logs are not needed unless it fails
  return spawn(cmd, [...pre, '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false',
    '--userland-proxy=false', '--data-root', dataRoot, '--exec-root', join(dir, 'x'), '--pidfile', join(dir, 'd.pid'),
    '-H', `unix://${sock}`, '--log-level', 'warn', ...extra], { stdio: ['ignore', 'ignore', 'ignore'], detached: false });
}

/**
 * The CPU priority of a lab's real gateways and of the test process driving them (while it holds
 * the real-gateway lock): those files are the suite's critical path (one at a time), and a
 * gateway starved while starting starts over; the files beside them at the default priority take
 * what is left. Needs root, as the rest of the lab; without it the priority stays as it is.
 */
const REAL_NICE = -10;

/**
 * Containers do not run at the priority of the dockerd that started them but in a cgroup of
 * their own under dockerd's cgroup parent (default /docker), whose CPU share is one entity's,
 * however many containers are in it (all lab engines', both CI passes'), against each busy test
 * process outside: three real gateways starting in one test file got about one core between them
 * and that file took twice as long as alone. A lab's real engines put their containers under
 * /sayclaw-lab-real with 8x the default share (cgroup v1 cpu.shares, v2 cpu.weight). Returns the
 * dockerd flags, none when the cgroup cannot be made (not root, no cpu controller).
 */
function realCgroupFlags(): string[] {
  const name = 'sayclaw-lab-real';
  try {
    if (existsSync('/sys/fs/cgroup/cpu/cpu.shares')) {
      mkdirSync(`/sys/fs/cgroup/cpu/${name}`, { recursive: true });
      writeFileSync(`/sys/fs/cgroup/cpu/${name}/cpu.shares`, '8192');
    } else if (readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').split(/\s+/).includes('cpu')) {
      mkdirSync(`/sys/fs/cgroup/${name}`, { recursive: true });
      writeFileSync(`/sys/fs/cgroup/${name}/cpu.weight`, '800');
    } else return [];
    return ['--cgroup-parent', `/${name}`];
  } catch { return []; }
}

/** Lazily unmount whatever is mounted under dir (deepest first): dockerd's leftovers, the lab's tmpfs. */
function unmountUnder(dir: string): void {
  try { execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' }); } catch { /* none */ }
}

async function stopProc(p: ChildProcess, ms = 15000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}

/** Import the real gateway's root filesystem as OPENCLAW_IMAGE into the engine on `sock`. */
async function importOpenclaw(sock: string): Promise<void> {
  const tar = openclawTarball();
  if (!existsSync(tar)) throw new Error(`test lab: the OpenClaw gateway root filesystem ${tar} is missing; build it with: bash scripts/lab.sh install`);
  // FACTS.md: USER node, WORKDIR, HOME and no Bonjour; the command runs the gateway on loopback
  const changes = ['USER node', 'WORKDIR /home/node', 'ENV HOME=/home/node OPENCLAW_DISABLE_BONJOUR=1', `LABEL sayclaw.lab.openclaw=${OPENCLAW_VERSION}`,
    'CMD ["/usr/local/bin/node","/app/node_modules/openclaw/openclaw.mjs","gateway","run","--allow-unconfigured","--bind","loopback"]'];
  await shAsync(`${q(DOCKER)} -H ${q(`unix://${sock}`)} import ${changes.map((c) => `-c ${q(c)}`).join(' ')} - ${OPENCLAW_IMAGE} < ${q(tar)}`, `docker import of ${tar}`);
}

/** OPENCLAW_IMAGE_2: the same filesystem under another image id (a container's commit with another LABEL; no second import). */
async function commitOpenclawBuild2(sock: string): Promise<void> {
  const tmp = `sayclaw-lab-build2-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const d = (args: string[]) => shAsync([DOCKER, '-H', `unix://${sock}`, ...args].map(q).join(' '), `docker ${args[0]}`);
  await d(['create', '--name', tmp, OPENCLAW_IMAGE]);
  await d(['commit', '-c', 'LABEL sayclaw.lab.build=2', tmp, OPENCLAW_IMAGE_2]);
  await d(['rm', tmp]);
}

/**
 * A Docker data-root holding both real gateway images, built once per machine next to the
 * tarball (keyed by it and by the dockerd version) and reused by every lab engine that needs the
 * real gateway: `docker import` of the 695 MB tarball costs ~17 s of CPU per engine, this costs
 * a copy of a few hundred small files. The layers' `diff` directories (the root filesystem
 * itself, ~41,000 files) are kept out of the data-root, in `layers/<id>`, and an engine gets a
 * symlink to them: overlayfs only ever reads a lower directory, so every container's writes go
 * to its own upper directory in the engine's tmpfs and the shared layer is never changed (nor
 * removed: deleting an image or the lab unlinks the symlink). Built by the first lab that needs
 * it, in a temporary directory of its own renamed into place when complete (two labs building at
 * once both finish; the first rename wins, the other removes its copy).
 */
async function openclawDataRoot(): Promise<{ root: string; layers: string }> {
  const tar = openclawTarball();
  const version = /version ([^,\s]+)/.exec(execFileSync(DOCKERD, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const final = tar.replace(/\.tar$/, `.docker-${version}`);
  const done = { root: join(final, 'data-root'), layers: join(final, 'layers') };
  if (existsSync(join(final, 'complete'))) return done;
  if (!existsSync(tar)) throw new Error(`test lab: the OpenClaw gateway root filesystem ${tar} is missing; build it with: bash scripts/lab.sh install`);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'layers'), { recursive: true });
  const x = mkdtempSync('/tmp/sclab-tpl-');
  const sock = join(x, 'd.sock');
  const p = spawnDockerd(join(tmp, 'data-root'), x, sock);
  try {
    await waitFor('dockerd (building the real gateway data-root)', 30000, () => dockerPing(sock));
    await importOpenclaw(sock);
    await commitOpenclawBuild2(sock);
  } finally {
    await stopProc(p, 30000);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    unmountUnder(x);
    rmSync(x, { recursive: true, force: true });
  }
  const ov = join(tmp, 'data-root', 'overlay2');
  for (const id of readdirSync(ov)) {
    if (id === 'l' || !existsSync(join(ov, id, 'diff'))) continue;
    renameSync(join(ov, id, 'diff'), join(tmp, 'layers', id));
  }
  writeFileSync(join(tmp, 'complete'), `${new Date().toISOString()}\n`);
  try { renameSync(tmp, final); } catch { rmSync(tmp, { recursive: true, force: true }); }
  return done;
}

/** Run a shell command without blocking the event loop (imports take seconds). */
function shAsync(cmd: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`test lab: ${what} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** How long a beforeAll that starts a lab with realGateways may take: the lock wait included. */
export const REAL_LAB_SETUP_MS = 1_800_000;

/**
 * One lab with real OpenClaw gateways at a time on this machine, across jest workers and across
 * the two CI passes (Node 20 and Node 24 side by side). A real gateway takes ~16 s of CPU to start
 * and, starved, misses its own 5 s state-lease heartbeat and starts over: two such labs at once on
 * 2 cores (5 gateways starting together) were seen to livelock past a 300 s readiness wait. The
 * lock is a Linux abstract unix socket: nothing on disk, and the kernel frees it when its holder
 * exits, however it exits. Resolves with the release function once held.
 */
export async function realGatewayLock(what: string, name = '\0sayclaw-test-real-gateways'): Promise<() => Promise<void>> {
  const t0 = Date.now();
  for (let said = false; ; ) {
    const server = createServer();
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', resolve);
      server.listen({ path: name, exclusive: true }, () => resolve(null));
    });
    if (!err) {
      server.unref();
      if (said && process.env.SAYCLAW_LAB_DEBUG) process.stderr.write(`test lab: ${what} got the real-gateway lock after ${Date.now() - t0} ms\n`);
      return () => new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (err.code !== 'EADDRINUSE') throw new Error(`test lab: the real-gateway lock: ${err.message}`);
    said = true;
    await new Promise((r) => setTimeout(r, 500));
  }
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
  let unlock: (() => Promise<void>) | null = null;
  // short path: unix socket paths are limited to 108 bytes
  ensureLabUser();
  const dir = mkdtempSync('/tmp/sclab-');
  // The lab lives in memory: an engine that imported the real gateway holds ~40,000 files
  // (700 MB), which a shared disk takes minutes to write and to remove; on tmpfs the import is
  // quicker and close() only unmounts. Pages are used only as written. On disk if mount fails.
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8g,mode=0711', 'sayclaw-lab', dir], { stdio: 'ignore' }); } catch { /* stays on disk */ }
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

  const openclawImports = new Map<string, Promise<string>>();

  const lab: Lab = {
    dir, clientKey, tls, servers, engines,
    docker(s, args) {
      const sock = 'engine' in s ? s.engine.sock : s.sock;
      return execFileSync(DOCKER, ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    },
    dockerAsync(s, args) {
      const sock = 'engine' in s ? s.engine.sock : s.sock;
      return new Promise((resolve, reject) => execFile(DOCKER, ['-H', `unix://${sock}`, ...args], { encoding: 'utf8' }, (err, out, errOut) =>
        (err ? reject(new Error(`docker ${args.join(' ')}: ${errOut.trim() || err.message}`)) : resolve(out.trim()))));
    },
    runGateway(s, name, port, o = {}) {
      return lab.docker(s, ['run', '-d', '--name', name, '--network', 'host', '--restart', 'no',
        '-e', `OPENCLAW_GATEWAY_PORT=${port}`, '-e', `LIVE=${o.live === false ? 0 : 1}`, '-e', `READY=${o.ready === false ? 0 : 1}`,
        ...(o.old ? ['-e', 'GW_MODE=old'] : []), LAB_IMAGE]);
    },
    openclawImage(s, build = 1) {
      const e = 'engine' in s ? s.engine : s;
      const key = `${e.index}:${build}`;
      let p = openclawImports.get(key);
      if (!p) {
        // an engine outside realGateways: imported now (~17 s of CPU); build 2 after build 1
        p = build === 1 ? importOpenclaw(e.sock).then(() => OPENCLAW_IMAGE)
          : lab.openclawImage(e, 1).then(() => commitOpenclawBuild2(e.sock)).then(() => OPENCLAW_IMAGE_2);
        p.catch(() => openclawImports.delete(key));
        openclawImports.set(key, p);
      }
      return p;
    },
    async runOpenclaw(s, name, port, o) {
      const image = o.image ?? OPENCLAW_IMAGE;
      if (image === OPENCLAW_IMAGE || image === OPENCLAW_IMAGE_2) await lab.openclawImage(s, image === OPENCLAW_IMAGE ? 1 : 2);
      return lab.docker(s, ['run', '-d', '--name', name, '--network', 'host', '--restart', 'no',
        '-e', `OPENCLAW_GATEWAY_PORT=${port}`, '-e', `OPENCLAW_GATEWAY_TOKEN=${o.token}`,
        '-v', `${o.volume ?? `${name}-state`}:/home/node/.openclaw`, image]);
    },
    async holdRealGateways() {
      if (unlock) return;
      const release = await realGatewayLock(`lab ${opts.namePrefix ?? 'lab'}`);
      const before = getPriority();
      try { setPriority(REAL_NICE); } catch { /* not root: as it is */ }
      unlock = async () => {
        try { setPriority(before); } catch { /* as it is */ }
        await release();
      };
    },
    async releaseRealGateways() {
      const u = unlock;
      unlock = null;
      await u?.();
    },
    async stopEngine(e) {
      const p = e.proc;
      if (!p || p.exitCode !== null) return;
      await stopProc(p);
      e.proc = null;
    },
    async startEngine(e) {
      const log = join(e.dir, 'dockerd.log');
      const real = e.index < (opts.realGateways ?? 0) && process.getuid?.() === 0;
      const p = spawnDockerd(join(e.dir, 'data'), e.dir, e.sock, ['--group', LAB_USER,
        ...(serverTls && e.tlsPort ? ['--tlsverify', '--tlscacert', serverTls.ca, '--tlscert', serverTls.cert, '--tlskey', serverTls.key, '-H', `tcp://127.0.0.1:${e.tlsPort}`] : []),
        ...(real ? realCgroupFlags() : []),
      ], real ? REAL_NICE : undefined);
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
    gatewayPort,
    async close() {
      try { await closeLab(); } finally { await unlock?.(); unlock = null; }
    },
  };
  const closeLab = async () => {
    const t0 = Date.now();
    const dbg = (m: string) => { if (process.env.SAYCLAW_LAB_DEBUG) process.stderr.write(`lab close: ${m} at ${Date.now() - t0} ms\n`); };
    for (const s of servers) s.proc.kill('SIGTERM');
    // dockerd would wait 10 s for containers whose PID 1 ignores SIGTERM (busybox) and real
    // gateways drain for seconds: the lab needs neither
    await Promise.all(engines.filter((e) => e.proc && e.proc.exitCode === null).map((e) => shAsync(`${q(DOCKER)} -H ${q(`unix://${e.sock}`)} ps -q | xargs -r ${q(DOCKER)} -H ${q(`unix://${e.sock}`)} kill`, 'docker kill').catch(() => undefined)));
    dbg('containers killed');
    await Promise.all(engines.map((e) => lab.stopEngine(e)));
    dbg('engines stopped');
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    releaseGatewayPorts();
    // overlay mounts under data-root are gone once dockerd stopped; remove what is left
    unmountUnder(dir);
    dbg('unmounted');
    // on tmpfs nothing is left but the mount point; on disk rm(1) beats node's recursive rmSync
    await shAsync(`rm -rf ${q(dir)}`, 'rm -rf').catch(() => rmSync(dir, { recursive: true, force: true }));
    dbg('removed');
  };

  try {
    if (opts.realGateways && opts.lockAtStart !== false) await lab.holdRealGateways();
    // engines in parallel; the image is imported into each (no registry, no pull)
    const tar = join(dir, 'busybox-gateway.tar');
    if (nEngines > 0) execFileSync('tar', ['-C', buildRootfs(dir), '-cf', tar, '.']);
    for (let i = 0; i < nEngines; i++) {
      const edir = join(dir, `e${i}`);
      mkdirSync(edir);
      engines.push({ index: i, dir: edir, sock: join(edir, 'd.sock'), proc: null, tlsPort: opts.tls ? await freePort() : undefined });
    }
    const nReal = Math.min(opts.realGateways ?? 0, nEngines);
    const tpl = nReal > 0 ? await openclawDataRoot() : null;
    await Promise.all(engines.map(async (e) => {
      if (tpl && e.index < nReal) {
        // both real images in place before dockerd starts (see openclawDataRoot)
        await shAsync(`cp -a ${q(tpl.root)} ${q(join(e.dir, 'data'))}`, 'cp -a of the real gateway data-root');
        for (const id of readdirSync(tpl.layers)) symlinkSync(join(tpl.layers, id), join(e.dir, 'data', 'overlay2', id, 'diff'));
        openclawImports.set(`${e.index}:1`, Promise.resolve(OPENCLAW_IMAGE));
        openclawImports.set(`${e.index}:2`, Promise.resolve(OPENCLAW_IMAGE_2));
      }
      await lab.startEngine(e);
      const dk = `${q(DOCKER)} -H ${q(`unix://${e.sock}`)}`;
      const cmd = `-c ${q('CMD ["/bin/gateway"]')}`;
      await Promise.all([
        shAsync(`${dk} import ${cmd} - ${LAB_IMAGE} < ${q(tar)}`, 'docker import'),
        shAsync(`${dk} import ${cmd} -c 'ENV READY=0' - ${LAB_IMAGE_NEVER_READY} < ${q(tar)}`, 'docker import'),
        shAsync(`${dk} import ${cmd} -c 'ENV GW_MODE=old' - ${LAB_IMAGE_OLD} < ${q(tar)}`, 'docker import'),
      ]);
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
      // sshd takes the first value of a keyword: the extra lines come first so they can override
      // the lab's own (LogLevel DEBUG1, DisableForwarding yes); SetEnv among them would replace the lab's
      writeFileSync(join(sdir, 'sshd_config'), [
        ...(opts.sshdConfig?.(i) ?? []),
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

export interface LabGateway { id: string; server: string; kind: string; url: string }

/**
 * For `scripts/lab.sh up`: one running gateway container per server, registered as an instance
 * (so `instances logs/health/restart` work at once): a real OpenClaw gateway on the first server
 * when the lab tarball is built, busybox stand-ins elsewhere, plus a never-ready and an
 * old-image one on the last server. Call after register().
 */
export async function runLabGateways(lab: Lab, db: Kysely<MysqlDB>): Promise<LabGateway[]> {
  const out: LabGateway[] = [];
  const add = async (s: LabServer, id: string, kind: string, start: (port: number, token: string) => Promise<unknown> | unknown, realGateway = false) => {
    const port = realGateway ? lab.gatewayPort() : await lab.freePort();
    const token = `gwt_${crypto.randomUUID().replace(/-/g, '')}`;
    await start(port, token);
    await db.insertInto('admin.oc_instances').values({ id, server_id: s.id!, name: id, gateway_port: port, gateway_url: `http://127.0.0.1:${port}`,
      gateway_token: token, model: 'gpt-4o', health_status: 'unknown', config_json: JSON.stringify({ gateway: { port, auth: { mode: 'token', token } } }) }).execute();
    out.push({ id, server: s.name, kind, url: `http://127.0.0.1:${port}` });
  };
  const real = existsSync(openclawTarball());
  for (const [i, s] of lab.servers.entries()) {
    if (!s.id) throw new Error('test lab: register() the servers first');
    if (s.engine.index < 0) continue;
    const id = `oc-lab-${String(i + 1).padStart(2, '0')}`;
    if (i === 0 && real) await add(s, id, `real OpenClaw ${OPENCLAW_VERSION} gateway (${OPENCLAW_IMAGE})`, (p, token) => lab.runOpenclaw(s, id, p, { token }), true);
    else await add(s, id, `busybox stand-in (${LAB_IMAGE}, ready)`, (p) => lab.runGateway(s, id, p));
  }
  const last = lab.servers[lab.servers.length - 1];
  if (last && last.engine.index >= 0) {
    await add(last, 'oc-lab-never', `busybox stand-in (${LAB_IMAGE_NEVER_READY}: /readyz 503 startup-sidecars forever)`, (p) => lab.runGateway(last, 'oc-lab-never', p, { ready: false }));
    await add(last, 'oc-lab-old', `busybox stand-in (${LAB_IMAGE_OLD}: 200 HTML everywhere, like images before 2026.3)`, (p) => lab.runGateway(last, 'oc-lab-old', p, { old: true }));
  }
  if (!real) out.push({ id: '(none)', server: '-', kind: `no real gateway: ${openclawTarball()} is not built (bash scripts/lab.sh install)`, url: '-' });
  // the stand-ins answer at once for whoever uses the lab next: wait until each listens (a
  // container's shell takes a moment to start nc, longer on a loaded machine)
  await Promise.all(out.filter((g) => g.kind.startsWith('busybox')).map((g) =>
    waitFor(`stand-in ${g.id} listening on ${g.url}`, 60000, () => tcpOpen(Number(new URL(g.url).port)))));
  return out;
}
