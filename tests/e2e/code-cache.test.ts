// bin/sayclaw's V8 code cache: written after a successful run, used by the next, and never able
// to change what a command does: missing, corrupt, unwritable or turned off, it only costs speed.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBin } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet } from '../support/fixtures.js';

let t: TestEnv;
let dir: string;
beforeAll(async () => { t = await createTestEnv({ withPg: false }); });
afterAll(async () => { await t?.close(); });
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'sayclaw-cache-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const caches = (d: string) => readdirSync(d).filter((f) => /^v8-[0-9a-f]{8}-[0-9a-f]{8}\.bin$/.test(f));

test('--version alone is answered from dist/version without loading the bundle (no cache written)', async () => {
  const env = { ...t.env, SAYCLAW_CACHE_DIR: join(dir, 'c') };
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(await runBin(['--version'], env)).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  expect(await runBin(['-V'], env)).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  // with anything else on the line the bundle answers, as before
  expect(await runBin(['--version', '--no-color'], env)).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  expect(caches(join(dir, 'c'))).toHaveLength(1);
});

test('written once per verb after a success, then read; a different verb gets its own file', async () => {
  const env = { ...t.env, SAYCLAW_CACHE_DIR: join(dir, 'c') };
  const first = await runBin(['help', 'exit-codes'], env);
  expect(first).toMatchObject({ code: 0, stderr: '' });
  const files = caches(join(dir, 'c'));
  expect(files).toHaveLength(1);
  const file = join(dir, 'c', files[0]!);
  expect(statSync(join(dir, 'c')).mode & 0o777).toBe(0o700);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const before = statSync(file).mtimeMs;
  const second = await runBin(['help', 'exit-codes'], env);
  expect(second).toEqual(first);
  expect(statSync(file).mtimeMs).toBe(before); // accepted: not rewritten
  await runBin(['--help'], env);
  expect(caches(join(dir, 'c'))).toHaveLength(2);
  // a failed run (bad input, exit 2) writes nothing
  const bad = await runBin(['instances', 'frobnicate'], env);
  expect(bad.code).toBe(2);
  expect(caches(join(dir, 'c'))).toHaveLength(2);
  expect(readdirSync(join(dir, 'c')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('--help: the text a run of this build printed is printed again without the bundle, per words asked and per NO_COLOR', async () => {
  const env = { ...t.env, SAYCLAW_CACHE_DIR: join(dir, 'h') };
  const helps = () => readdirSync(join(dir, 'h')).filter((f) => /^help-[0-9a-f]{8}-[0-9a-f]{8}\.txt$/.test(f));
  const first = await runBin(['instances', '--help'], env);
  expect(first).toMatchObject({ code: 0, stderr: '' });
  expect(first.stdout).toMatch(/^Usage: sayclaw instances/);
  expect(helps()).toHaveLength(1);
  expect(statSync(join(dir, 'h', helps()[0]!)).mode & 0o777).toBe(0o600);
  expect(readFileSync(join(dir, 'h', helps()[0]!), 'utf8')).toBe(first.stdout);
  // the kept text is what is printed (marked here to see it is the file that answered)
  writeFileSync(join(dir, 'h', helps()[0]!), `${first.stdout}kept\n`);
  expect((await runBin(['instances', '--help'], env)).stdout).toBe(`${first.stdout}kept\n`);
  // other words, or other colour settings: their own text
  expect((await runBin(['instances', 'ls', '--help'], env)).stdout).toMatch(/^Usage: sayclaw instances ls/);
  expect((await runBin(['instances', '--help'], { ...env, NO_COLOR: '1' })).stdout).toBe(first.stdout);
  expect(helps()).toHaveLength(3);
  // anything but plain words before --help goes through the bundle and is not kept
  expect((await runBin(['instances', '--prefix', 'x', '--help'], env)).code).toBe(0);
  expect(helps()).toHaveLength(3);
});

test('a corrupt cache is rejected by V8, the command runs as usual and the file is replaced', async () => {
  const env = { ...t.env, SAYCLAW_CACHE_DIR: dir };
  const good = await runBin(['help', 'exit-codes'], env);
  const [name] = caches(dir);
  writeFileSync(join(dir, name!), Buffer.from('not a V8 code cache'.repeat(100)));
  const again = await runBin(['help', 'exit-codes'], env);
  expect(again).toEqual(good);
  expect(readFileSync(join(dir, name!)).toString('latin1')).not.toContain('not a V8 code cache');
});

test('off, or an unusable cache directory: same output, nothing written, no error', async () => {
  const off = await runBin(['help', 'exit-codes'], { ...t.env, SAYCLAW_CACHE_DIR: dir, SAYCLAW_CODE_CACHE: 'off' });
  expect(off).toMatchObject({ code: 0, stderr: '' });
  expect(readdirSync(dir)).toEqual([]);
  writeFileSync(join(dir, 'file'), '');
  const unusable = await runBin(['help', 'exit-codes'], { ...t.env, SAYCLAW_CACHE_DIR: join(dir, 'file', 'sub') });
  expect(unusable).toEqual(off);
});

test('instances ls prints the same bytes compiled from source and from the cache (the bundle and its mysql2 and kysely chunks)', async () => {
  await loadFleet(t.db, generateFleet({ seed: 7, prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-us-1-': 3 } }));
  const env = { ...t.env, SAYCLAW_CACHE_DIR: dir };
  const argv = ['instances', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'json'];
  const cold = await runBin(argv, env);
  expect(cold.code).toBe(0);
  // one file each for dist/main.cjs, dist/vendor/mysql2.cjs and dist/vendor/kysely.cjs
  expect(caches(dir)).toHaveLength(3);
  const mtimes = caches(dir).map((f) => statSync(join(dir, f)).mtimeMs);
  const warm = await runBin(argv, env);
  expect(caches(dir).map((f) => statSync(join(dir, f)).mtimeMs)).toEqual(mtimes); // all three accepted
  const off = await runBin(argv, { ...env, SAYCLAW_CODE_CACHE: 'off' });
  expect(JSON.parse(cold.stdout).length).toBeGreaterThan(0);
  expect(warm).toEqual(cold);
  expect(off).toEqual(cold);
});

test('the cache is bounded: newest files kept up to SAYCLAW_CACHE_MAX_MB, old builds and stale temporary files removed', async () => {
  const env = { ...t.env, SAYCLAW_CACHE_DIR: dir, SAYCLAW_CACHE_MAX_MB: '1' };
  const { utimesSync } = await import('node:fs');
  const old = (name: string, ageMs: number, bytes = 1000) => {
    writeFileSync(join(dir, name), Buffer.alloc(bytes));
    const t0 = (Date.now() - ageMs) / 1000;
    utimesSync(join(dir, name), t0, t0);
  };
  old('v8-00000000-00000001.bin', 2 * 86400e3); // another build, two days old: goes
  old('v8-00000000-00000002.bin', 3600e3); // another build, an hour old: kept while under the cap
  old('v8-00000000-00000003.bin.123.tmp', 2 * 3600e3); // a crashed write: goes
  const size = () => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const verbs = [['help', 'exit-codes'], ['--help'], ['schema', 'print'], ['completion', 'bash'], ['help', 'instances', 'rm'], ['config', 'show']];
  const outputs: string[] = [];
  for (const v of verbs) {
    const r = await runBin(v, env);
    expect(r.code).toBe(0);
    outputs.push(r.stdout);
    // never more than the cap plus what this run just wrote (one file per verb here)
    const newest = readdirSync(dir).map((f) => statSync(join(dir, f))).sort((a, b) => b.mtimeMs - a.mtimeMs)[0]!;
    expect(size()).toBeLessThanOrEqual(1048576 + newest.size);
  }
  const names = readdirSync(dir);
  expect(names).not.toContain('v8-00000000-00000001.bin');
  expect(names).not.toContain('v8-00000000-00000003.bin.123.tmp');
  // each main-bundle cache is ~0.4 MB: of six verbs only the newest few are left
  expect(caches(dir).length).toBeLessThan(verbs.length);
  expect(caches(dir).length).toBeGreaterThan(0);
  // an evicted verb is compiled again and prints the same
  for (const [i, v] of verbs.entries()) expect((await runBin(v, env)).stdout).toBe(outputs[i]);
  // without a cap set, the default (32 MB) keeps all of these: every file written stays
  rmSync(dir, { recursive: true, force: true });
  const seen = new Set<string>();
  for (const v of verbs) {
    await runBin(v, { ...t.env, SAYCLAW_CACHE_DIR: dir });
    for (const f of caches(dir)) seen.add(f);
  }
  expect(caches(dir).sort()).toEqual([...seen].sort());
  expect(size()).toBeGreaterThan(1048576);
});
