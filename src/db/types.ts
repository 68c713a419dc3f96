// Kysely table types, column for column with src/db/ddl.ts. BIGINT and DECIMAL are strings
// (mysql2 bigNumberStrings, pg int8/numeric), never JS numbers; DATETIME is a Date.
// Table names are written with a logical database ("admin.", "portal.", "oneapi.") that the
// SchemaMapPlugin rewrites to the configured, fully qualified name.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** BIGINT/DECIMAL: read as string, written as string | bigint | number. */
export type Big = ColumnType<string, string | bigint | number, string | bigint | number>;
/** BIGINT NOT NULL with a default: optional on insert. */
export type BigDef = ColumnType<string, string | bigint | number | undefined, string | bigint | number>;
export type BigNull = ColumnType<string | null, string | bigint | number | null, string | bigint | number | null>;
export type Dt = ColumnType<Date, Date | string | undefined, Date | string>;
export type DtNull = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Def<T> = ColumnType<T, T | undefined, T>;

export interface ServersTable {
  id: Def<string>;
  name: string | null;
  ip: string | null;
  region: string | null;
  provider: Def<string | null>;
  cpu_cores: number | null;
  memory_gb: number | null;
  disk_gb: number | null;
  status: Def<string>;
  ssh_user: Def<string | null>;
  ssh_port: Def<number>;
  docker_port: Def<number>;
  notes: string | null;
  created_at: Dt;
  deleted_at: DtNull;
  ssh_key_path: Def<string>;
}

export interface OcInstancesTable {
  id: string;
  container_id: string | null;
  server_id: string | null;
  assigned_user_id: string | null;
  name: string | null;
  gateway_port: number | null;
  gateway_url: string | null;
  gateway_token: string | null;
  model: string | null;
  health_status: Def<string>;
  health_fail_count: Def<number>;
  total_requests: BigDef;
  total_tokens: BigDef;
  last_health_at: DtNull;
  created_at: Dt;
  deleted_at: DtNull;
  notes: string | null;
  config_json: string | null;
}

export interface AdminUsersTable {
  id: Def<string>;
  email: string;
  password_hash: string;
  name: string | null;
  role: Def<string>;
  status: Def<string>;
  last_login_at: DtNull;
  created_at: Dt;
  deleted_at: DtNull;
}

export interface InstanceUsersTable {
  instance_id: string;
  user_email: string;
  assigned_at: Dt;
}

export interface AdminLogsTable {
  id: Def<string>;
  os_user: string | null;
  operator: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before_json: string | null;
  after_json: string | null;
  reason: string | null;
  tool: Def<string>;
  created_at: Dt;
  deleted_at: DtNull;
}

export interface OcHealthLogsTable {
  id: Def<string>;
  instance_id: string;
  status: string;
  live: number | null;
  ready: number | null;
  latency_ms: number | null;
  http_status: number | null;
  error: string | null;
  via: Def<string>;
  checked_at: Dt;
  deleted_at: DtNull;
}

export interface ApiMasterKeysTable {
  id: Def<string>;
  provider: string;
  name: string;
  encrypted_key: string;
  key_hint: string | null;
  /** 8 hex: which master key encrypted encrypted_key (see src/crypto/aesgcm.ts masterKeyId). */
  master_key_id: string | null;
  status: Def<string>;
  rotated_from_id: string | null;
  rotated_at: DtNull;
  revoked_at: DtNull;
  created_at: Dt;
  deleted_at: DtNull;
}

export interface OcApiKeysTable {
  id: Def<string>;
  instance_id: string;
  oneapi_token_id: BigNull;
  oneapi_token_name: string | null;
  key_hint: string | null;
  status: Def<string>;
  last_used_at: DtNull;
  created_at: Dt;
  deleted_at: DtNull;
}

export interface UsageDailyTable {
  id: Def<string>;
  day: ColumnType<string, string, string>;
  scope: string;
  scope_id: string;
  requests: BigDef;
  prompt_tokens: BigDef;
  completion_tokens: BigDef;
  quota: BigDef;
  cost_usd: BigDef;
  updated_at: Dt;
  created_at: Dt;
  deleted_at: DtNull;
}

export interface JobRunsTable {
  id: Def<string>;
  job: string;
  args_json: string | null;
  host: string | null;
  pid: number | null;
  status: Def<string>;
  rows_processed: BigDef;
  error: string | null;
  started_at: Dt;
  finished_at: DtNull;
  deleted_at: DtNull;
}

export interface InstanceTemplatesTable {
  id: Def<string>;
  name: string;
  image: string;
  /** JSON array of strings; NULL = the image's own command */
  command_json: string | null;
  /** JSON object of non-secret variables; NULL = none */
  env_json: string | null;
  network: Def<string>;
  container_port: Def<number>;
  model: string | null;
  /** One API quota per token; NULL = unlimited */
  token_quota: BigNull;
  memory_mb: number | null;
  port_min: Def<number>;
  port_max: Def<number>;
  notes: string | null;
  created_at: Dt;
  updated_at: Dt;
  deleted_at: DtNull;
}

export interface PortalUsersTable {
  id: Def<string>;
  email: string;
  name: string | null;
  password_hash: string | null;
  google_id: string | null;
  department: string | null;
  status: Def<string>;
  quota_daily: BigDef;
  created_at: Dt;
  revoked_at: DtNull;
  telegram_user_id: BigNull;
  telegram_username: string | null;
  telegram_bound_at: DtNull;
}

export type SetupStatus = 'pending' | 'bootstrapping' | 'ready' | 'failed';
export interface UserInstancesTable {
  user_id: string;
  instance_id: string;
  tg_user_id: BigNull;
  tg_username: string | null;
  tg_bound_at: DtNull;
  tg_bot_token: string | null;
  tg_bot_username: string | null;
  profession_id: string | null;
  setup_status: Def<SetupStatus | null>;
}

export interface ChatMessagesTable {
  id: Generated<string>;
  user_id: string;
  instance_id: Def<string>;
  role: 'user' | 'assistant';
  content: string;
  created_at: DtNull;
  tokens: Def<number | null>;
}

/**
 * One API (MySQL `oneapi` and the legacy PostgreSQL), as one-api's and new-api's GORM models make
 * the tables: gorm int is BIGINT (read as strings), but `type:int` columns are INT (numbers).
 * Columns marked "flavour" exist in some flavours only: select them only when the detected
 * schema has them (src/db/oneapi-schema.ts).
 */
type Flag = ColumnType<number | boolean | null, number | boolean | null | undefined, number | boolean | null>;
/** A column only some flavours have: optional on insert. */
type Flavoured<T> = ColumnType<T | null, T | null | undefined, T | null>;
type BigFlavoured = Flavoured<string | bigint | number>;

export interface OneApiLogsTable {
  id: Generated<string>;
  user_id: BigNull;
  created_at: BigNull;
  type: BigNull;
  content: string | null;
  username: string | null;
  token_name: string | null;
  model_name: string | null;
  quota: BigNull;
  prompt_tokens: BigNull;
  completion_tokens: BigNull;
  channel_id: BigNull;
  /** flavour: one-api since 2025-01 */
  request_id: Flavoured<string>;
  elapsed_time: BigFlavoured;
  is_stream: Flag;
  system_prompt_reset: Flag;
  /** flavour: new-api */
  token_id: BigFlavoured;
  use_time: BigFlavoured;
  other: Flavoured<string>;
  group: Flavoured<string>;
  ip: Flavoured<string>;
}

export interface OneApiTokensTable {
  id: Generated<string>;
  user_id: BigNull;
  key: string | null;
  status: BigNull;
  name: string | null;
  created_time: BigNull;
  accessed_time: BigNull;
  expired_time: BigNull;
  remain_quota: BigNull;
  unlimited_quota: ColumnType<number | boolean | null, number | boolean | null, number | boolean | null>;
  used_quota: BigNull;
  /** flavour: one-api since 2024-04 */
  models: Flavoured<string>;
  subnet: Flavoured<string>;
  /** flavour: new-api (GORM soft delete) */
  deleted_at: Flavoured<Date | string>;
  group: Flavoured<string>;
}

export interface OneApiOptionsTable {
  key: string;
  value: string | null;
}

/** The MySQL server: three databases, addressed as "admin.x", "portal.x", "oneapi.x". */
export interface MysqlDB {
  'admin.servers': ServersTable;
  'admin.oc_instances': OcInstancesTable;
  'admin.admin_users': AdminUsersTable;
  'admin.instance_users': InstanceUsersTable;
  'admin.admin_logs': AdminLogsTable;
  'admin.oc_health_logs': OcHealthLogsTable;
  'admin.api_master_keys': ApiMasterKeysTable;
  'admin.oc_api_keys': OcApiKeysTable;
  'admin.usage_daily': UsageDailyTable;
  'admin.job_runs': JobRunsTable;
  'admin.instance_templates': InstanceTemplatesTable;
  'portal.users': PortalUsersTable;
  'portal.user_instances': UserInstancesTable;
  'portal.chat_messages': ChatMessagesTable;
  'oneapi.logs': OneApiLogsTable;
  'oneapi.tokens': OneApiTokensTable;
  'oneapi.options': OneApiOptionsTable;
  /** One API's logs: the oneapi database, or mysql.databases.logs (LOG_SQL_DSN) */
  'oneapi_logs.logs': OneApiLogsTable;
}

/** The legacy PostgreSQL One API database. */
export interface LegacyPgDB {
  logs: OneApiLogsTable;
  tokens: OneApiTokensTable;
}

export type ServerRow = Selectable<ServersTable>;
export type InstanceRow = Selectable<OcInstancesTable>;
export type PortalUserRow = Selectable<PortalUsersTable>;
export type AdminUserRow = Selectable<AdminUsersTable>;
export type UserInstanceRow = Selectable<UserInstancesTable>;
export type AdminLogRow = Selectable<AdminLogsTable>;
export type NewAdminLog = Insertable<AdminLogsTable>;
export type InstanceUpdate = Updateable<OcInstancesTable>;
