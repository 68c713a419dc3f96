// keys against real MariaDB: master keys (AES-256-GCM) through every verb, tampering, wrong
// master keys, key file rules, re-encryption; instance key mapping problems; One API tokens with
// exact money. Every captured output and every admin_logs row is scanned for the secrets used.
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import type { Command } from 'commander';
import { createTestEnv, type TestEnv, type RunOptions, type RunResult } from '../support/testenv.js';
import { generateFleet, loadFleet } from '../support/fixtures.js';
import { buildProgram } from '../../commands/index.js';
import { masterKeyId } from '../../src/crypto/aesgcm.js';

let t: TestEnv;
const MK1 = randomBytes(32);
const MK2 = randomBytes(32);
let mk1File: string; let mk2File: string; let mkOpenFile: string; let mkGarbageFile: string;
const S1 = 'sk-proj-TESTSECRET0001aaaaBBBBccccDDDD1111';
const S2 = 'sk-ant-api03-SECRET0002-xyzXYZ9876543210';
const S3 = 'sk-rotated-SECRET0003-QQQQwwwwEEEErrrr';
const S4 = 'tamper-me-SECRET0004-0123456789abcdef';
const SECRETS = [S1, S2, S3, S4, `${S4}-v2`, `${S1}-v2`];
const KEY_TEXTS = [MK1.toString('hex'), MK2.toString('base64'), MK1.toString('base64'), MK2.toString('hex')];

/** Every run's output, with the secrets it is allowed to show (only `reveal` shows one). */
const captured: Array<{ argv: string[]; r: RunResult; allowed: string[] }> = [];
async function run(argv: string[], o: RunOptions & { allow?: string[] } = {}): Promise<RunResult> {
  const r = await t.run(argv, { ...o, env: { SAYCLAW_MASTER_KEY_FILE: mk1File, ...o.env } });
  captured.push({ argv, r, allowed: o.allow ?? [] });
  return r;
}
const ids: Record<string, string> = {};
const row = (id: string) => t.db.selectFrom('admin.api_master_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  mk1File = join(t.tmp, 'mk1.key'); writeFileSync(mk1File, `  ${MK1.toString('hex')}\n\n`, { mode: 0o600 });
  mk2File = join(t.tmp, 'mk2.key'); writeFileSync(mk2File, `${MK2.toString('base64')}\n`, { mode: 0o600 });
  mkOpenFile = join(t.tmp, 'open.key'); writeFileSync(mkOpenFile, MK1.toString('hex')); chmodSync(mkOpenFile, 0o644);
  mkGarbageFile = join(t.tmp, 'garbage.key'); writeFileSync(mkGarbageFile, 'not a key at all', { mode: 0o600 });
});
afterAll(async () => { await t?.close(); });

describe('master keys: add, ls, verify, reveal', () => {
  test('ls on an empty table works without a master key', async () => {
    const r = await run(['keys', 'ls'], { env: { SAYCLAW_MASTER_KEY_FILE: undefined } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('0 active master keys (--all shows rotated and revoked ones)\n');
  });

  test('add with --secret-stdin stores base64(0x01|iv|tag|ct) and a fingerprint', async () => {
    const r = await run(['keys', 'add', '--provider', 'openai', '--name', 'prod', '--secret-stdin', '-o', 'json'], { stdin: `${S1}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    ids.openai = j.id;
    const sha8 = createHash('sha256').update(S1).digest('hex').slice(0, 8);
    expect(j.fingerprint).toBe(`sk-proj-...1111 ${sha8}`);
    expect(j.master_key_id).toBe(masterKeyId(MK1));
    const db = await row(j.id);
    const raw = Buffer.from(db.encrypted_key, 'base64');
    expect(raw[0]).toBe(1);
    expect(raw.length).toBe(1 + 12 + 16 + Buffer.byteLength(S1));
    expect(db.key_hint).toBe(j.fingerprint);
    expect(db.status).toBe('active');
  });

  test('add from a no-echo TTY prompt', async () => {
    const r = await run(['keys', 'add', '--provider', 'anthropic', '--name', 'main'], { tty: true, answers: [S2] });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sk-ant-...3210');
    ids.anthropic = (await t.db.selectFrom('admin.api_master_keys').select('id').where('provider', '=', 'anthropic').executeTakeFirstOrThrow()).id;
  });

  test('add refuses: no secret without a TTY, duplicate name, short secret, bad provider', async () => {
    const a = await run(['keys', 'add', '--provider', 'openai', '--name', 'x']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/no secret given.*--secret-stdin/);
    const d = await run(['keys', 'add', '--provider', 'openai', '--name', 'prod', '--secret-stdin'], { stdin: S3 });
    expect(d.code).toBe(2);
    expect(d.stderr).toContain(`keys rotate ${ids.openai}`);
    const s = await run(['keys', 'add', '--provider', 'openai', '--name', 'short', '--secret-stdin'], { stdin: 'abc' });
    expect(s.code).toBe(2);
    const two = await run(['keys', 'add', '--provider', 'openai', '--name', 'two', '--secret-stdin'], { stdin: `${S3}\n${S4}\n` });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/more than one line/);
    const p = await run(['keys', 'add', '--provider', 'open ai', '--name', 'x', '--secret-stdin'], { stdin: S3 });
    expect(p.code).toBe(2);
    const dry = await run(['keys', 'add', '--provider', 'openai', '--name', 'dry', '--secret-stdin', '--dry-run'], { stdin: S3 });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('dry run');
    expect(await t.db.selectFrom('admin.api_master_keys').select('id').where('name', '=', 'dry').execute()).toHaveLength(0);
  });

  test('ls in every format: fingerprints, never the key or the ciphertext', async () => {
    for (const f of ['table', 'wide', 'json', 'ndjson', 'csv', 'yaml', 'name']) {
      const r = await run(['keys', 'ls', '-o', f], { env: { SAYCLAW_MASTER_KEY_FILE: undefined } });
      expect(r.code).toBe(0);
      const enc = (await row(ids.openai!)).encrypted_key;
      expect(r.stdout).not.toContain(enc.slice(0, 20));
      if (f !== 'name') expect(r.stdout).toContain('sk-proj-...1111');
    }
    const j = JSON.parse((await run(['keys', 'ls', '-o', 'json'])).stdout);
    expect(j).toHaveLength(2);
    expect(Object.keys(j[0])).not.toContain('encrypted_key');
  });

  test('verify: all good, exit 0', async () => {
    const r = await run(['keys', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/openai\s+prod\s+active\s+ok/);
    expect(r.stderr).toContain('2 keys decrypt');
  });

  test('verify with --master-key-stdin', async () => {
    const r = await run(['keys', 'verify', '--master-key-stdin'], { stdin: MK1.toString('base64'), env: { SAYCLAW_MASTER_KEY_FILE: undefined } });
    expect(r.code).toBe(0);
  });

  test('reveal: refused to a pipe without --yes; asks on a TTY; wrong answer prints nothing; always audited', async () => {
    const pipe = await run(['keys', 'reveal', ids.openai!]);
    expect(pipe.code).toBe(2);
    expect(pipe.stdout).toBe('');
    const wrong = await run(['keys', 'reveal', ids.openai!], { tty: true, answers: ['nope'] });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    const ok = await run(['keys', 'reveal', ids.openai!], { tty: true, answers: [ids.openai!], allow: [S1] });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${S1}\n`);
    const yes = await run(['keys', 'reveal', ids.anthropic!, '--yes', '--reason', 'migrate'], { allow: [S2] });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toBe(`${S2}\n`);
    const logs = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'keys.reveal').execute();
    expect(logs).toHaveLength(2);
    expect(logs.map((l) => l.target_id).sort()).toEqual([ids.openai, ids.anthropic].sort());
    expect(logs.find((l) => l.target_id === ids.anthropic)!.reason).toBe('migrate');
    const nf = await run(['keys', 'reveal', 'no-such-id', '--yes']);
    expect(nf.code).toBe(4);
  });
});

describe('tampering and wrong master keys', () => {
  const regions: Array<[string, (len: number) => number]> = [
    ['iv', () => 1 + 5], ['tag', () => 1 + 12 + 7], ['ciphertext', (len) => len - 3], ['version byte', () => 0],
  ];
  test('setup: a key to tamper with', async () => {
    const r = await run(['keys', 'add', '--provider', 'deepseek', '--name', 'tamper', '--secret-stdin', '-o', 'json'], { stdin: S4 });
    expect(r.code).toBe(0);
    ids.tamper = JSON.parse(r.stdout).id;
  });

  test.each(regions)('one flipped byte in the %s: verify and reveal refuse it, no plaintext', async (_name, at) => {
    const orig = (await row(ids.tamper!)).encrypted_key;
    const raw = Buffer.from(orig, 'base64');
    raw[at(raw.length)]! ^= 0x01;
    await t.db.updateTable('admin.api_master_keys').set({ encrypted_key: raw.toString('base64') }).where('id', '=', ids.tamper!).execute();
    try {
      const v = await run(['keys', 'verify', '-o', 'json']);
      expect(v.code).toBe(3);
      const j = JSON.parse(v.stdout) as Array<{ id: string; result: string; problem: string }>;
      expect(j.find((x) => x.id === ids.tamper)).toMatchObject({ result: 'failed', problem: _name === 'version byte' ? 'unknown_version' : 'tampered' });
      expect(j.filter((x) => x.result === 'ok')).toHaveLength(2);
      expect(v.stderr).toMatch(/1 of 3 keys fail authentication/);
      const rv = await run(['keys', 'reveal', ids.tamper!, '--yes']);
      expect(rv.code).toBe(1);
      expect(rv.stdout).toBe('');
      expect(rv.stderr).toMatch(/cannot reveal master key .*nothing printed/);
      expect(rv.stderr.trim().split('\n')).toHaveLength(2); // the "reveal ..." notice and the error
    } finally {
      await t.db.updateTable('admin.api_master_keys').set({ encrypted_key: orig }).where('id', '=', ids.tamper!).execute();
    }
    expect((await run(['keys', 'verify'])).code).toBe(0);
  });

  test('a ciphertext copied onto another row fails (id and provider are bound as AAD)', async () => {
    const a = await row(ids.openai!);
    const b = await row(ids.tamper!);
    await t.db.updateTable('admin.api_master_keys').set({ encrypted_key: a.encrypted_key }).where('id', '=', b.id).execute();
    try {
      const v = await run(['keys', 'verify']);
      expect(v.code).toBe(3);
      const rv = await run(['keys', 'reveal', b.id, '--yes']);
      expect(rv.code).toBe(1);
      expect(rv.stdout).toBe('');
    } finally {
      await t.db.updateTable('admin.api_master_keys').set({ encrypted_key: b.encrypted_key }).where('id', '=', b.id).execute();
    }
    // a changed provider fails too
    await t.db.updateTable('admin.api_master_keys').set({ provider: 'openai' }).where('id', '=', b.id).execute();
    try {
      expect((await run(['keys', 'verify'])).code).toBe(3);
    } finally {
      await t.db.updateTable('admin.api_master_keys').set({ provider: 'deepseek' }).where('id', '=', b.id).execute();
    }
  });

  test('the wrong master key: verify explains it (exit 3), reveal exits 5 with nothing printed, add refuses', async () => {
    const env = { SAYCLAW_MASTER_KEY_FILE: mk2File };
    const v = await run(['keys', 'verify'], { env });
    expect(v.code).toBe(3);
    expect(v.stdout).toMatch(/wrong_master_key/);
    expect(v.stderr).toMatch(/no stored key decrypts with the master key from file:.*mk2\.key .*most likely the wrong master key file/);
    const w = await run(['keys', 'verify', '-o', 'wide'], { env });
    expect(w.stdout).toContain(`encrypted with another master key (id ${masterKeyId(MK1)}`);
    const rv = await run(['keys', 'reveal', ids.openai!, '--yes'], { env });
    expect(rv.code).toBe(5);
    expect(rv.stdout).toBe('');
    expect(rv.stderr).toMatch(/encrypted with another master key/);
    const add = await run(['keys', 'add', '--provider', 'openai', '--name', 'other', '--secret-stdin'], { env, stdin: S3 });
    expect(add.code).toBe(5);
    expect(add.stderr).toMatch(/is not the one the stored keys use/);
    const failed = await t.db.selectFrom('admin.admin_logs').select('after_json').where('action', '=', 'keys.reveal').where('target_id', '=', ids.openai!).execute();
    expect(failed.some((l) => l.after_json!.includes('refused: wrong_master_key'))).toBe(true);
  });

  test('key file rules: group/other readable refused (exit 5), garbage, missing, a key passed as the path, none configured', async () => {
    const open = await run(['keys', 'verify', '--master-key-file', mkOpenFile]);
    expect(open.code).toBe(5);
    expect(open.stderr).toMatch(/readable or writable by group or others \(mode 0644\); refusing.*chmod 600/);
    const g = await run(['keys', 'verify', '--master-key-file', mkGarbageFile]);
    expect(g.code).toBe(5);
    expect(g.stderr).toMatch(/not a valid master key/);
    const m = await run(['keys', 'verify', '--master-key-file', join(t.tmp, 'missing.key')]);
    expect(m.code).toBe(5);
    const asValue = await run(['keys', 'verify', '--master-key-file', MK1.toString('hex')]);
    expect(asValue.code).toBe(2);
    expect(asValue.stderr).toMatch(/looks like a key \(not shown\)/);
    const envValue = await run(['keys', 'verify'], { env: { SAYCLAW_MASTER_KEY: MK1.toString('hex') } });
    expect(envValue.code).toBe(0);
    expect(envValue.stderr).toMatch(/SAYCLAW_MASTER_KEY is ignored/);
    const envOnly = await run(['keys', 'verify'], { env: { SAYCLAW_MASTER_KEY_FILE: undefined, SAYCLAW_MASTER_KEY: MK1.toString('hex') } });
    expect(envOnly.code).toBe(5);
    const none = await run(['keys', 'verify'], { env: { SAYCLAW_MASTER_KEY_FILE: undefined } });
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/no master key configured/);
    const cfg = join(t.tmp, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ keys: { masterKeyFile: mk1File } }));
    const viaConfig = await run(['--config', cfg, 'keys', 'verify'], { env: { SAYCLAW_MASTER_KEY_FILE: undefined } });
    expect(viaConfig.code).toBe(0);
  });
});

describe('rotate, revoke, reencrypt', () => {
  test('rotate: refused without a TTY and --yes; then new row, old one soft-deleted and linked', async () => {
    const no = await run(['keys', 'rotate', ids.openai!, '--secret-stdin'], { stdin: S3 });
    expect(no.code).toBe(2);
    expect((await row(ids.openai!)).status).toBe('active');
    const dry = await run(['keys', 'rotate', ids.openai!, '--dry-run']);
    expect(dry.code).toBe(0);
    const same = await run(['keys', 'rotate', ids.openai!, '--secret-stdin', '--yes'], { stdin: S1 });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/same as the current one/);
    const r = await run(['keys', 'rotate', ids.openai!, '--secret-stdin', '--yes', '-o', 'json'], { stdin: S3 });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.old_id).toBe(ids.openai);
    const old = await row(ids.openai!);
    expect(old.status).toBe('rotated');
    expect(old.deleted_at).not.toBeNull();
    expect(old.rotated_at).not.toBeNull();
    const nu = await row(j.new_id);
    expect(nu.rotated_from_id).toBe(ids.openai);
    expect(nu.status).toBe('active');
    ids.openaiOld = ids.openai!;
    ids.openai = j.new_id;
    const all = JSON.parse((await run(['keys', 'ls', '--all', '-o', 'json'])).stdout) as Array<{ id: string; rotated_to_id: string | null }>;
    expect(all.find((x) => x.id === ids.openaiOld)!.rotated_to_id).toBe(ids.openai);
    const active = JSON.parse((await run(['keys', 'ls', '-o', 'json'])).stdout) as Array<{ id: string }>;
    expect(active.map((x) => x.id)).not.toContain(ids.openaiOld);
    const rv = await run(['keys', 'reveal', ids.openai!, '--yes'], { allow: [S3] });
    expect(rv.stdout).toBe(`${S3}\n`);
    // on a TTY: the new secret from the no-echo prompt, then "type the id"
    const tty = await run(['keys', 'rotate', ids.tamper!], { tty: true, answers: [`${S4}-v2`, ids.tamper!] });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/new_id\s+[0-9a-f-]{36}/);
    expect((await row(ids.tamper!)).status).toBe('rotated');
    const badTty = await run(['keys', 'rotate', ids.openai!], { tty: true, answers: [`${S1}-v2`, 'wrong id'] });
    expect(badTty.code).toBe(2);
    expect((await row(ids.openai!)).status).toBe('active');
    const again = await run(['keys', 'rotate', ids.openaiOld!, '--secret-stdin', '--yes'], { stdin: S4 });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is rotated \(not active\)/);
  });

  test('revoke: dry run, confirmation by id on a TTY, re-runnable, unknown id exit 4', async () => {
    const dry = await run(['keys', 'revoke', ids.anthropic!, '--dry-run']);
    expect(dry.code).toBe(0);
    expect((await row(ids.anthropic!)).status).toBe('active');
    const tty = await run(['keys', 'revoke', ids.anthropic!, '--reason', 'leaked'], { tty: true, answers: [ids.anthropic!] });
    expect(tty.code).toBe(0);
    const r = await row(ids.anthropic!);
    expect(r.status).toBe('revoked');
    expect(r.revoked_at).not.toBeNull();
    expect(r.deleted_at).not.toBeNull();
    const again = await run(['keys', 'revoke', ids.anthropic!, '--yes']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already revoked/);
    expect((await run(['keys', 'revoke', 'nope', '--yes'])).code).toBe(4);
  });

  test('reencrypt: refuses while any key fails, changing nothing', async () => {
    const before = await t.db.selectFrom('admin.api_master_keys').select(['id', 'encrypted_key']).orderBy('id').execute();
    const orig = (await row(ids.tamper!)).encrypted_key;
    const raw = Buffer.from(orig, 'base64'); raw[raw.length - 1]! ^= 0x80;
    await t.db.updateTable('admin.api_master_keys').set({ encrypted_key: raw.toString('base64') }).where('id', '=', ids.tamper!).execute();
    try {
      const r = await run(['keys', 'reencrypt', '--new-master-key-file', mk2File, '--yes']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/nothing re-encrypted/);
      expect(r.stdout).toContain(ids.tamper!);
    } finally {
      await t.db.updateTable('admin.api_master_keys').set({ encrypted_key: orig }).where('id', '=', ids.tamper!).execute();
    }
    const after = await t.db.selectFrom('admin.api_master_keys').select(['id', 'encrypted_key']).orderBy('id').execute();
    expect(after).toEqual(before);
    const same = await run(['keys', 'reencrypt', '--new-master-key-file', mk1File, '--yes']);
    expect(same.code).toBe(2);
    const noYes = await run(['keys', 'reencrypt', '--new-master-key-file', mk2File]);
    expect(noYes.code).toBe(2);
    const open = await run(['keys', 'reencrypt', '--new-master-key-file', mkOpenFile, '--yes']);
    expect(open.code).toBe(5);
  });

  test('reencrypt: every row (rotated and revoked too) moves to the new key in one go', async () => {
    const r = await run(['keys', 'reencrypt', '--new-master-key-file', mk2File, '--yes', '-o', 'json']);
    expect(r.stderr).toMatch(/verified/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ count: 5, from_master_key_id: masterKeyId(MK1), to_master_key_id: masterKeyId(MK2) });
    const rows = await t.db.selectFrom('admin.api_master_keys').select('master_key_id').execute();
    expect(new Set(rows.map((x) => x.master_key_id))).toEqual(new Set([masterKeyId(MK2)]));
    expect((await run(['keys', 'verify', '--all'])).code).toBe(3);
    const ok = await run(['keys', 'verify', '--all'], { env: { SAYCLAW_MASTER_KEY_FILE: mk2File } });
    expect(ok.code).toBe(0);
    const rv = await run(['keys', 'reveal', ids.openaiOld!, '--yes'], { env: { SAYCLAW_MASTER_KEY_FILE: mk2File }, allow: [S1] });
    expect(rv.stdout).toBe(`${S1}\n`);
    const audit = await t.db.selectFrom('admin.admin_logs').selectAll().where('action', '=', 'keys.reencrypt').execute();
    expect(audit).toHaveLength(1);
  });

  test('every write left one audit row', async () => {
    const logs = await t.db.selectFrom('admin.admin_logs').select(['action', 'target_type', 'os_user']).execute();
    const count = (a: string) => logs.filter((l) => l.action === a).length;
    expect(count('keys.add')).toBe(3);
    expect(count('keys.rotate')).toBe(2);
    expect(count('keys.revoke')).toBe(1);
    expect(logs.every((l) => l.os_user === 'tester')).toBe(true);
  });
});

describe('instance API keys: keys oc ls', () => {
  const NOW = new Date(Date.UTC(2026, 10, 24, 12, 0, 0));
  test('setup: a fleet with broken mappings', async () => {
    const fleet = generateFleet({ seed: 7, prefixes: { 'oc-ai-jp-2-': 12, 'oc-ai-us-1-': 3 }, deletedRatio: 0.2, logsPerInstance: 0 });
    await loadFleet(t.db, fleet);
    const tok = (id: string) => fleet.instances.find((i) => i.id === id)!.token_id;
    await t.db.updateTable('oneapi.tokens').set({ status: '2' }).where('id', '=', String(tok('oc-ai-jp-2-02'))).execute();
    await t.db.updateTable('oneapi.tokens').set({ status: '4', remain_quota: '0' }).where('id', '=', String(tok('oc-ai-jp-2-03'))).execute();
    await t.db.updateTable('oneapi.tokens').set({ expired_time: String(Math.floor(NOW.getTime() / 1000) - 60) }).where('id', '=', String(tok('oc-ai-jp-2-04'))).execute();
    await t.db.updateTable('oneapi.tokens').set({ accessed_time: String(Math.floor(NOW.getTime() / 1000) - 3600) }).where('id', '=', String(tok('oc-ai-jp-2-05'))).execute();
    await t.db.insertInto('admin.oc_instances').values({ id: 'oc-ai-jp-2-100', container_id: null, server_id: null, assigned_user_id: null, name: null,
      gateway_port: null, gateway_url: null, gateway_token: null, model: null, last_health_at: null, created_at: NOW, deleted_at: null, notes: null,
      config_json: null, total_requests: '0', total_tokens: '0' }).execute();
    await t.db.insertInto('admin.oc_api_keys').values({ id: 'k-ghost', instance_id: 'oc-ai-jp-2-999', oneapi_token_id: '99999', oneapi_token_name: 'oc-ghost',
      key_hint: null, status: 'active', last_used_at: null, created_at: NOW, deleted_at: null }).execute();
    (globalThis as { fleet?: typeof fleet }).fleet = fleet;
  });

  test('problems: no key, deleted/missing instance, disabled/exhausted/expired/missing token', async () => {
    const r = await run(['keys', 'oc', 'ls', '--prefix', 'oc-ai-jp-2-', '-o', 'json'], { clock: () => NOW });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ instance_id: string; token_status: string; problems: string[]; last_used_at: string | null; oneapi_token_name: string }>;
    const by = (id: string) => rows.filter((x) => x.instance_id === id);
    expect(rows.every((x) => x.instance_id.startsWith('oc-ai-jp-2-'))).toBe(true);
    expect(by('oc-ai-jp-2-100')[0]!.problems).toEqual(['no_key']);
    expect(by('oc-ai-jp-2-999')[0]!.problems).toEqual(['instance_missing', 'token_missing']);
    const fleet = (globalThis as { fleet?: ReturnType<typeof generateFleet> }).fleet!;
    const alive = (id: string) => !fleet.instances.find((i) => i.id === id)!.deleted;
    for (const [id, p, s] of [['oc-ai-jp-2-02', 'token_disabled', 'disabled'], ['oc-ai-jp-2-03', 'token_exhausted', 'exhausted'],
      ['oc-ai-jp-2-04', 'token_expired', 'expired (status enabled)']] as const) {
      expect(by(id)[0]!.problems).toContain(p);
      expect(by(id)[0]!.token_status).toBe(s);
    }
    expect(by('oc-ai-jp-2-05')[0]!.last_used_at).toBe(new Date(NOW.getTime() - 3600_000).toISOString());
    for (const i of fleet.instances.filter((x) => x.id.startsWith('oc-ai-jp-2-') && x.deleted)) {
      expect(by(i.id)[0]!.problems).toContain('instance_deleted');
    }
    const clean = fleet.instances.find((x) => x.id.startsWith('oc-ai-jp-2-') && alive(x.id) && !['oc-ai-jp-2-02', 'oc-ai-jp-2-03', 'oc-ai-jp-2-04'].includes(x.id))!;
    expect(by(clean.id)[0]).toMatchObject({ problems: [], token_status: 'enabled', oneapi_token_name: clean.token_name });
    expect(r.stderr).toMatch(/\d+ problems: .*no_key/);
  });

  test('--problems filters and exits 3; table output; a prefix with no match', async () => {
    const r = await run(['keys', 'oc', 'ls', '--problems'], { clock: () => NOW });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^INSTANCE_ID\s+TOKEN_ID\s+TOKEN_NAME\s+TOKEN_STATUS\s+LAST_USED_AT\s+PROBLEMS/);
    const lines = r.stdout.trim().split('\n').slice(1);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l) => !/\s-$/.test(l))).toBe(true); // every row has a problem
    const us = await run(['keys', 'oc', 'ls', '--prefix', 'oc-ai-us-1-', '-o', 'name'], { clock: () => NOW });
    expect(us.stdout.trim().split('\n').every((l) => l.startsWith('oc-ai-us-1-'))).toBe(true);
    const none = await run(['keys', 'oc', 'ls', '--prefix', 'oc-ai-jp-2-0%']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
  });
});

describe('One API tokens: keys oneapi ls', () => {
  const NOW = new Date(Date.UTC(2026, 10, 24, 12, 0, 0));
  const nowSec = Math.floor(NOW.getTime() / 1000);
  test('setup', async () => {
    const base = { user_id: '1', created_time: String(nowSec - 86400), accessed_time: String(nowSec - 60), models: '', subnet: '', unlimited_quota: 0 };
    await t.db.insertInto('oneapi.tokens').values([
      { ...base, id: '5001', key: 'a'.repeat(44) + 'Z001', name: 'tk-big', status: '1', expired_time: '-1', remain_quota: '9007199254740993', used_quota: '1234567' },
      { ...base, id: '5002', key: 'b'.repeat(44) + 'Z002', name: 'tk-soon', status: '1', expired_time: String(nowSec + 3 * 86400), remain_quota: '500000', used_quota: '1' },
      { ...base, id: '5003', key: 'c'.repeat(44) + 'Z003', name: 'tk-later', status: '1', expired_time: String(nowSec + 30 * 86400), remain_quota: '1', used_quota: '0' },
      { ...base, id: '5004', key: 'd'.repeat(44) + 'Z004', name: 'tk-out', status: '4', expired_time: '-1', remain_quota: '0', used_quota: '500000' },
      { ...base, id: '5005', key: 'e'.repeat(44) + 'Z005', name: 'tk-zero', status: '1', expired_time: '-1', remain_quota: '-5', used_quota: '7' },
      { ...base, id: '5006', key: 'f'.repeat(44) + 'Z006', name: 'tk-unl', status: '1', expired_time: '-1', remain_quota: '0', used_quota: '3', unlimited_quota: 1 },
      { ...base, id: '5007', key: 'g'.repeat(44) + 'Z007', name: 'tk-off', status: '2', expired_time: '-1', remain_quota: '10', used_quota: '0' },
    ]).execute();
  });

  test('status names and exact money (quota / 500000, 6 places)', async () => {
    const r = await run(['keys', 'oneapi', 'ls', '--prefix', 'tk-', '-o', 'json'], { clock: () => NOW });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const by = (n: string) => rows.find((x) => x.name === n)!;
    expect(by('tk-big')).toMatchObject({ status: 'enabled', remain_quota: '9007199254740993', remain_usd: '18014398509.481986', used_quota: '1234567', used_usd: '2.469134', expires_at: null, expired_time: '-1' });
    expect(by('tk-soon')).toMatchObject({ remain_usd: '1.000000', used_usd: '0.000002', expires_at: new Date((nowSec + 3 * 86400) * 1000).toISOString() });
    expect(by('tk-out')).toMatchObject({ status: 'exhausted', remain_usd: '0.000000', used_usd: '1.000000' });
    expect(by('tk-zero')).toMatchObject({ status: 'enabled', effective_status: 'exhausted', remain_usd: '-0.000010' });
    expect(by('tk-unl')).toMatchObject({ unlimited_quota: true, remain_usd: null, effective_status: 'enabled' });
    expect(by('tk-off')).toMatchObject({ status: 'disabled' });
    expect(r.stdout).not.toContain('a'.repeat(44));
    const table = await run(['keys', 'oneapi', 'ls', '--prefix', 'tk-'], { clock: () => NOW });
    expect(table.stdout).toMatch(/tk-big\s+enabled\s+enabled\s+9007199254740993\s+18014398509\.481986\s+1234567\s+2\.469134\s+never/);
    expect(table.stdout).toMatch(/tk-unl\s+enabled\s+enabled\s+unlimited/);
  });

  test('--exhausted, --expiring-within, --status, another quotaPerUsd', async () => {
    const names = async (argv: string[]) => (await run(['keys', 'oneapi', 'ls', '--prefix', 'tk-', '-o', 'name', ...argv], { clock: () => NOW })).stdout.trim().split('\n').filter(Boolean);
    const ex = await run(['keys', 'oneapi', 'ls', '--prefix', 'tk-', '--exhausted', '-o', 'json'], { clock: () => NOW });
    expect((JSON.parse(ex.stdout) as Array<{ name: string }>).map((x) => x.name).sort()).toEqual(['tk-out', 'tk-zero']);
    expect(await names(['--expiring-within', '7d'])).toEqual(['5002']);
    expect((await names(['--expiring-within', '31d'])).sort()).toEqual(['5002', '5003']);
    expect(await names(['--status', 'disabled'])).toEqual(['5007']);
    const bad = await run(['keys', 'oneapi', 'ls', '--expiring-within', 'soon']);
    expect(bad.code).toBe(2);
    const other = await run(['keys', 'oneapi', 'ls', '--prefix', 'tk-soon', '-o', 'json', '--set', 'usage.quotaPerUsd=300000'], { clock: () => NOW });
    expect(JSON.parse(other.stdout)[0]).toMatchObject({ remain_usd: '1.666667', used_usd: '0.000003' });
  });
});

describe('concurrency', () => {
  test('keys add waits for a running re-encryption, then refuses the master key it replaced', async () => {
    // stand-in for `keys reencrypt` to a third key: lock every row, rewrite master_key_id, hold
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => { locked = r; });
    const trxDone = t.db.transaction().execute(async (trx) => {
      await trx.selectFrom('admin.api_master_keys').select('id').forUpdate().execute();
      await trx.updateTable('admin.api_master_keys').set({ master_key_id: 'ffffffff' }).where('id', 'is not', null).execute();
      locked();
      await held;
    });
    await isLocked;
    let finished = false;
    const addP = run(['keys', 'add', '--provider', 'openai', '--name', 'race', '--secret-stdin'], { stdin: S3, env: { SAYCLAW_MASTER_KEY_FILE: mk2File } })
      .then((r) => { finished = true; return r; });
    await new Promise((r) => setTimeout(r, 400));
    expect(finished).toBe(false);
    release();
    await trxDone;
    const r = await addP;
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/is not the one the stored keys use \(id ffffffff\)/);
    expect(await t.db.selectFrom('admin.api_master_keys').select('id').where('name', '=', 'race').execute()).toHaveLength(0);
    await t.db.updateTable('admin.api_master_keys').set({ master_key_id: masterKeyId(MK2) }).where('id', 'is not', null).execute();
  });
});

describe('no flag takes a secret; nothing leaks', () => {
  test('every keys option that takes a value is a path, a name or a filter, never a secret', async () => {
    const program = buildProgram();
    const keys = program.commands.find((c) => c.name() === 'keys')!;
    const walk = (c: Command): Command[] => [c, ...c.commands.flatMap(walk)];
    const valued: string[] = [];
    for (const c of walk(keys)) {
      for (const o of c.options) {
        if (!(o.required || o.optional)) continue;
        valued.push(o.long!);
        expect(o.long).not.toMatch(/secret|password|token/);
        if (/key/.test(o.long!)) expect(o.long).toMatch(/-file$/);
      }
    }
    expect(valued).toEqual(expect.arrayContaining(['--master-key-file', '--new-master-key-file', '--provider', '--name']));
    for (const argv of [['keys', 'add', '--help'], ['keys', 'rotate', '--help'], ['keys', 'reveal', '--help']]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/--secret-stdin\s|--master-key-stdin\s/);
      expect(r.stdout).not.toMatch(/--secret[= ]</);
      expect(r.stdout).toContain('Examples:');
    }
    const r = await run(['keys', 'add', '--provider', 'openai', '--name', 'x', '--secret', S3]);
    expect(r.code).toBe(2);
  });

  test('no secret or master key in any captured output (except reveal\'s own stdout) or admin_logs row', async () => {
    expect(captured.length).toBeGreaterThan(50);
    for (const { argv, r, allowed } of captured) {
      for (const s of [...SECRETS, ...KEY_TEXTS]) {
        const where = `${argv.join(' ')}`;
        expect({ where, stderr: r.stderr.includes(s) }).toEqual({ where, stderr: false });
        if (!allowed.includes(s)) expect({ where, stdout: r.stdout.includes(s) }).toEqual({ where, stdout: false });
      }
    }
    const logs = await t.db.selectFrom('admin.admin_logs').selectAll().execute();
    expect(logs.length).toBeGreaterThan(5);
    const text = JSON.stringify(logs);
    for (const s of [...SECRETS, ...KEY_TEXTS]) expect(text.includes(s)).toBe(false);
    // nor the ciphertexts
    for (const k of await t.db.selectFrom('admin.api_master_keys').select('encrypted_key').execute()) expect(text).not.toContain(k.encrypted_key.slice(0, 24));
  });
});
