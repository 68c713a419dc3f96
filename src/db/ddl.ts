// The expected schema of sayclaw's own databases, the one copy in the project: `schema
// init|diff|print`, `doctor` and the tests read it. Tables given by the seed are copied column
// for column; the others are assumptions documented in docs/schema.md. One API's tables are
// here only so `schema init` can make a demo server (see the note on `oneapi` below).

export type DbKey = 'admin' | 'portal' | 'oneapi';

export interface TableDdl {
  name: string;
  /** CREATE TABLE statement with the table name only (the database is chosen at run time). */
  ddl: string;
  /** true when the seed gives this DDL; false when it is our assumption. */
  fromSeed: boolean;
}

const T = (name: string, fromSeed: boolean, body: string): TableDdl => ({
  name,
  fromSeed,
  ddl: `CREATE TABLE \`${name}\` (\n${body.trim()}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
});

export const MYSQL_SCHEMA: Record<DbKey, TableDdl[]> = {
  admin: [
    T('servers', true, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`name\` varchar(100) DEFAULT NULL,
  \`ip\` varchar(45) DEFAULT NULL,
  \`region\` varchar(50) DEFAULT NULL,
  \`provider\` varchar(50) DEFAULT 'gcp',
  \`cpu_cores\` int DEFAULT NULL,
  \`memory_gb\` int DEFAULT NULL,
  \`disk_gb\` int DEFAULT NULL,
  \`status\` varchar(20) NOT NULL DEFAULT 'active',
  \`ssh_user\` varchar(50) DEFAULT 'root',
  \`ssh_port\` int NOT NULL DEFAULT '22',
  \`docker_port\` int NOT NULL DEFAULT '2376',
  \`notes\` text,
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  \`ssh_key_path\` varchar(200) NOT NULL DEFAULT '/root/.ssh/id_ed25519_openclaw',
  PRIMARY KEY (\`id\`),
  KEY \`idx_status\` (\`status\`)`),
    T('oc_instances', true, `
  \`id\` varchar(100) NOT NULL,
  \`container_id\` varchar(100) DEFAULT NULL,
  \`server_id\` varchar(36) DEFAULT NULL,
  \`assigned_user_id\` varchar(36) DEFAULT NULL,
  \`name\` varchar(100) DEFAULT NULL,
  \`gateway_port\` int DEFAULT NULL,
  \`gateway_url\` varchar(255) DEFAULT NULL,
  \`gateway_token\` varchar(255) DEFAULT NULL,
  \`model\` varchar(100) DEFAULT NULL,
  \`health_status\` varchar(20) NOT NULL DEFAULT 'unknown',
  \`health_fail_count\` int NOT NULL DEFAULT '0',
  \`total_requests\` bigint NOT NULL DEFAULT '0',
  \`total_tokens\` bigint NOT NULL DEFAULT '0',
  \`last_health_at\` datetime(3) DEFAULT NULL,
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  \`notes\` text,
  \`config_json\` text,
  PRIMARY KEY (\`id\`),
  KEY \`idx_server\` (\`server_id\`)`),
    T('admin_users', true, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`email\` varchar(255) NOT NULL,
  \`password_hash\` varchar(255) NOT NULL,
  \`name\` varchar(100) DEFAULT NULL,
  \`role\` varchar(20) NOT NULL DEFAULT 'admin',
  \`status\` varchar(20) NOT NULL DEFAULT 'active',
  \`last_login_at\` datetime(3) DEFAULT NULL,
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uk_email\` (\`email\`)`),
    T('instance_users', true, `
  \`instance_id\` varchar(100) NOT NULL,
  \`user_email\` varchar(255) NOT NULL,
  \`assigned_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (\`instance_id\`,\`user_email\`)`),
    T('admin_logs', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`os_user\` varchar(100) DEFAULT NULL,
  \`operator\` varchar(100) DEFAULT NULL,
  \`action\` varchar(64) NOT NULL,
  \`target_type\` varchar(32) NOT NULL,
  \`target_id\` varchar(255) NOT NULL,
  \`before_json\` mediumtext,
  \`after_json\` mediumtext,
  \`reason\` text,
  \`tool\` varchar(64) NOT NULL DEFAULT 'sayclaw',
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`idx_target\` (\`target_type\`,\`target_id\`),
  KEY \`idx_created\` (\`created_at\`),
  KEY \`idx_target_created\` (\`target_id\`,\`created_at\`),
  KEY \`idx_action_created\` (\`action\`,\`created_at\`)`),
    T('oc_health_logs', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`instance_id\` varchar(100) NOT NULL,
  \`status\` varchar(20) NOT NULL,
  \`live\` tinyint(1) DEFAULT NULL,
  \`ready\` tinyint(1) DEFAULT NULL,
  \`latency_ms\` int DEFAULT NULL,
  \`http_status\` int DEFAULT NULL,
  \`error\` varchar(500) DEFAULT NULL,
  \`via\` varchar(20) NOT NULL DEFAULT 'http',
  \`checked_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`idx_instance_checked\` (\`instance_id\`,\`checked_at\`)`),
    T('api_master_keys', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`provider\` varchar(50) NOT NULL,
  \`name\` varchar(100) NOT NULL,
  \`encrypted_key\` text NOT NULL,
  \`key_hint\` varchar(32) DEFAULT NULL,
  \`master_key_id\` varchar(16) DEFAULT NULL,
  \`status\` varchar(20) NOT NULL DEFAULT 'active',
  \`rotated_from_id\` varchar(36) DEFAULT NULL,
  \`rotated_at\` datetime(3) DEFAULT NULL,
  \`revoked_at\` datetime(3) DEFAULT NULL,
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`idx_provider\` (\`provider\`),
  KEY \`idx_rotated_from\` (\`rotated_from_id\`)`),
    T('oc_api_keys', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`instance_id\` varchar(100) NOT NULL,
  \`oneapi_token_id\` bigint DEFAULT NULL,
  \`oneapi_token_name\` varchar(191) DEFAULT NULL,
  \`key_hint\` varchar(32) DEFAULT NULL,
  \`status\` varchar(20) NOT NULL DEFAULT 'active',
  \`last_used_at\` datetime(3) DEFAULT NULL,
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`idx_instance\` (\`instance_id\`),
  KEY \`idx_token_name\` (\`oneapi_token_name\`)`),
    T('usage_daily', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`day\` date NOT NULL,
  \`scope\` varchar(20) NOT NULL,
  \`scope_id\` varchar(255) NOT NULL,
  \`requests\` bigint NOT NULL DEFAULT '0',
  \`prompt_tokens\` bigint NOT NULL DEFAULT '0',
  \`completion_tokens\` bigint NOT NULL DEFAULT '0',
  \`quota\` bigint NOT NULL DEFAULT '0',
  \`cost_usd\` decimal(16,6) NOT NULL DEFAULT '0.000000',
  \`updated_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uk_day_scope\` (\`day\`,\`scope\`,\`scope_id\`)`),
    T('instance_templates', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`name\` varchar(100) NOT NULL,
  \`image\` varchar(255) NOT NULL,
  \`command_json\` text,
  \`env_json\` text,
  \`network\` varchar(10) NOT NULL DEFAULT 'host',
  \`container_port\` int NOT NULL DEFAULT '18789',
  \`model\` varchar(100) DEFAULT NULL,
  \`token_quota\` bigint DEFAULT NULL,
  \`memory_mb\` int DEFAULT NULL,
  \`port_min\` int NOT NULL DEFAULT '18789',
  \`port_max\` int NOT NULL DEFAULT '19788',
  \`notes\` text,
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`updated_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`idx_name\` (\`name\`)`),
    T('job_runs', false, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`job\` varchar(64) NOT NULL,
  \`args_json\` text,
  \`host\` varchar(255) DEFAULT NULL,
  \`pid\` int DEFAULT NULL,
  \`status\` varchar(20) NOT NULL DEFAULT 'running',
  \`rows_processed\` bigint NOT NULL DEFAULT '0',
  \`error\` text,
  \`started_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`finished_at\` datetime(3) DEFAULT NULL,
  \`deleted_at\` datetime(3) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`idx_job_started\` (\`job\`,\`started_at\`)`),
  ],
  portal: [
    T('users', true, `
  \`id\` varchar(36) NOT NULL DEFAULT (uuid()),
  \`email\` varchar(255) NOT NULL,
  \`name\` varchar(100) DEFAULT NULL,
  \`password_hash\` varchar(64) DEFAULT NULL,
  \`google_id\` varchar(128) DEFAULT NULL,
  \`department\` varchar(100) DEFAULT NULL,
  \`status\` varchar(20) NOT NULL DEFAULT 'active',
  \`quota_daily\` bigint NOT NULL DEFAULT '100000',
  \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`revoked_at\` datetime(3) DEFAULT NULL,
  \`telegram_user_id\` bigint DEFAULT NULL,
  \`telegram_username\` varchar(64) DEFAULT NULL,
  \`telegram_bound_at\` datetime DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uk_email\` (\`email\`)`),
    T('user_instances', true, `
  \`user_id\` varchar(36) NOT NULL,
  \`instance_id\` varchar(100) NOT NULL,
  \`tg_user_id\` bigint DEFAULT NULL,
  \`tg_username\` varchar(64) DEFAULT NULL,
  \`tg_bound_at\` datetime DEFAULT NULL,
  \`tg_bot_token\` varchar(200) DEFAULT NULL,
  \`tg_bot_username\` varchar(64) DEFAULT NULL,
  \`profession_id\` varchar(64) DEFAULT NULL COMMENT '领取的职业 ID',
  \`setup_status\` enum('pending','bootstrapping','ready','failed') DEFAULT 'pending' COMMENT '初始化状态',
  PRIMARY KEY (\`user_id\`,\`instance_id\`),
  CONSTRAINT \`user_instances_ibfk_1\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\` (\`id\`)`),
    T('chat_messages', true, `
  \`id\` bigint NOT NULL AUTO_INCREMENT,
  \`user_id\` varchar(36) NOT NULL,
  \`instance_id\` varchar(64) NOT NULL DEFAULT '',
  \`role\` enum('user','assistant') NOT NULL,
  \`content\` text NOT NULL,
  \`created_at\` datetime DEFAULT CURRENT_TIMESTAMP,
  \`tokens\` int DEFAULT '0',
  PRIMARY KEY (\`id\`),
  KEY \`idx_user_instance\` (\`user_id\`,\`instance_id\`),
  KEY \`idx_created\` (\`created_at\`)`),
  ],
  // One API's tables are One API's own (its GORM AutoMigrate makes them); these are what
  // one-api @8df4a267's models create on MySQL, for `schema init` on an empty demo/staging
  // server only. `doctor`/`schema diff` do not compare One API tables with this text: they check
  // the columns sayclaw reads, by type family, on any flavour (src/db/oneapi-schema.ts).
  oneapi: [
    T('logs', false, `
  \`id\` bigint NOT NULL AUTO_INCREMENT,
  \`user_id\` bigint DEFAULT NULL,
  \`created_at\` bigint DEFAULT NULL,
  \`type\` bigint DEFAULT NULL,
  \`content\` longtext,
  \`username\` varchar(191) DEFAULT '',
  \`token_name\` varchar(191) DEFAULT '',
  \`model_name\` varchar(191) DEFAULT '',
  \`quota\` bigint DEFAULT '0',
  \`prompt_tokens\` bigint DEFAULT '0',
  \`completion_tokens\` bigint DEFAULT '0',
  \`channel_id\` bigint DEFAULT NULL,
  \`request_id\` varchar(191) DEFAULT '',
  \`elapsed_time\` bigint DEFAULT '0',
  \`is_stream\` tinyint(1) DEFAULT '0',
  \`system_prompt_reset\` tinyint(1) DEFAULT '0',
  PRIMARY KEY (\`id\`),
  KEY \`idx_logs_user_id\` (\`user_id\`),
  KEY \`idx_created_at_type\` (\`created_at\`,\`type\`),
  KEY \`index_username_model_name\` (\`model_name\`,\`username\`),
  KEY \`idx_logs_token_name\` (\`token_name\`),
  KEY \`idx_logs_model_name\` (\`model_name\`),
  KEY \`idx_logs_channel_id\` (\`channel_id\`)`),
    T('tokens', false, `
  \`id\` bigint NOT NULL AUTO_INCREMENT,
  \`user_id\` bigint DEFAULT NULL,
  \`key\` char(48) DEFAULT NULL,
  \`status\` bigint DEFAULT '1',
  \`name\` varchar(191) DEFAULT NULL,
  \`created_time\` bigint DEFAULT NULL,
  \`accessed_time\` bigint DEFAULT NULL,
  \`expired_time\` bigint DEFAULT '-1',
  \`remain_quota\` bigint DEFAULT '0',
  \`unlimited_quota\` tinyint(1) DEFAULT '0',
  \`used_quota\` bigint DEFAULT '0',
  \`models\` text,
  \`subnet\` varchar(191) DEFAULT '',
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`idx_tokens_key\` (\`key\`),
  KEY \`idx_tokens_name\` (\`name\`)`),
    T('users', false, `
  \`id\` bigint NOT NULL AUTO_INCREMENT,
  \`username\` varchar(191) DEFAULT NULL,
  \`password\` longtext NOT NULL,
  \`display_name\` varchar(191) DEFAULT NULL,
  \`role\` int DEFAULT '1',
  \`status\` int DEFAULT '1',
  \`email\` varchar(191) DEFAULT NULL,
  \`github_id\` varchar(191) DEFAULT NULL,
  \`wechat_id\` varchar(191) DEFAULT NULL,
  \`lark_id\` varchar(191) DEFAULT NULL,
  \`oidc_id\` varchar(191) DEFAULT NULL,
  \`access_token\` char(32) DEFAULT NULL,
  \`quota\` bigint DEFAULT '0',
  \`used_quota\` bigint DEFAULT '0',
  \`request_count\` int DEFAULT '0',
  \`group\` varchar(32) DEFAULT 'default',
  \`aff_code\` varchar(32) DEFAULT NULL,
  \`inviter_id\` int DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uni_users_username\` (\`username\`),
  UNIQUE KEY \`idx_users_access_token\` (\`access_token\`),
  UNIQUE KEY \`idx_users_aff_code\` (\`aff_code\`),
  KEY \`idx_users_username\` (\`username\`),
  KEY \`idx_users_display_name\` (\`display_name\`),
  KEY \`idx_users_email\` (\`email\`),
  KEY \`idx_users_inviter_id\` (\`inviter_id\`)`),
    T('options', false, `
  \`key\` varchar(191) NOT NULL,
  \`value\` longtext,
  PRIMARY KEY (\`key\`)`),
  ],
};

/** Legacy One API on PostgreSQL (one-api @8df4a267's models; `schema init` on an empty server only). */
export const PG_SCHEMA: TableDdl[] = [
  { name: 'logs', fromSeed: false, ddl: `CREATE TABLE logs (
  id bigserial PRIMARY KEY,
  user_id bigint,
  created_at bigint,
  type bigint,
  content text,
  username text DEFAULT '',
  token_name text DEFAULT '',
  model_name text DEFAULT '',
  quota bigint DEFAULT 0,
  prompt_tokens bigint DEFAULT 0,
  completion_tokens bigint DEFAULT 0,
  channel_id bigint,
  request_id text DEFAULT '',
  elapsed_time bigint DEFAULT 0,
  is_stream boolean DEFAULT false,
  system_prompt_reset boolean DEFAULT false
)`, },
  { name: 'tokens', fromSeed: false, ddl: `CREATE TABLE tokens (
  id bigserial PRIMARY KEY,
  user_id bigint,
  "key" char(48) UNIQUE,
  status bigint DEFAULT 1,
  name text,
  created_time bigint,
  accessed_time bigint,
  expired_time bigint DEFAULT -1,
  remain_quota bigint DEFAULT 0,
  unlimited_quota boolean DEFAULT false,
  used_quota bigint DEFAULT 0,
  models text,
  subnet text DEFAULT ''
)`, },
];

export const PG_INDEXES: string[] = [
  'CREATE INDEX IF NOT EXISTS idx_created_at_type ON logs (created_at, type)',
  'CREATE INDEX IF NOT EXISTS idx_logs_token_name ON logs (token_name)',
  'CREATE INDEX IF NOT EXISTS idx_logs_user_id ON logs (user_id)',
  'CREATE INDEX IF NOT EXISTS idx_logs_model_name ON logs (model_name)',
];

export interface ExpectedIndex { name: string; columns: string[] }

/**
 * The plain (non-unique) secondary indexes of one of our CREATE TABLE statements. `schema init`
 * adds the ones an existing table lacks: an index changes no data and no column, and a unique
 * one could fail on rows already there, so those are left to the operator.
 */
export function parseIndexes(ddl: string): ExpectedIndex[] {
  const out: ExpectedIndex[] = [];
  for (const line of ddl.split('\n')) {
    const m = /^\s*KEY\s+`([^`]+)`\s+\(([^)]+)\)/.exec(line);
    if (m) out.push({ name: m[1]!, columns: m[2]!.split(',').map((c) => c.trim().replace(/`/g, '')) });
  }
  return out;
}

export interface ExpectedColumn { name: string; type: string; nullable: boolean }

/** Columns of one of our CREATE TABLE statements (our own fixed format: one column a line). */
export function parseColumns(ddl: string): ExpectedColumn[] {
  const out: ExpectedColumn[] = [];
  for (const line of ddl.split('\n').slice(1)) {
    const m = /^\s*[`"]?([a-z_]+)[`"]?\s+([a-z]+(?:\([^)]*\))?(?:\s+unsigned)?)(.*)$/i.exec(line);
    if (!m) continue;
    const [, name, type, rest] = m;
    if (/^(PRIMARY|KEY|UNIQUE|CONSTRAINT|INDEX)$/i.test(name!)) continue;
    out.push({ name: name!, type: type!.toLowerCase(), nullable: !/NOT NULL|PRIMARY KEY/i.test(rest!) });
  }
  return out;
}
