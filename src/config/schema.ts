// The config schema (zod): every key, its type and default. config.example.json documents the same keys.
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const offset = z.string().regex(/^[+-](0\d|1[0-4]):[0-5]\d$/, 'must be a UTC offset like +00:00 or +08:00');

export const mysqlSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(3306),
  user: z.string().min(1).default('root'),
  /** Path to a file holding the password (first line). Must not be readable by others. */
  passwordFile: z.string().min(1).nullable().default(null),
  databases: z.strictObject({
    admin: z.string().regex(/^[A-Za-z0-9_$]+$/, 'must be a plain database name').default('sayclaw_admin'),
    portal: z.string().regex(/^[A-Za-z0-9_$]+$/, 'must be a plain database name').default('sayclaw_portal'),
    oneapi: z.string().regex(/^[A-Za-z0-9_$]+$/, 'must be a plain database name').default('oneapi'),
  }).prefault({}),
  /** Session time_zone, set on every connection; DATETIME values are read and written in it. */
  timezone: offset.default('+00:00'),
  connectTimeoutMs: z.number().int().positive().default(10000),
  poolSize: z.number().int().min(1).max(100).default(4),
});

export const postgresSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(5432),
  user: z.string().min(1).default('postgres'),
  passwordFile: z.string().min(1).nullable().default(null),
  database: z.string().min(1).default('postgres'),
  connectTimeoutMs: z.number().int().positive().default(10000),
});

export const sshSchema = z.strictObject({
  /** Overrides servers.ssh_user when set. */
  user: z.string().min(1).nullable().default(null),
  /** Overrides servers.ssh_key_path when set. */
  keyPath: z.string().min(1).nullable().default(null),
  knownHostsFile: z.string().min(1).default('~/.config/sayclaw/known_hosts'),
  hostKeyPolicy: z.enum(['strict', 'accept-new', 'off']).default('accept-new'),
  connectTimeoutMs: z.number().int().positive().default(10000),
  commandTimeoutMs: z.number().int().positive().default(60000),
  /** Servers reached at once. */
  concurrency: z.number().int().min(1).max(1024).default(32),
  /** Channels at once on one connection; stays below OpenSSH's MaxSessions (10). */
  sessionsPerConnection: z.number().int().min(1).max(9).default(8),
});

export const dockerSchema = z.strictObject({
  transport: z.enum(['ssh', 'tls']).default('ssh'),
  tls: z.strictObject({
    caFile: z.string().nullable().default(null),
    certFile: z.string().nullable().default(null),
    keyFile: z.string().nullable().default(null),
  }).prefault({}),
});

export const usageSchema = z.strictObject({
  quotaPerUsd: z.number().int().positive().default(500000),
  /** IANA zone for report days, e.g. Asia/Shanghai. */
  timezone: z.string().min(1).default('UTC'),
  /** Last created_at (unix seconds or ISO) served by the legacy PostgreSQL; null = detect. */
  legacyUntil: z.union([z.number().int(), z.string()]).nullable().default(null),
  lockDir: z.string().min(1).default('~/.cache/sayclaw'),
});

export const keysSchema = z.strictObject({
  masterKeyFile: z.string().min(1).nullable().default(null),
});

export const profileSchema = z.strictObject({
  /** Recorded in admin_logs beside the OS user. */
  operator: z.string().min(1).nullable().default(null),
  mysql: mysqlSchema.prefault({}),
  postgres: postgresSchema.prefault({}),
  ssh: sshSchema.prefault({}),
  docker: dockerSchema.prefault({}),
  usage: usageSchema.prefault({}),
  keys: keysSchema.prefault({}),
});
export type Config = z.infer<typeof profileSchema>;

/** The file: profile keys at the top level are the base; profiles.NAME overrides them. */
export const fileSchema = z.looseObject({
  defaultProfile: z.string().optional(),
  profiles: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
