// Error kinds and their exit codes. The only place that knows the numbers; bin/sayclaw maps them.
export const ExitCode = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
  PARTIAL: 3,
  NOT_FOUND: 4,
  CONFIG: 5,
  LOCKED: 75,
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP: Array<[number, string, string]> = [
  [0, 'ok', 'the command did what was asked (an empty list is ok)'],
  [1, 'runtime', 'unexpected error; an output that cannot be written; a transaction still deadlocked after its retries; schema drift found by doctor'],
  [2, 'usage', 'bad flag, verb or input value; a write refused (no --yes without a TTY, guard hit)'],
  [3, 'partial', 'some servers or items failed, drifted or are unhealthy/over quota'],
  [4, 'not found', 'a named instance, server, user or key does not exist'],
  [5, 'config/connection', 'invalid config, unreadable secret file, database or host unreachable, a missing table (schema init), a lost COMMIT that was rolled back or whose outcome is unknown'],
  [75, 'locked', 'another run holds the lock (cron: try later)'],
  [130, 'interrupted', 'Ctrl-C / SIGINT / SIGTERM; nothing half-written'],
];

export class SayclawError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, exitCode: number, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = opts.hint;
  }
}

/** Bad flag, bad value, refused write: exit 2. */
export class UsageError extends SayclawError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.USAGE, opts);
  }
}
/** A named resource does not exist: exit 4. */
export class NotFoundError extends SayclawError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.NOT_FOUND, opts);
  }
}
/** Config invalid or a connection failed: exit 5. */
export class ConfigError extends SayclawError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.CONFIG, opts);
  }
}
export class ConnectionError extends SayclawError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.CONFIG, opts);
  }
}
/** Some items failed; the output already says which: exit 3. */
export class PartialFailure extends SayclawError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.PARTIAL, opts);
  }
}
export class LockedError extends SayclawError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.LOCKED, opts);
  }
}
export class InterruptedError extends SayclawError {
  constructor(message = 'interrupted', opts: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.INTERRUPTED, opts);
  }
}
/** Exit with a code but no message of our own (the verb already printed its report). */
export class ExitSignal extends SayclawError {
  constructor(exitCode: number, message = '') {
    super(message, exitCode);
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST',
  'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', '28P01', '28000', '3D000', '57P03',
]);
/** Refused before a byte was sent: nothing can have happened on that connection. */
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The configured MySQL database names (logical name -> real name), when known. */
export type DatabaseNames = Partial<Record<'admin' | 'portal' | 'oneapi', string>> & { logs?: string | null };
const DB_ENV = { admin: 'SAYCLAW_DB_ADMIN', portal: 'SAYCLAW_DB_PORTAL', oneapi: 'SAYCLAW_DB_ONEAPI', logs: 'SAYCLAW_DB_LOGS' } as const;
/** Tables One API creates (sayclaw never does): a missing one is a database-name question, not schema init. */
const ONEAPI_TABLES = new Set(['tokens', 'logs', 'users', 'options', 'channels', 'abilities', 'redemptions']);

/**
 * The setting naming the database that holds `table` (when two settings name one database, the
 * one whose tables these are: One API's tables under SAYCLAW_DB_ONEAPI / SAYCLAW_DB_LOGS), or all
 * of them when unknown.
 */
function dbSetting(db: string | undefined, names: DatabaseNames | undefined, table?: string): string {
  const keys = (Object.keys(DB_ENV) as Array<keyof typeof DB_ENV>).filter((k) => names?.[k] != null && names[k] === db);
  const oneapi = table !== undefined && ONEAPI_TABLES.has(table);
  const pick = oneapi ? (table === 'logs' && keys.includes('logs') ? 'logs' : keys.find((k) => k === 'oneapi')) ?? keys[0] : keys.find((k) => k !== 'logs') ?? keys[0];
  return pick ? `${DB_ENV[pick]} / mysql.databases.${pick}` : 'SAYCLAW_DB_ADMIN, SAYCLAW_DB_PORTAL, SAYCLAW_DB_ONEAPI / mysql.databases.*';
}

/** Turn anything thrown into a SayclawError with a one-line message. */
export function classifyError(err: unknown, names?: DatabaseNames): SayclawError {
  if (err instanceof SayclawError) return err;
  const e = err as { code?: string; message?: string; errno?: number; name?: string };
  const code = e?.code;
  if (e?.name === 'ExitPromptError' || e?.name === 'AbortError') return new InterruptedError('interrupted', { cause: err });
  if (code && REFUSED_CODES.has(code)) {
    return new ConnectionError(`cannot connect to the database: ${firstLine(e.message) || code}; nothing was sent on that connection`, {
      hint: 'is it running and reachable? try: sayclaw doctor', cause: err,
    });
  }
  if (code === 'ER_NO_SUCH_TABLE' || e?.errno === 1146) {
    const m = /Table '([^'.]+)\.([^']+)' doesn't exist/.exec(e.message ?? '');
    const setting = dbSetting(m?.[1], names, m?.[2]);
    // One API's own tables are One API's to create: only the database name can be wrong
    const oneapi = !!m && (setting.startsWith('SAYCLAW_DB_ONEAPI') || setting.startsWith('SAYCLAW_DB_LOGS'));
    return new ConnectionError(m ? `table ${m[2]} does not exist in database ${m[1]}` : firstLine(e.message), {
      hint: oneapi ? `that is One API's table (sayclaw never creates it): check the database name ${setting}; sayclaw doctor`
        : `create the sayclaw tables with: sayclaw schema init; or check the database name ${setting}`, cause: err,
    });
  }
  if (code === '42P01') {
    return new ConnectionError(`PostgreSQL: ${firstLine(e.message)}`, { hint: 'check the legacy database name (postgres.database, SAYCLAW_PG_URL)', cause: err });
  }
  if (code === 'ER_TABLEACCESS_DENIED_ERROR' || e?.errno === 1142) {
    const m = /for table `([^`]+)`\.`([^`]+)`/.exec(e.message ?? '');
    return new ConnectionError(firstLine(e.message), {
      hint: `check the database name ${dbSetting(m?.[1], names)} and the user's GRANTs; sayclaw doctor`, cause: err,
    });
  }
  if (code === 'ER_BAD_DB_ERROR' || e?.errno === 1049) {
    return new ConnectionError(firstLine(e.message), { hint: `check ${dbSetting(undefined, names)}, or create it with: sayclaw schema init`, cause: err });
  }
  const lost = /connection is in closed state|connection lost|server closed the connection|Connection terminated/i.test(e?.message ?? '');
  if (lost || (e as { fatal?: boolean })?.fatal === true) {
    // writes resolve their own outcome (src/db/transaction.ts); this is a read or a lone statement
    return new ConnectionError(`database connection lost: ${firstLine(e.message)}`, {
      hint: 'check the database and re-run', cause: err,
    });
  }
  if (code && CONNECTION_CODES.has(code)) {
    return new ConnectionError(`database connection failed (${code}): ${firstLine(e.message)}`, {
      hint: 'check the host, port, user and password source (sayclaw config show; sayclaw doctor)',
      cause: err,
    });
  }
  return new SayclawError(firstLine(e?.message ?? String(err)) || 'unexpected error', ExitCode.RUNTIME, { cause: err });
}

export function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0]!.trim();
}
