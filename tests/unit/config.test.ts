import { writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, validateConfigFile, describeConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir('cfg');
const write = (name: string, data: unknown) => { const p = join(dir, name); writeFileSync(p, typeof data === 'string' ? data : JSON.stringify(data)); return p; };

describe('config loading', () => {
  test('defaults with no file and no env', () => {
    const lc = loadConfig({ env: { HOME: dir }, cwd: dir });
    expect(lc.file).toBeNull();
    expect(lc.config.mysql.databases).toEqual({ admin: 'sayclaw_admin', portal: 'sayclaw_portal', oneapi: 'oneapi', logs: null });
    // null: One API's own QuotaPerUnit (options table), else 500000
    expect(lc.config.usage.quotaPerUsd).toBeNull();
    expect(lc.config.ssh.hostKeyPolicy).toBe('accept-new');
    expect(lc.sources['mysql.port']).toBe('default');
  });

  test('precedence: flags > env > profile > file base > defaults', () => {
    const f = write('p.json', { mysql: { host: 'file-host', port: 3307, databases: { admin: 'a_file' } },
      profiles: { prod: { mysql: { port: 3308 } } } });
    const lc = loadConfig({ env: { HOME: dir, SAYCLAW_DB_ADMIN: 'a_env', SAYCLAW_PROFILE: 'prod' }, cwd: dir, configPath: f,
      sets: [['mysql.databases.portal', 'p_flag'], ['mysql.databases.admin', 'a_flag']] });
    expect(lc.config.mysql.host).toBe('file-host');
    expect(lc.sources['mysql.host']).toBe(`file:${f}`);
    expect(lc.config.mysql.port).toBe(3308);
    expect(lc.sources['mysql.port']).toBe(`file:${f}#prod`);
    expect(lc.config.mysql.databases.admin).toBe('a_flag');
    expect(lc.config.mysql.databases.portal).toBe('p_flag');
    expect(lc.profile).toBe('prod');
  });

  test('SAYCLAW_MYSQL_URL and SAYCLAW_PG_URL give host, port, user and password; password never in config', () => {
    const lc = loadConfig({ env: { HOME: dir, SAYCLAW_MYSQL_URL: 'mysql://ops:s%40cret@db.internal:3310', SAYCLAW_PG_URL: 'postgres://pgu:pw@pg:5433/legacy' }, cwd: dir });
    expect(lc.config.mysql).toMatchObject({ host: 'db.internal', port: 3310, user: 'ops' });
    expect(lc.mysqlPassword.read()).toBe('s@cret');
    expect(lc.config.postgres).toMatchObject({ host: 'pg', port: 5433, user: 'pgu', database: 'legacy' });
    expect(lc.pgPassword.read()).toBe('pw');
    const shown = JSON.stringify(describeConfig(lc));
    expect(shown).not.toContain('s@cret');
    expect(shown).toContain('env:SAYCLAW_MYSQL_URL');
  });

  test('XDG default path is used when present', () => {
    const xdg = tempDir('xdg');
    mkdirSync(join(xdg, 'sayclaw'));
    writeFileSync(join(xdg, 'sayclaw', 'config.json'), JSON.stringify({ operator: 'xdg-op' }));
    const lc = loadConfig({ env: { HOME: dir, XDG_CONFIG_HOME: xdg }, cwd: dir });
    expect(lc.config.operator).toBe('xdg-op');
  });

  test('a wrong type names the key, the problem and the file', () => {
    const f = write('bad.json', { mysql: { port: 'three' } });
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f })).toThrow(/mysql\.port: .*number.*bad\.json/);
  });

  test('unknown keys, unknown profile, bad JSON, missing explicit file', () => {
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: write('u.json', { mysql: { hots: 'x' } }) })).toThrow(/unknown key mysql\.hots \(from .*u\.json\)/);
    let err: ConfigError | undefined;
    try { loadConfig({ env: { HOME: dir }, cwd: dir, configPath: write('np.json', { profiles: { a: {} } }), profile: 'b' }); } catch (e) { err = e as ConfigError; }
    expect(err?.message).toMatch(/unknown profile "b"/);
    expect(err?.hint).toMatch(/known profiles: a/);
    expect(err?.exitCode).toBe(5);
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: write('j.json', '{nope') })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: join(dir, 'missing.json') })).toThrow(/does not exist/);
  });

  test('a config file holding a secret gets the password-file mode warning when group or others can read it', () => {
    // an unselected profile is never validated, so a password can sit in it
    const f = write('held.json', { mysql: { host: 'h' }, profiles: { old: { mysql: { password: 'hunter2-secret' } } } });
    chmodSync(f, 0o644);
    const lc = loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f });
    expect(lc.warnings.join('\n')).toMatch(new RegExp(`config file ${f} holds a secret \\(profiles\\.old\\.mysql\\.password\\) and is readable by group or others \\(chmod 600`));
    expect(lc.warnings.join('\n')).not.toContain('hunter2');
    chmodSync(f, 0o600);
    expect(loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f }).warnings).toEqual([]);
    // paths to secret files are not secrets
    const g = write('paths.json', { mysql: { passwordFile: '/x/pw' }, keys: { masterKeyFile: '/x/mk' }, $comment: 'password: see the file' });
    chmodSync(g, 0o644);
    expect(loadConfig({ env: { HOME: dir }, cwd: dir, configPath: g }).warnings).toEqual([]);
  });

  test('password file: read, warned when readable by others, error when unreadable', () => {
    const pw = write('pw', 'hunter2\n');
    chmodSync(pw, 0o644);
    const lc = loadConfig({ env: { HOME: dir }, cwd: dir, configPath: write('pwf.json', { mysql: { passwordFile: pw } }) });
    expect(lc.mysqlPassword.read()).toBe('hunter2');
    expect(lc.warnings.join()).toMatch(/readable by group or others/);
    const lc2 = loadConfig({ env: { HOME: dir }, cwd: dir, configPath: write('pwm.json', { mysql: { passwordFile: join(dir, 'nope.pw') } }) });
    expect(() => lc2.mysqlPassword.read()).toThrow(/cannot read mysql password file .*nope\.pw: ENOENT/);
  });

  test('an unknown key names its real source and the closest known key', () => {
    const err = (f: () => unknown) => { try { f(); } catch (e) { return e as ConfigError; } throw new Error('no error'); };
    const set = err(() => loadConfig({ env: { HOME: dir }, cwd: dir, sets: [['mysql.prot', '3307']] }));
    expect(set.message).toBe('invalid config: unknown key mysql.prot (from --set mysql.prot)');
    expect(set.hint).toBe('did you mean mysql.port?');
    expect(set.exitCode).toBe(5);
    // in a file, an object key: the file (and profile) it came from, the closest object
    const f = write('typo.json', { profiles: { prod: { usage: { timezon: 'UTC' } } }, mysql: { databasez: { admin: 'a' } } });
    const file = err(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f }));
    expect(file.message).toBe(`invalid config: unknown key mysql.databasez (from ${f})`);
    expect(file.hint).toBe('did you mean mysql.databases?');
    const prof = err(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: write('typo2.json', { profiles: { prod: { usage: { timezon: 'UTC' } } } }), profile: 'prod' }));
    expect(prof.message).toMatch(/unknown key usage\.timezon \(from .*typo2\.json \(profile prod\)\)/);
    expect(prof.hint).toBe('did you mean usage.timezone?');
    // nothing near: no guess, the usual pointer
    expect(err(() => loadConfig({ env: { HOME: dir }, cwd: dir, sets: [['zzzz.qqqq', '1']] })).hint).toMatch(/config\.example\.json/);
    // a bad value from the environment names the variable
    expect(err(() => loadConfig({ env: { HOME: dir, SAYCLAW_DB_ADMIN: 'bad name!' }, cwd: dir })).message).toMatch(/mysql\.databases\.admin: .* \(from \$SAYCLAW_DB_ADMIN\)/);
  });

  test('a JSON syntax error names the line and column', () => {
    const f = write('syntax.json', '{\n  "mysql": {\n    "port": 3306\n    "user": "x"\n  }\n}\n');
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f })).toThrow(/is not valid JSON: line 4, column 5: /);
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, configPath: f })).not.toThrow(/position/);
  });

  test('config show masks a password only where there is one', () => {
    const pwOf = (env: Record<string, string>) => Object.fromEntries(describeConfig(loadConfig({ env: { HOME: dir, ...env }, cwd: dir }))
      .filter((r) => r.setting.endsWith('.password')).map((r) => [r.setting, r.value]));
    expect(pwOf({ SAYCLAW_MYSQL_URL: 'mysql://root@127.0.0.1:3306', SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:5432/x' }))
      .toEqual({ 'mysql.password': null, 'postgres.password': null });
    expect(pwOf({ SAYCLAW_MYSQL_URL: 'mysql://ops:pw@db:3306' })).toEqual({ 'mysql.password': '****', 'postgres.password': null });
    expect(pwOf({})).toEqual({ 'mysql.password': null, 'postgres.password': null });
  });

  test('secrets cannot come from --set', () => {
    expect(() => loadConfig({ env: { HOME: dir }, cwd: dir, sets: [['mysql.password', 'x']] })).toThrow(/secrets cannot come from the command line/);
  });

  test('validate checks every profile', () => {
    const f = write('v.json', { profiles: { ok: { mysql: { port: 3306 } }, broken: { ssh: { hostKeyPolicy: 'yolo' } } } });
    expect(() => validateConfigFile(f, { HOME: dir }, dir)).toThrow(/ssh\.hostKeyPolicy/);
    const g = write('v2.json', { profiles: { ok: { mysql: { port: 3306 } } } });
    expect(validateConfigFile(g, { HOME: dir }, dir)).toEqual(['ok']);
  });

  test('config.example.json is valid and documents every key', () => {
    const example = join(process.cwd(), 'config.example.json');
    expect(validateConfigFile(example, { HOME: dir }, dir).length).toBeGreaterThan(0);
    const lc = loadConfig({ env: { HOME: dir }, cwd: dir, configPath: example });
    const keys = describeConfig(lc).map((r) => r.setting).filter((k) => !k.endsWith('.password'));
    for (const k of keys) expect(lc.sources[k]).not.toBe('default');
  });
});
