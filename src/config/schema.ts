// The config schema (zod/mini: the tree-shakable build keeps startup fast): every key, its type
// and default. config.example.json documents the same keys.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().check(z.minimum(min), z.maximum(max));
const nonEmpty = () => z.string().check(z.minLength(1));
const port = () => int(1, 65535);
const offset = z.string().check(z.regex(/^[+-](0\d|1[0-4]):[0-5]\d$/, 'must be a UTC offset like +00:00 or +08:00'));
const dbName = z.string().check(z.regex(/^[A-Za-z0-9_$]+$/, 'must be a plain database name'));
const def = <T extends z.core.SomeType>(s: T, v: z.core.util.NoUndefined<z.core.output<T>>) => z._default(s, v as never);
const nullPath = () => def(z.nullable(nonEmpty()), null);

export const mysqlSchema = z.strictObject({
  host: def(nonEmpty(), '127.0.0.1'),
  port: def(port(), 3306),
  user: def(nonEmpty(), 'root'),
  /** Path to a file holding the password (first line). Must not be readable by others. */
  passwordFile: nullPath(),
  databases: z.prefault(z.strictObject({
    admin: def(dbName, 'sayclaw_admin'),
    portal: def(dbName, 'sayclaw_portal'),
    oneapi: def(dbName, 'oneapi'),
    /** One API's LOG_SQL_DSN on MySQL: the database holding its `logs` table; null = the oneapi database. */
    logs: def(z.nullable(dbName), null),
  }), {}),
  /** Session time_zone, set on every connection; DATETIME values are read and written in it. */
  timezone: def(offset, '+00:00'),
  connectTimeoutMs: def(int(1), 10000),
  poolSize: def(int(1, 100), 4),
});

export const postgresSchema = z.strictObject({
  host: def(nonEmpty(), '127.0.0.1'),
  port: def(port(), 5432),
  user: def(nonEmpty(), 'postgres'),
  passwordFile: nullPath(),
  database: def(nonEmpty(), 'postgres'),
  connectTimeoutMs: def(int(1), 10000),
});

export const sshSchema = z.strictObject({
  /** Overrides servers.ssh_user when set. */
  user: nullPath(),
  /** Overrides servers.ssh_key_path when set. */
  keyPath: nullPath(),
  knownHostsFile: def(nonEmpty(), '~/.config/sayclaw/known_hosts'),
  hostKeyPolicy: def(z.enum(['strict', 'accept-new', 'off']), 'accept-new'),
  connectTimeoutMs: def(int(1), 10000),
  commandTimeoutMs: def(int(1), 60000),
  /** Servers reached at once. */
  concurrency: def(int(1, 1024), 32),
  /** Channels at once on one connection; stays below OpenSSH's MaxSessions (10). */
  sessionsPerConnection: def(int(1, 9), 8),
});

const socketPath = () => z.string().check(z.regex(/^\/\S*$/, 'must be an absolute path on the server, like /var/run/docker.sock'));

export const dockerSchema = z.strictObject({
  transport: def(z.enum(['ssh', 'tls']), 'ssh'),
  /**
   * The engine's unix socket on every server (over SSH). null: DOCKER_HOST as the server's SSH
   * session sees it when it is unix://PATH, else /var/run/docker.sock.
   */
  socket: def(z.nullable(socketPath()), null),
  /** Per server (name or id): its engine's socket, over docker.socket. */
  sockets: def(z.record(z.string(), socketPath()), {}),
  /** auto: direct-streamlocal to the socket, dial-stdio where the sshd refuses it; dial-stdio: always `docker system dial-stdio`. */
  sshChannel: def(z.enum(['auto', 'dial-stdio']), 'auto'),
  tls: z.prefault(z.strictObject({
    caFile: def(z.nullable(z.string()), null),
    certFile: def(z.nullable(z.string()), null),
    keyFile: def(z.nullable(z.string()), null),
  }), {}),
});

export const gatewaySchema = z.strictObject({
  /** PEM file of a CA trusted for https gateway URLs, beside the default ones. */
  caFile: nullPath(),
  /** The One API base URL new instances get for their model provider (OPENAI_BASE_URL); null = none set. */
  oneApiBaseUrl: nullPath(),
});

/** A positive decimal, e.g. 500000 or "7.5" (a string keeps every digit exact). */
const positiveDecimal = z.union([
  z.number().check(z.positive()),
  z.string().check(z.regex(/^\s*(?:\d+(?:\.\d+)?|\.\d+)\s*$/, 'must be a positive decimal number like 500000 or 7.5'),
    z.refine((s) => /[1-9]/.test(s), 'must be greater than 0')),
]);

export const usageSchema = z.strictObject({
  /** One API's QuotaPerUnit (quota per USD). null = read it from One API's options table, else 500000. */
  quotaPerUsd: def(z.nullable(positiveDecimal), null),
  /** IANA zone for report days, e.g. Asia/Shanghai. */
  timezone: def(nonEmpty(), 'UTC'),
  /** Last created_at (unix seconds or ISO) served by the legacy PostgreSQL; null = detect. */
  legacyUntil: def(z.nullable(z.union([z.int(), z.string()])), null),
  /**
   * Where One API's logs are: "split" = MySQL after the cut-over, the legacy PostgreSQL before it;
   * "mysql" = MySQL only (no legacy copy); "postgres" = One API's LOG_SQL_DSN points at the
   * PostgreSQL server configured under `postgres`, so every log row is read there.
   */
  logsSource: def(z.enum(['split', 'mysql', 'postgres']), 'split'),
  lockDir: def(nonEmpty(), '~/.cache/sayclaw'),
});

export const keysSchema = z.strictObject({
  masterKeyFile: nullPath(),
});

export const profileSchema = z.strictObject({
  /** Recorded in admin_logs beside the OS user. */
  operator: nullPath(),
  mysql: z.prefault(mysqlSchema, {}),
  postgres: z.prefault(postgresSchema, {}),
  ssh: z.prefault(sshSchema, {}),
  docker: z.prefault(dockerSchema, {}),
  gateway: z.prefault(gatewaySchema, {}),
  usage: z.prefault(usageSchema, {}),
  keys: z.prefault(keysSchema, {}),
});
export type Config = z.infer<typeof profileSchema>;

/** The file: profile keys at the top level are the base; profiles.NAME overrides them. */
export const fileSchema = z.looseObject({
  defaultProfile: z.optional(z.string()),
  profiles: z.optional(z.record(z.string(), z.record(z.string(), z.unknown()))),
});
