// Installing on a workstation or bastion as the README says: `npm pack`, then
// `npm install -g ./sayclaw-*.tgz` (here into a temporary prefix), and the installed command run
// from another directory against the test databases. Needs the build (npm run build) and the
// npm cache or registry for the dependencies.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { tempDir } from '../support/tmp.js';

const ROOT = realpathSync(new URL('../..', import.meta.url).pathname);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 280000 });

let t: TestEnv;
let dir: string;
beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  await t.db.insertInto('admin.oc_instances').values({ id: 'oc-inst-01', name: 'oc-inst-01', gateway_port: 1 }).execute();
  dir = tempDir('install');
});
afterAll(async () => { await t?.close(); });

test('npm pack + npm install -g of the tarball gives a working sayclaw, run from another directory', () => {
  // --ignore-scripts: the build is already there (prepare would rebuild dist/ under other running tests)
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['bin/sayclaw', 'dist/main.cjs', 'dist/version', 'config.example.json', 'README.md']));
  // what an operator's machine needs, not the sources, tests or the demo loader
  expect(files.filter((f) => /^(src|commands|tests|scripts|bench|dist\/demo)\//.test(f))).toEqual([]);
  const tgz = readdirSync(dir).find((f) => /^sayclaw-.*\.tgz$/.test(f))!;
  expect(tgz).toBe(`sayclaw-${pkg.version}.tgz`);

  const prefix = join(dir, 'prefix');
  npm(['install', '-g', '--prefix', prefix, `./${tgz}`, '--prefer-offline', '--no-audit', '--no-fund'], dir);

  const elsewhere = mkdtempSync(join(dir, 'cwd-'));
  const env = { ...t.env, PATH: `${join(prefix, 'bin')}:${t.env.PATH}`, HOME: join(dir, 'home') };
  const run = (args: string[]) => spawnSync('sayclaw', args, { cwd: elsewhere, env, encoding: 'utf8', timeout: 60000 });
  const v = run(['--version']);
  expect(v.stdout.trim()).toBe(pkg.version);
  const h = run(['--help']);
  expect(h.status).toBe(0);
  expect(h.stdout).toContain('instances ls');
  // the installed copy is the one on PATH, not this checkout
  expect(realpathSync(execFileSync('bash', ['-c', 'command -v sayclaw'], { env, encoding: 'utf8' }).trim())).toMatch(new RegExp(`^${prefix}/`));
  const ls = run(['instances', 'ls', '-o', 'name']);
  expect({ code: ls.status, stderr: ls.stderr }).toEqual({ code: 0, stderr: '' });
  expect(ls.stdout).toBe('oc-inst-01\n');
  // a dependency loaded on first use (bcryptjs, outside the bundle) came with the install
  const add = spawnSync('sayclaw', ['users', 'admins', 'add', '--email', 'installed@sayclaw.test', '--name', 'x', '--password-stdin'],
    { cwd: elsewhere, env, encoding: 'utf8', input: 'installed-password-1', timeout: 60000 });
  expect({ code: add.status, stderr: add.stderr }).toEqual({ code: 0, stderr: 'added admin account installed@sayclaw.test\n' });
}, 300000);
