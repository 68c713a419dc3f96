// The one masking function: by key name at any depth (arrays and objects under a secret-named
// key wholly), and by value shape inside any string. Counters, labels and paths stay readable.
import fc from 'fast-check';
import { isSecretKey, maskDeep, maskField, maskShapes } from '../../src/output/mask.js';

test('secret key names, and the look-alikes that are not secrets', () => {
  for (const k of ['gateway_token', 'botToken', 'token', 'OPENAI_KEY', 'OPENAI_API_KEY', 'apiKey', 'apiKeys', 'api_keys', 'key', 'keys', 'openaiKey',
    'clientSecret', 'secrets', 'password', 'db_password', 'passphrase', 'credentials', 'authorization', 'Authorization', 'cookie', 'privateKey',
    'tokens', 'apiTokens', 'bot_tokens']) expect([k, isSecretKey(k)]).toEqual([k, true]);
  for (const k of ['total_tokens', 'maxTokens', 'prompt_tokens', 'token_name', 'key_hint', 'passwordFile', 'ssh_key_path', 'keyPath', 'monkey', 'hotkey',
    'model', 'bot', 'botUsername', 'master_key_id', 'url']) expect([k, isSecretKey(k)]).toEqual([k, false]);
});

test('everything under a secret-named key is masked, arrays and objects too; structure kept', () => {
  const m = maskDeep({
    env: { OPENAI_KEY: 'envkey-value-0001', PATH: '/usr/bin' },
    providers: [{ name: 'openai', apiKeys: ['first-key-value-0002', 'second-key-value-0003'] }],
    secrets: { a: 'plain-secret-0004', b: ['nested-secret-0005', { deep: 'deeper-secret-0006' }], n: 12345, on: true },
    agent: { model: 'gpt-4o', maxTokens: 4096 },
  });
  expect(m).toEqual({
    env: { OPENAI_KEY: '****0001', PATH: '/usr/bin' },
    providers: [{ name: 'openai', apiKeys: ['****0002', '****0003'] }],
    secrets: { a: '****0004', b: ['****0005', { deep: '****0006' }], n: '****', on: true },
    agent: { model: 'gpt-4o', maxTokens: 4096 },
  });
});

test('secret shapes inside any string, under any key', () => {
  expect(maskShapes('key sk-proj-abcdefghijklmnop0007 here')).toBe('key ****0007 here');
  expect(maskShapes('sk-ant-api03-abcdefghijklmnopqrstuv')).toBe('****stuv');
  expect(maskShapes('https://api.telegram.org/bot1234567890:AAHk-abcdefghijklmnopqrstuvwxyz012/getMe')).toBe('https://api.telegram.org/bot****z012/getMe');
  expect(maskShapes('postgres://oc:hunter2hunter2@db:5432/x')).toBe('postgres://oc:****@db:5432/x');
  expect(maskShapes('https://:only-a-password@host/')).toBe('https://:****@host/');
  // a password holding @, /, # or ?: everything up to the URL's last @ is the password
  expect(maskShapes('postgres://u:p@ss/w0rd@db:5432/x')).toBe('postgres://u:****@db:5432/x');
  expect(maskShapes('http://u:se#cret@proxy:3128 then mysql://a:b?c@h/x')).toBe('http://u:****@proxy:3128 then mysql://a:****@h/x');
  // a port and a path with an @ in it is no password
  expect(maskShapes('https://host:8080/users/@me')).toBe('https://host:8080/users/@me');
  // Go DSNs (One API's SQL_DSN, LOG_SQL_DSN)
  expect(maskShapes('SQL_DSN=root:pa55@word@tcp(127.0.0.1:3306)/oneapi')).toBe('SQL_DSN=root:****@tcp(127.0.0.1:3306)/oneapi');
  expect(maskShapes("dsn: 'oneapi:pw@unix(/run/mysqld.sock)/logs'")).toBe("dsn: 'oneapi:****@unix(/run/mysqld.sock)/logs'");
  expect(maskShapes('Authorization: Bearer abc.def.ghijklmnop')).toBe('Authorization: Bearer ****mnop');
  expect(maskShapes('bearer short')).toBe('bearer ****');
  // left alone: look-alikes that are not secrets
  for (const s of ['task-1234567', 'risk-assessment-2026', 'sk-...a1b2', 'sk-ant-...a1b2 3f9c2e1a', 'https://host:8443/path', '2026-12-01T19:38:46.528+00:00',
    'oc-ai-jp-2-03', 'user@example.com', '12345:short',
    // an image digest is no Telegram token
    `sha256:${'0123456789abcdef'.repeat(4)}`, `image sha512:${'ab'.repeat(64)}`]) expect(maskShapes(s)).toBe(s);
  expect(maskDeep({ bot: '1234567890:AAHk-abcdefghijklmnopqrstuvwxyz012', note: ['see Bearer tok_abcdefghijkl'] }))
    .toEqual({ bot: '****z012', note: ['see Bearer ****ijkl'] });
});

test('maskField: a secret-named column wholly, any other by shape; dates and numbers pass', () => {
  expect(maskField('gateway_token', 'gwt_0123456789abcdef')).toBe('****cdef');
  expect(maskField('gateway_url', 'http://admin:pw123456789@10.0.0.5:18789')).toBe('http://admin:****@10.0.0.5:18789');
  const d = new Date(0);
  expect(maskField('created_at', d)).toBe(d);
  expect(maskField('total_tokens', '9000000000000')).toBe('9000000000000');
  // a bare `tokens` holding a count (usage rows) is a counter; holding strings it is a list of secrets
  expect(maskField('tokens', '90')).toBe('90');
  expect(maskField('tokens', 90)).toBe(90);
  expect(maskField('tokens', ['abcdefghijklmnopqrstuvwx'])).toEqual(['****uvwx']);
});

test('property: a planted sk- key never survives, at any depth, in any container', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9]{10,30}$/).map((s) => `sk-${s}`);
  const label = fc.constantFrom('model', 'note', 'list', 'x', 'channels', 'a_b');
  const tree = (s: string) => fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, fc.constant(s), fc.constant(`prefix ${s} suffix`), fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(label, tie('node'), { maxKeys: 3 })),
  })).node;
  fc.assert(fc.property(secret.chain((s) => tree(s).map((t) => [s, t] as const)), ([s, t]) => !JSON.stringify(maskDeep(t)).includes(s.slice(0, -4))));
});
