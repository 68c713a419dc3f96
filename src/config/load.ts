// Loads the effective config: defaults < file (base, then profile) < environment < flags,
// and remembers where each value came from for `config show`.
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { profileSchema, fileSchema, type Config } from './schema.js';
import { ConfigError } from '../errors.js';

export interface ConfigInputs {
  env: Record<string, string | undefined>;
  cwd: string;
  /** --config */
  configPath?: string;
  /** --profile */
  profile?: string;
  /** --set key=value, already split */
  sets?: Array<[string, string]>;
  /** Verb flags that map onto config keys (e.g. keys.masterKeyFile). */
  flagValues?: Record<string, unknown>;
}

export interface SecretRef {
  /** Where the secret lives: a password file, or an env URL. Never the value. */
  source: string;
  /** false when the source is known to hold no password (a URL without one); a file is not read to find out */
  present: boolean;
  read(): string | null;
}

export interface LoadedConfig {
  config: Config;
  /** dotted key -> 'default' | 'file:PATH' | 'file:PATH#profile' | 'env:NAME' | 'flag:--x' */
  sources: Record<string, string>;
  file: string | null;
  profile: string | null;
  warnings: string[];
  mysqlPassword: SecretRef;
  pgPassword: SecretRef;
}

export function expandHome(p: string, env: Record<string, string | undefined>): string {
  if (p === '~') return env.HOME ?? homedir();
  if (p.startsWith('~/')) return join(env.HOME ?? homedir(), p.slice(2));
  return p;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names that would reach Object.prototype through a plain object: never a config key. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
function checkKey(k: string, where: string): void {
  if (FORBIDDEN_KEYS.has(k)) throw new ConfigError(`invalid config key "${k}" (from ${where})`, { hint: 'see config.example.json for every key' });
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  for (const p of parts) checkKey(p, `--set ${path}`);
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Merge src into dst, recording the source of every leaf written. */
function mergeTracked(dst: Record<string, unknown>, src: Record<string, unknown>, source: string,
  sources: Record<string, string>, prefix = ''): void {
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('$')) continue; // "$comment" documentation keys
    checkKey(k, source);
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObj(v) && k !== 'profiles') {
      if (!isObj(dst[k])) dst[k] = {};
      mergeTracked(dst[k] as Record<string, unknown>, v, source, sources, key);
    } else {
      dst[k] = v;
      sources[key] = source;
    }
  }
}

function leafPaths(obj: unknown, prefix = ''): string[] {
  if (!isObj(obj)) return [prefix];
  return Object.entries(obj).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** Parse a --set value: numbers, booleans and null as JSON, everything else as a string. */
function parseSetValue(v: string): unknown {
  if (/^(-?\d+|true|false|null)$/.test(v)) return JSON.parse(v);
  return v;
}

function parseUrl(raw: string, varName: string, protocols: string[]): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${varName} is not a valid URL`, { hint: `expected ${protocols[0]}//user:pass@host:port` });
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(`${varName} must start with ${protocols.join(' or ')}//, got ${u.protocol}//`);
  }
  return u;
}

function fileSecret(path: string | null, what: string, warnings: string[], env: ConfigInputs['env']): SecretRef {
  if (!path) return { source: 'none', present: false, read: () => null };
  const p = expandHome(path, env);
  return {
    source: `file:${p}`,
    present: true,
    read() {
      let text: string;
      try {
        const st = statSync(p);
        if ((st.mode & 0o077) !== 0) {
          warnings.push(`warning: ${what} password file ${p} is readable by group or others (chmod 600 ${p})`);
        }
        text = readFileSync(p, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read ${what} password file ${p}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
          hint: `create it with the password on one line and chmod 600, or set SAYCLAW_${what.toUpperCase()}_URL`,
          cause: err,
        });
      }
      return text.split(/\r?\n/)[0]!;
    },
  };
}

/** A key that holds a secret value (a password, token or key itself, not a path to one). */
const SECRET_VALUE_KEY = /(password|passwd|secret|token|api[_-]?key|private[_-]?key|credentials?)$/i;

/**
 * The dotted path of the first secret value in a config file, if any: the schema has no such
 * key, but a profile that is not selected is never validated, so one can sit there unnoticed.
 */
function secretKeyIn(v: unknown, path: string[] = []): string | null {
  if (!isObj(v)) return null;
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (typeof x === 'string' && x !== '' && SECRET_VALUE_KEY.test(k)) return [...path, k].join('.');
    const deeper = secretKeyIn(x, [...path, k]);
    if (deeper) return deeper;
  }
  return null;
}

export function defaultConfigPath(env: ConfigInputs['env']): string {
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  return join(xdg, 'sayclaw', 'config.json');
}

/** "line 3, column 5: Expected ',' ..." from V8's message (a position on Node 20, line and column on 22+). */
function jsonErrorText(err: SyntaxError, file: string): string {
  const m = err.message;
  const reason = m.replace(/ in JSON at position \d+.*$/s, '').replace(/,? ?\(line \d+ column \d+\)/, '').replace(/^JSON\.parse: /, '');
  const lc = /line (\d+) column (\d+)/.exec(m);
  if (lc) return `line ${lc[1]}, column ${lc[2]}: ${reason}`;
  const pos = /at position (\d+)/.exec(m);
  if (!pos) return m;
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return m; }
  const before = text.slice(0, Number(pos[1]));
  const line = before.split('\n').length;
  return `line ${line}, column ${before.length - before.lastIndexOf('\n')}: ${reason}`;
}

/** Where a config value came from, as the operator typed it. */
function sourceText(src: string): string {
  if (src.startsWith('flag:')) return src.slice(5);
  if (src.startsWith('env:')) return `$${src.slice(4)}`;
  if (src.startsWith('file:')) return src.slice(5).replace(/#(.+)$/, ' (profile $1)');
  return src;
}

/** The known key a typo most likely meant: fewest edits, at most 2 (or a third of the key). */
function closestKey(typed: string, known: string[]): string | null {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0]!;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const t = d[j]!;
        d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = t;
      }
    }
    return d[b.length]!;
  };
  const max = Math.max(2, Math.floor(typed.length / 3));
  let best: [string, number] | null = null;
  for (const k of known) {
    const n = dist(typed.toLowerCase(), k.toLowerCase());
    if (n <= max && (!best || n < best[1])) best = [k, n];
  }
  return best?.[0] ?? null;
}

/** Every known dotted key, leaves and the objects above them (the schema gives every leaf a default). */
function knownKeys(): string[] {
  const leaves = leafPaths(profileSchema.parse({}));
  return [...new Set(leaves.flatMap((k) => k.split('.').map((_, i, a) => a.slice(0, i + 1).join('.'))))];
}

/** The first schema problem as one line: the key, what is wrong, where the value came from, and the closest key for a typo. */
function invalidConfig(i: { path: PropertyKey[]; code: string; message: string }, sources: Record<string, string>, file: string | null): ConfigError {
  const key = i.path.map(String).join('.');
  const hint = 'see config.example.json for every key; sayclaw config validate FILE checks a file';
  const fallback = file ? `file:${file}` : 'defaults';
  if (i.code === 'unrecognized_keys') {
    const full = (i as unknown as { keys: string[] }).keys.map((k) => (key ? `${key}.${k}` : k));
    // the source of an unknown key is the source of its own leaves (an unknown object has several)
    const srcOf = (k: string) => sources[k] ?? Object.entries(sources).find(([s]) => s.startsWith(`${k}.`))?.[1] ?? fallback;
    const where = [...new Set(full.map(srcOf))].map(sourceText).join(', ');
    const known = knownKeys();
    const near = full.map((k) => closestKey(k, known)).filter((k): k is string => !!k);
    return new ConfigError(`invalid config: unknown key${full.length === 1 ? '' : 's'} ${full.join(', ')} (from ${where})`, {
      hint: near.length ? `did you mean ${[...new Set(near)].join(', ')}?` : hint,
    });
  }
  return new ConfigError(`invalid config: ${key || '(top level)'}: ${i.message} (from ${sourceText(sources[key] ?? fallback)})`, { hint });
}

export function loadConfig(inp: ConfigInputs): LoadedConfig {
  const { env } = inp;
  const warnings: string[] = [];
  const sources: Record<string, string> = {};
  const raw: Record<string, unknown> = {};

  // 1. file
  let file: string | null = null;
  let explicit = false;
  if (inp.configPath) { file = resolve(inp.cwd, expandHome(inp.configPath, env)); explicit = true; }
  else if (env.SAYCLAW_CONFIG) { file = resolve(inp.cwd, expandHome(env.SAYCLAW_CONFIG, env)); explicit = true; }
  else file = defaultConfigPath(env);

  let profileName: string | null = inp.profile ?? env.SAYCLAW_PROFILE ?? null;
  let fileData: Record<string, unknown> | null = null;
  try {
    fileData = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) file = null;
    else if (code === 'ENOENT') throw new ConfigError(`config file ${file} does not exist`, { hint: 'check --config / SAYCLAW_CONFIG', cause: err });
    else if (err instanceof SyntaxError) throw new ConfigError(`config file ${file} is not valid JSON: ${jsonErrorText(err, file)}`, { cause: err });
    else throw new ConfigError(`cannot read config file ${file}: ${code ?? err}`, { cause: err });
  }
  if (fileData !== null) {
    if (!isObj(fileData)) throw new ConfigError(`config file ${file}: the top level must be a JSON object`);
    const held = secretKeyIn(fileData);
    if (held && file && (statSync(file).mode & 0o077) !== 0) {
      warnings.push(`warning: config file ${file} holds a secret (${held}) and is readable by group or others (chmod 600 ${file})`);
    }
    const f = fileSchema.safeParse(fileData);
    if (!f.success) {
      const i = f.error.issues[0]!;
      throw new ConfigError(`config file ${file}: ${i.path.join('.') || '(top)'}: ${i.message}`);
    }
    const { profiles, defaultProfile, $schema: _s, $comment: _c, ...base } = fileData as Record<string, unknown> & {
      profiles?: Record<string, Record<string, unknown>>; defaultProfile?: string;
    };
    mergeTracked(raw, base, `file:${file}`, sources);
    profileName ??= defaultProfile ?? null;
    if (profileName) {
      const prof = profiles && Object.hasOwn(profiles, profileName) ? profiles[profileName] : undefined;
      if (!prof) {
        const known = Object.keys(profiles ?? {});
        throw new ConfigError(`unknown profile "${profileName}" in ${file}`, {
          hint: known.length ? `known profiles: ${known.join(', ')}` : 'the file defines no profiles',
        });
      }
      mergeTracked(raw, prof, `file:${file}#${profileName}`, sources);
    }
  } else if (profileName) {
    throw new ConfigError(`profile "${profileName}" requested but no config file found (looked at ${defaultConfigPath(env)})`, {
      hint: 'pass --config PATH or set SAYCLAW_CONFIG',
    });
  }

  // 2. environment
  let mysqlEnvPassword: string | null = null;
  let pgEnvPassword: string | null = null;
  if (env.SAYCLAW_MYSQL_URL) {
    const u = parseUrl(env.SAYCLAW_MYSQL_URL, 'SAYCLAW_MYSQL_URL', ['mysql:', 'mariadb:']);
    const src = 'env:SAYCLAW_MYSQL_URL';
    if (u.hostname) { setPath(raw, 'mysql.host', u.hostname); sources['mysql.host'] = src; }
    if (u.port) { setPath(raw, 'mysql.port', Number(u.port)); sources['mysql.port'] = src; }
    if (u.username) { setPath(raw, 'mysql.user', decodeURIComponent(u.username)); sources['mysql.user'] = src; }
    mysqlEnvPassword = u.password ? decodeURIComponent(u.password) : '';
    setPath(raw, 'mysql.passwordFile', null); sources['mysql.passwordFile'] = src;
  }
  if (env.SAYCLAW_PG_URL) {
    const u = parseUrl(env.SAYCLAW_PG_URL, 'SAYCLAW_PG_URL', ['postgres:', 'postgresql:']);
    const src = 'env:SAYCLAW_PG_URL';
    if (u.hostname) { setPath(raw, 'postgres.host', u.hostname); sources['postgres.host'] = src; }
    if (u.port) { setPath(raw, 'postgres.port', Number(u.port)); sources['postgres.port'] = src; }
    if (u.username) { setPath(raw, 'postgres.user', decodeURIComponent(u.username)); sources['postgres.user'] = src; }
    const db = u.pathname.replace(/^\//, '');
    if (db) { setPath(raw, 'postgres.database', decodeURIComponent(db)); sources['postgres.database'] = src; }
    pgEnvPassword = u.password ? decodeURIComponent(u.password) : '';
    setPath(raw, 'postgres.passwordFile', null); sources['postgres.passwordFile'] = src;
  }
  const envKeys: Array<[string, string, (v: string) => unknown]> = [
    ['SAYCLAW_DB_ADMIN', 'mysql.databases.admin', String],
    ['SAYCLAW_DB_PORTAL', 'mysql.databases.portal', String],
    ['SAYCLAW_DB_ONEAPI', 'mysql.databases.oneapi', String],
    ['SAYCLAW_DB_LOGS', 'mysql.databases.logs', String],
    ['SAYCLAW_MASTER_KEY_FILE', 'keys.masterKeyFile', String],
    ['SAYCLAW_OPERATOR', 'operator', String],
    ['SAYCLAW_USAGE_TIMEZONE', 'usage.timezone', String],
  ];
  for (const [name, key, conv] of envKeys) {
    const v = env[name];
    if (v !== undefined && v !== '') { setPath(raw, key, conv(v)); sources[key] = `env:${name}`; }
  }

  // 3. flags
  for (const [k, v] of inp.sets ?? []) {
    if (/password$/i.test(k) && !/File$/.test(k)) {
      throw new ConfigError(`--set ${k}: secrets cannot come from the command line`, { hint: 'use passwordFile or SAYCLAW_MYSQL_URL' });
    }
    setPath(raw, k, parseSetValue(v));
    sources[k] = `flag:--set ${k}`;
  }
  for (const [k, v] of Object.entries(inp.flagValues ?? {})) {
    if (v === undefined) continue;
    setPath(raw, k, v);
    sources[k] = `flag`;
  }

  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) throw invalidConfig(parsed.error.issues[0]!, sources, file);
  const config = parsed.data;
  const leaves = new Set(leafPaths(config));
  for (const k of leaves) sources[k] ??= 'default';
  for (const k of Object.keys(sources)) if (!leaves.has(k) && !k.includes('.') && k !== 'operator') delete sources[k];

  const mysqlPassword: SecretRef = mysqlEnvPassword !== null
    ? { source: 'env:SAYCLAW_MYSQL_URL', present: mysqlEnvPassword !== '', read: () => mysqlEnvPassword }
    : fileSecret(config.mysql.passwordFile, 'mysql', warnings, env);
  const pgPassword: SecretRef = pgEnvPassword !== null
    ? { source: 'env:SAYCLAW_PG_URL', present: pgEnvPassword !== '', read: () => pgEnvPassword }
    : fileSecret(config.postgres.passwordFile, 'pg', warnings, env);

  return { config, sources, file, profile: profileName, warnings, mysqlPassword, pgPassword };
}

/** Check a config file: the base and every profile in it. Returns the profiles checked. */
export function validateConfigFile(path: string, env: ConfigInputs['env'], cwd: string): string[] {
  // environment must not mask problems in the file: validate with an empty environment
  const clean: ConfigInputs['env'] = { HOME: env.HOME };
  loadConfig({ env: clean, cwd, configPath: path });
  const data = JSON.parse(readFileSync(resolve(cwd, expandHome(path, env)), 'utf8')) as { profiles?: Record<string, unknown> };
  const names = Object.keys(data.profiles ?? {});
  for (const p of names) loadConfig({ env: clean, cwd, configPath: path, profile: p });
  return names;
}

/** Flatten the effective config for `config show`: key, value, source. */
export function describeConfig(lc: LoadedConfig): Array<{ setting: string; value: unknown; source: string }> {
  const rows: Array<{ setting: string; value: unknown; source: string }> = [];
  const walk = (o: unknown, prefix: string) => {
    if (isObj(o)) { for (const [k, v] of Object.entries(o)) walk(v, prefix ? `${prefix}.${k}` : k); return; }
    rows.push({ setting: prefix, value: o, source: lc.sources[prefix] ?? 'default' });
  };
  walk(lc.config, '');
  // a masked value only where there is a password to mask: a URL without one shows none
  rows.push({ setting: 'mysql.password', value: lc.mysqlPassword.present ? '****' : null, source: lc.mysqlPassword.source });
  rows.push({ setting: 'postgres.password', value: lc.pgPassword.present ? '****' : null, source: lc.pgPassword.source });
  return rows;
}
