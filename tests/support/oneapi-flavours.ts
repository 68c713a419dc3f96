// The One API tables (logs, tokens, users, options) exactly as each flavour's GORM models create
// them, on MySQL/MariaDB and on PostgreSQL. Each model below is a transcription of the Go struct
// (column, Go type, gorm tag) read from the upstream file at the commit named beside it; the DDL
// is then derived the way GORM's CreateTable does (FACTS.md, "One API and new-api"):
//   MySQL: int/int64 -> bigint (the primary key id: bigint AUTO_INCREMENT), a `type:` tag as given,
//     a string that has an index, a default or is the primary key -> varchar(191), other strings
//     -> longtext, bool -> boolean (shown as tinyint(1)), gorm.DeletedAt -> datetime(3) NULL + index;
//   PostgreSQL: bigint (primary key bigserial), a `type:` tag as given (int = integer), text,
//     boolean, timestamptz.
// Index names follow GORM: `index` -> idx_<table>_<column>, `index:NAME` (composite by name,
// ordered by priority then field order), `uniqueIndex` -> unique idx_<table>_<column>,
// `unique` -> a unique constraint uni_<table>_<column>.
// These fixtures are written from the upstream models, not from src/db/ddl.ts, so a test on
// them checks sayclaw against One API's schema, not against itself.
import { sql, type Kysely } from 'kysely';

export type MysqlFlavour = 'one-api' | 'new-api';
/** Legacy PostgreSQL copies, by the one-api version that last migrated them. */
export type PgFlavour = 'one-api' | 'one-api@2024-09' | 'one-api@2024-03' | 'new-api';
export type Flavour = MysqlFlavour | PgFlavour;
export type OneApiTable = 'logs' | 'tokens' | 'users' | 'options';

type Go = 'int' | 'int64' | 'string' | 'bool' | 'deletedAt';
/** [column, Go type, gorm tag] */
type Field = [string, Go, string?];
interface Model { table: OneApiTable; source: string; fields: Field[] }

const ONE_API = 'songquanpeng/one-api';
const NEW_API = 'QuantumNous/new-api';

// ---- songquanpeng/one-api @8df4a267 (2025-02-21): logs with request_id, elapsed_time, is_stream,
// system_prompt_reset (added 2025-01-31); tokens with models (text since 2024-09-22) and subnet.
const oneApiLogs2025: Field[] = [
  ['id', 'int'],
  ['user_id', 'int', 'index'],
  ['created_at', 'int64', 'bigint;index:idx_created_at_type'],
  ['type', 'int', 'index:idx_created_at_type'],
  ['content', 'string'],
  ['username', 'string', "index:index_username_model_name,priority:2;default:''"],
  ['token_name', 'string', "index;default:''"],
  ['model_name', 'string', "index;index:index_username_model_name,priority:1;default:''"],
  ['quota', 'int', 'default:0'],
  ['prompt_tokens', 'int', 'default:0'],
  ['completion_tokens', 'int', 'default:0'],
  ['channel_id', 'int', 'index'],
  ['request_id', 'string', "default:''"],
  ['elapsed_time', 'int64', 'default:0'],
  ['is_stream', 'bool', 'default:false'],
  ['system_prompt_reset', 'bool', 'default:false'],
];
const oneApiTokens2024: Field[] = [
  ['id', 'int'],
  ['user_id', 'int'],
  ['key', 'string', 'type:char(48);uniqueIndex'],
  ['status', 'int', 'default:1'],
  ['name', 'string', 'index'],
  ['created_time', 'int64', 'bigint'],
  ['accessed_time', 'int64', 'bigint'],
  ['expired_time', 'int64', 'bigint;default:-1'],
  ['remain_quota', 'int64', 'bigint;default:0'],
  ['unlimited_quota', 'bool', 'default:false'],
  ['used_quota', 'int64', 'bigint;default:0'],
];
const oneApiUsers2024: Field[] = [
  ['id', 'int'],
  ['username', 'string', 'unique;index'],
  ['password', 'string', 'not null;'],
  ['display_name', 'string', 'index'],
  ['role', 'int', 'type:int;default:1'],
  ['status', 'int', 'type:int;default:1'],
  ['email', 'string', 'index'],
  ['github_id', 'string', 'column:github_id;index'],
  ['wechat_id', 'string', 'column:wechat_id;index'],
];
const oneApiUsersTail: Field[] = [
  ['access_token', 'string', 'type:char(32);column:access_token;uniqueIndex'],
  ['quota', 'int64', 'bigint;default:0'],
  ['used_quota', 'int64', 'bigint;default:0;column:used_quota'],
  ['request_count', 'int', 'type:int;default:0;'],
  ['group', 'string', "type:varchar(32);default:'default'"],
  ['aff_code', 'string', 'type:varchar(32);column:aff_code;uniqueIndex'],
  ['inviter_id', 'int', 'type:int;column:inviter_id;index'],
];
const options: Field[] = [['key', 'string', 'primaryKey'], ['value', 'string']];

const oneApi2025: Model[] = [
  { table: 'logs', source: `${ONE_API}@8df4a267 model/log.go`, fields: oneApiLogs2025 },
  { table: 'tokens', source: `${ONE_API}@8df4a267 model/token.go`, fields: [...oneApiTokens2024,
    ['models', 'string', 'type:text'], ['subnet', 'string', "default:''"]] },
  { table: 'users', source: `${ONE_API}@8df4a267 model/user.go`, fields: [...oneApiUsers2024,
    ['lark_id', 'string', 'column:lark_id;index'], ['oidc_id', 'string', 'column:oidc_id;index'], ...oneApiUsersTail] },
  { table: 'options', source: `${ONE_API}@8df4a267 model/option.go`, fields: options },
];

// ---- songquanpeng/one-api @58bf6080 (2024-09-21): tokens.models/subnet (2024-04-05, models still
// default:'' = varchar(191) on MySQL), users.lark_id; logs without the 2025-01 columns.
const oneApiLogs2024: Field[] = oneApiLogs2025.slice(0, 12);
const oneApi202409: Model[] = [
  { table: 'logs', source: `${ONE_API}@58bf6080 model/log.go`, fields: oneApiLogs2024 },
  { table: 'tokens', source: `${ONE_API}@58bf6080 model/token.go`, fields: [...oneApiTokens2024,
    ['models', 'string', "default:''"], ['subnet', 'string', "default:''"]] },
  { table: 'users', source: `${ONE_API}@58bf6080 model/user.go`, fields: [...oneApiUsers2024,
    ['lark_id', 'string', 'column:lark_id;index'], ...oneApiUsersTail] },
  { table: 'options', source: `${ONE_API}@58bf6080 model/option.go`, fields: options },
];

// ---- songquanpeng/one-api @9821bc72 (2024-03-17): no tokens.models/subnet, no users.lark_id.
const oneApi202403: Model[] = [
  { table: 'logs', source: `${ONE_API}@9821bc72 model/log.go`, fields: oneApiLogs2024 },
  { table: 'tokens', source: `${ONE_API}@9821bc72 model/token.go`, fields: oneApiTokens2024 },
  { table: 'users', source: `${ONE_API}@9821bc72 model/user.go`, fields: [...oneApiUsers2024, ...oneApiUsersTail] },
  { table: 'options', source: `${ONE_API}@9821bc72 model/option.go`, fields: options },
];

// ---- QuantumNous/new-api: model/log.go @00423442, model/token.go @0067bd93, model/user.go
// @0089a12f, model/option.go @014c3ef9.
const newApi: Model[] = [
  { table: 'logs', source: `${NEW_API}@00423442 model/log.go`, fields: [
    ['id', 'int', 'index:idx_created_at_id,priority:1'],
    ['user_id', 'int', 'index'],
    ['created_at', 'int64', 'bigint;index:idx_created_at_id,priority:2;index:idx_created_at_type'],
    ['type', 'int', 'index:idx_created_at_type'],
    ['content', 'string'],
    ['username', 'string', "index;index:index_username_model_name,priority:2;default:''"],
    ['token_name', 'string', "index;default:''"],
    ['model_name', 'string', "index;index:index_username_model_name,priority:1;default:''"],
    ['quota', 'int', 'default:0'],
    ['prompt_tokens', 'int', 'default:0'],
    ['completion_tokens', 'int', 'default:0'],
    ['use_time', 'int', 'default:0'],
    ['is_stream', 'bool'],
    ['channel_id', 'int', 'index'],
    // ChannelName is `gorm:"->"` (read-only, no column)
    ['token_id', 'int', 'default:0;index'],
    ['group', 'string', 'index'],
    ['ip', 'string', "index;default:''"],
    ['other', 'string'],
  ] },
  { table: 'tokens', source: `${NEW_API}@0067bd93 model/token.go`, fields: [
    ['id', 'int'],
    ['user_id', 'int', 'index'],
    ['key', 'string', 'type:varchar(128);uniqueIndex'],
    ['status', 'int', 'default:1'],
    ['name', 'string', 'index'],
    ['created_time', 'int64', 'bigint'],
    ['accessed_time', 'int64', 'bigint'],
    ['expired_time', 'int64', 'bigint;default:-1'],
    ['remain_quota', 'int', 'default:0'],
    ['unlimited_quota', 'bool'],
    ['model_limits_enabled', 'bool'],
    ['model_limits', 'string', 'type:text'],
    ['allow_ips', 'string', "default:''"],
    ['used_quota', 'int', 'default:0'],
    ['group', 'string', "default:''"],
    ['cross_group_retry', 'bool'],
    ['billing_type', 'int', 'default:0'],
    ['deleted_at', 'deletedAt', 'index'],
  ] },
  { table: 'users', source: `${NEW_API}@0089a12f model/user.go`, fields: [
    ['id', 'int'],
    ['username', 'string', 'unique;index'],
    ['password', 'string', 'not null;'],
    ['display_name', 'string', 'index'],
    ['role', 'int', 'type:int;default:1'],
    ['status', 'int', 'type:int;default:1'],
    ['email', 'string', 'index'],
    ['github_id', 'string', 'column:github_id;index'],
    ['discord_id', 'string', 'column:discord_id;index'],
    ['oidc_id', 'string', 'column:oidc_id;index'],
    ['wechat_id', 'string', 'column:wechat_id;index'],
    ['telegram_id', 'string', 'column:telegram_id;index'],
    ['access_token', 'string', 'type:char(32);column:access_token;uniqueIndex'],
    ['quota', 'int', 'type:int;default:0'],
    ['used_quota', 'int', 'type:int;default:0;column:used_quota'],
    ['request_count', 'int', 'type:int;default:0;'],
    ['group', 'string', "type:varchar(64);default:'default'"],
    ['aff_code', 'string', 'type:varchar(32);column:aff_code;uniqueIndex'],
    ['aff_count', 'int', 'type:int;default:0;column:aff_count'],
    ['aff_quota', 'int', 'type:int;default:0;column:aff_quota'],
    ['aff_history', 'int', 'type:int;default:0;column:aff_history'],
    ['inviter_id', 'int', 'type:int;column:inviter_id;index'],
    ['invite_rebate_eligible', 'bool', 'column:invite_rebate_eligible;default:false'],
    ['deleted_at', 'deletedAt', 'index'],
    ['linux_do_id', 'string', 'column:linux_do_id;index'],
    ['setting', 'string', 'type:text;column:setting'],
    ['remark', 'string', 'type:varchar(255)'],
    ['stripe_customer', 'string', 'type:varchar(64);column:stripe_customer;index'],
    ['created_at', 'int64', 'autoCreateTime;column:created_at'],
    ['last_login_at', 'int64', 'default:0;column:last_login_at'],
    ['auth_version', 'int64', 'type:bigint;not null;default:1;column:auth_version'],
  ] },
  { table: 'options', source: `${NEW_API}@014c3ef9 model/option.go`, fields: options },
];

export const FLAVOUR_MODELS: Record<Flavour, Model[]> = {
  'one-api': oneApi2025,
  'one-api@2024-09': oneApi202409,
  'one-api@2024-03': oneApi202403,
  'new-api': newApi,
};

/** The columns a flavour's table has, in struct order. */
export function flavourColumns(flavour: Flavour, table: OneApiTable): string[] {
  return modelOf(flavour, table).fields.map(([c]) => c);
}

function modelOf(flavour: Flavour, table: OneApiTable): Model {
  const m = FLAVOUR_MODELS[flavour].find((x) => x.table === table);
  if (!m) throw new Error(`no ${table} model for ${flavour}`);
  return m;
}

// ---- GORM's CreateTable, for the tags these models use -----------------------------------

interface Tag { type?: string; primaryKey: boolean; notNull: boolean; unique: boolean; default?: string;
  indexes: Array<{ name: string | null; unique: boolean; priority: number }> }

function parseTag(tag = ''): Tag {
  const t: Tag = { primaryKey: false, notNull: false, unique: false, indexes: [] };
  for (const part of tag.split(';').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    const key = (i < 0 ? part : part.slice(0, i)).toLowerCase();
    const val = i < 0 ? '' : part.slice(i + 1);
    if (key === 'type') t.type = val;
    else if (key === 'primarykey') t.primaryKey = true;
    else if (key === 'not null') t.notNull = true;
    else if (key === 'unique') t.unique = true;
    else if (key === 'default') t.default = val;
    else if (key === 'index' || key === 'uniqueindex') {
      const [name, ...opts] = val.split(',');
      const prio = opts.map((o) => /^priority:(\d+)$/.exec(o.trim())).find(Boolean);
      t.indexes.push({ name: name || null, unique: key === 'uniqueindex', priority: prio ? Number(prio[1]) : 10 });
    }
  }
  return t;
}

type Dialect = 'mysql' | 'pg';

interface Column { name: string; type: string; autoIncrement: boolean; primaryKey: boolean; notNull: boolean; default?: string; unique: boolean }

function columnsOf(m: Model, d: Dialect): Column[] {
  return m.fields.map(([name, go, tagText]) => {
    const tag = parseTag(tagText);
    const primaryKey = tag.primaryKey || (name === 'id' && !m.fields.some(([, , x]) => /primaryKey/.test(x ?? '')));
    const autoIncrement = primaryKey && (go === 'int' || go === 'int64');
    let type: string;
    if (tag.type) type = d === 'pg' && tag.type === 'int' ? 'integer' : tag.type;
    else if (go === 'int' || go === 'int64') type = d === 'pg' && autoIncrement ? 'bigserial' : 'bigint';
    else if (go === 'bool') type = 'boolean';
    else if (go === 'deletedAt') type = d === 'mysql' ? 'datetime(3)' : 'timestamptz';
    else if (d === 'pg') type = 'text';
    else type = primaryKey || tag.default !== undefined || tag.indexes.length || tag.unique ? 'varchar(191)' : 'longtext';
    return { name, type, autoIncrement, primaryKey, notNull: tag.notNull, default: tag.default, unique: tag.unique };
  });
}

function indexesOf(m: Model): Array<{ name: string; unique: boolean; columns: string[] }> {
  const byName = new Map<string, { unique: boolean; cols: Array<{ c: string; p: number; i: number }> }>();
  m.fields.forEach(([col, go, tagText], i) => {
    const tag = parseTag(tagText);
    const entries = go === 'deletedAt' && !tag.indexes.length ? [{ name: null, unique: false, priority: 10 }] : tag.indexes;
    for (const ix of entries) {
      const name = ix.name ?? `idx_${m.table}_${col}`;
      const e = byName.get(name) ?? { unique: ix.unique, cols: [] };
      e.cols.push({ c: col, p: ix.priority, i });
      byName.set(name, e);
    }
    if (tag.unique) byName.set(`uni_${m.table}_${col}`, { unique: true, cols: [{ c: col, p: 10, i }] });
  });
  return [...byName].map(([name, e]) => ({ name, unique: e.unique, columns: e.cols.sort((a, b) => a.p - b.p || a.i - b.i).map((x) => x.c) }));
}

/** The CREATE TABLE (and, on PostgreSQL, CREATE INDEX) statements GORM runs for one table. */
export function flavourDdl(flavour: Flavour, table: OneApiTable, d: Dialect, qualifier?: string): string[] {
  const m = modelOf(flavour, table);
  const q = (s: string) => (d === 'mysql' ? `\`${s}\`` : `"${s}"`);
  const name = qualifier ? `${q(qualifier)}.${q(table)}` : q(table);
  const cols = columnsOf(m, d);
  const parts = cols.map((c) => {
    let s = `${q(c.name)} ${c.type}`;
    if (c.autoIncrement && d === 'mysql') s += ' AUTO_INCREMENT';
    if (c.notNull) s += ' NOT NULL';
    if (c.default !== undefined) s += ` DEFAULT ${c.default}`;
    if (c.type === 'datetime(3)') s += ' NULL';
    return s;
  });
  parts.push(`PRIMARY KEY (${cols.filter((c) => c.primaryKey).map((c) => q(c.name)).join(',')})`);
  const idx = indexesOf(m);
  if (d === 'mysql') {
    for (const ix of idx) {
      parts.push(ix.name.startsWith('uni_') ? `CONSTRAINT ${q(ix.name)} UNIQUE (${ix.columns.map(q).join(',')})`
        : `${ix.unique ? 'UNIQUE ' : ''}INDEX ${q(ix.name)} (${ix.columns.map(q).join(',')})`);
    }
    return [`CREATE TABLE ${name} (${parts.join(',')})`];
  }
  for (const ix of idx.filter((x) => x.name.startsWith('uni_'))) parts.push(`CONSTRAINT ${q(ix.name)} UNIQUE (${ix.columns.map(q).join(',')})`);
  return [`CREATE TABLE ${name} (${parts.join(',')})`,
    ...idx.filter((x) => !x.name.startsWith('uni_')).map((ix) => `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${q(ix.name)} ON ${name} (${ix.columns.map(q).join(',')})`)];
}

const TABLES: OneApiTable[] = ['logs', 'tokens', 'users', 'options'];

/**
 * Create a flavour's One API tables in a MySQL database (created if missing). `tables` picks
 * some (LOG_SQL_DSN: `logs` alone in its own database, the rest in the main one).
 */
export async function createOneApiMysql(db: Kysely<any>, database: string, flavour: MysqlFlavour, tables: OneApiTable[] = TABLES): Promise<void> {
  await sql.raw(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`).execute(db);
  for (const t of tables) for (const s of flavourDdl(flavour, t, 'mysql', database)) await sql.raw(s).execute(db);
}

/** Create a flavour's One API tables in the current schema of a PostgreSQL database. */
export async function createOneApiPg(db: Kysely<any>, flavour: PgFlavour, tables: OneApiTable[] = TABLES): Promise<void> {
  for (const t of tables) for (const s of flavourDdl(flavour, t, 'pg')) await sql.raw(s).execute(db);
}
