// config_json is JSON5 (OpenClaw's format) and may hold secrets anywhere. Every secret shape is
// planted at several depths (under secret-named keys, in arrays, in plain strings under harmless
// keys), then every output format of `instances show`, and `instances ls` (gateway_url with a
// password in it), is searched for it. A row that does not parse is reported by position only.
import { createTestEnv, type TestEnv } from '../support/testenv.js';

let t: TestEnv;
const FORMATS = ['table', 'wide', 'json', 'ndjson', 'csv', 'yaml', 'name'];
// every planted value contains PLANTED; masking keeps at most the last 4 characters
const SK = 'sk-PLANTEDopenai000000000001';
const TG = '1234567890:AAPLANTEDtelegram_bot_token_00002';
const URL_PW = 'PLANTEDurlpass0003';
const BEARER = 'PLANTEDbearer00000000004';

// JSON5: comments, unquoted keys, single quotes, trailing commas, a hex number
const CONFIG = `{
  // OpenClaw config as the gateway reads it
  agent: { model: 'gpt-4o', maxTokens: 4096, },
  gateway: { port: 0x4965, auth: { mode: 'token', token: 'PLANTEDgwtoken0005' } },
  env: { OPENAI_KEY: 'PLANTEDenvkey0006', HTTP_PROXY: 'http://proxy:${URL_PW}@10.0.0.1:3128', LANG: 'zh_CN.UTF-8' },
  providers: [
    { name: 'openai', apiKeys: ['PLANTEDapikeys0007a', 'PLANTEDapikeys0007b'], baseUrl: 'https://api.example.test/v1' },
    { name: 'oneapi', headers: { Authorization: 'Bearer ${BEARER}' }, note: 'fallback key ${SK}' },
  ],
  channels: {
    telegram: {
      enabled: true,
      bot: '${TG}',
      accounts: [{ name: '客服', bot: { token: 'PLANTEDbottoken0008', username: 'oc_bot' }, webhook: 'https://api.telegram.org/bot${TG}/setWebhook' }],
    },
  },
  deep: { a: { b: { c: [{ d: 'Bearer ${BEARER}', e: ['${SK}'], secrets: ['PLANTEDarr0009', { x: 'PLANTEDobj0010' }] }] } } },
  database: { dsn: 'mysql://oc:${URL_PW}@db.internal:3306/oc', password: 'PLANTEDdbpw0011' },
  // passwords holding @ / # ?, and One API's own Go DSN form
  odd: { pg: 'postgres://u:p@ss/PLANTEDodd0017@db:5432/x', proxy: 'http://u:se#PLANTEDodd0018@proxy:3128', sqlDsn: 'root:PLANTEDgo0019@tcp(127.0.0.1:3306)/oneapi' },
  credentials: { user: 'svc', pass: 'PLANTEDcred0012' },
}`;

beforeAll(async () => {
  t = await createTestEnv({ withPg: false });
  const base = { server_id: null, gateway_port: 18789, model: 'gpt-4o', gateway_token: 'gwt_PLANTEDcolumn0013' };
  await t.db.insertInto('admin.oc_instances').values([
    { ...base, id: 'oc-cfg-01', name: 'oc-cfg-01', config_json: CONFIG, gateway_url: `http://ops:${URL_PW}@127.0.0.1:18789`, notes: `rotated ${SK}` },
    // not JSON5: an unquoted value on line 3
    { ...base, id: 'oc-cfg-02', name: 'oc-cfg-02', config_json: '{\n  gateway: { token: "PLANTEDbad0014" },\n  oops: PLANTEDunquoted0015\n}', gateway_url: null },
    { ...base, id: 'oc-cfg-03', name: 'oc-cfg-03', config_json: '{"plain": "json", "token": "PLANTEDjson0016"}', gateway_url: null },
  ]).execute();
});
afterAll(async () => { await t?.close(); });

/** Run the verb in every -o format: exit 0, nothing planted in stdout or stderr; the stderr seen. */
async function everyFormatClean(argv: string[]): Promise<string[]> {
  const stderrs: string[] = [];
  for (const f of FORMATS) {
    const r = await t.run([...argv, '-o', f]);
    expect([f, r.code, (r.stdout + r.stderr).match(/PLANTED\w*/g)]).toEqual([f, 0, null]);
    stderrs.push(r.stderr);
  }
  return stderrs;
}

test('instances show: JSON5 parsed, every planted secret masked in every format', async () => {
  expect(new Set(await everyFormatClean(['instances', 'show', 'oc-cfg-01']))).toEqual(new Set(['']));
  const r = await t.run(['instances', 'show', 'oc-cfg-01', '-o', 'json']);
  const d = JSON.parse(r.stdout);
  // parsed as JSON5, with everything that is not a secret kept
  expect(d.config_error).toBeNull();
  expect(d.config.agent).toEqual({ model: 'gpt-4o', maxTokens: 4096 });
  expect(d.config.gateway).toEqual({ port: 18789, auth: { mode: 'token', token: '****0005' } });
  expect(d.config.env).toEqual({ OPENAI_KEY: '****0006', HTTP_PROXY: 'http://proxy:****@10.0.0.1:3128', LANG: 'zh_CN.UTF-8' });
  expect(d.config.providers[0]).toEqual({ name: 'openai', apiKeys: ['****007a', '****007b'], baseUrl: 'https://api.example.test/v1' });
  expect(d.config.providers[1]).toEqual({ name: 'oneapi', headers: { Authorization: '****0004' }, note: 'fallback key ****0001' });
  expect(d.config.channels.telegram.bot).toBe('****0002');
  expect(d.config.channels.telegram.accounts[0]).toEqual({ name: '客服', bot: { token: '****0008', username: 'oc_bot' }, webhook: 'https://api.telegram.org/bot****0002/setWebhook' });
  expect(d.config.deep.a.b.c[0]).toEqual({ d: 'Bearer ****0004', e: ['****0001'], secrets: ['****0009', { x: '****0010' }] });
  expect(d.config.database).toEqual({ dsn: 'mysql://oc:****@db.internal:3306/oc', password: '****0011' });
  expect(d.config.credentials).toEqual({ user: '****', pass: '****0012' });
  expect(d.config.odd).toEqual({ pg: 'postgres://u:****@db:5432/x', proxy: 'http://u:****@proxy:3128', sqlDsn: 'root:****@tcp(127.0.0.1:3306)/oneapi' });
  expect(d.gateway_url).toBe('http://ops:****@127.0.0.1:18789');
  expect(d.notes).toBe('rotated ****0001');
  // the table shows the config pretty-printed, masked
  const tbl = await t.run(['instances', 'show', 'oc-cfg-01']);
  expect(tbl.stdout).toMatch(/Config \(secrets masked\)\n\{\n {2}"agent": \{\n {4}"model": "gpt-4o"/);
});

test('instances ls: secrets in row fields masked in every format', async () => {
  await everyFormatClean(['instances', 'ls', '--prefix', 'oc-cfg-']);
  const r = await t.run(['instances', 'ls', '--prefix', 'oc-cfg-', '-o', 'wide']);
  expect(r.stdout).toMatch(/http:\/\/ops:\*\*\*\*@127\.0\.0\.1:18789/);
});

test('a config_json that does not parse is reported by position, none of its content echoed', async () => {
  expect(new Set(await everyFormatClean(['instances', 'show', 'oc-cfg-02']))).toEqual(new Set(['warning: config_json does not parse as JSON5 at line 3 col 9\n']));
  const d = JSON.parse((await t.run(['instances', 'show', 'oc-cfg-02', '-o', 'json'])).stdout);
  expect(d).toMatchObject({ config: null, config_error: 'config_json does not parse as JSON5 at line 3 col 9' });
  const tbl = await t.run(['instances', 'show', 'oc-cfg-02']);
  expect(tbl.stdout).toMatch(/Config \(secrets masked\)\nconfig_json does not parse as JSON5 at line 3 col 9\n/);
  // plain JSON is JSON5 too
  const j = JSON.parse((await t.run(['instances', 'show', 'oc-cfg-03', '-o', 'json'])).stdout);
  expect(j.config).toEqual({ plain: 'json', token: '****0016' });
});
