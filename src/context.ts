// Context: everything a verb touches — streams, TTY facts, env, config, clock, prompts,
// cancellation, and lazily opened database handles. Verbs never read process.* directly.
import { userInfo } from 'node:os';
import type { Readable } from 'node:stream';
import type { LoadedConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { MysqlHandle } from './db/mysql.js';
import type { PgHandle } from './db/pg.js';
import { ConnectionError, ConfigError, UsageError, InterruptedError, firstLine, SayclawError } from './errors.js';
import type { OutputFormat, RenderTarget } from './output/render.js';
import { escapeMessage } from './output/escape.js';
import { plural } from './output/format.js';
import type { SinkTarget } from './output/sink.js';

export interface IO {
  stdout: { write(s: string | Uint8Array): unknown };
  stderr: { write(s: string): unknown };
  stdin: Readable;
  stdoutIsTTY: boolean;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

/**
 * With `accept`, the finished prompt is ticked only when accept(answer) holds (else crossed): a
 * terminal never shows a tick beside an answer that is about to be refused.
 */
export interface PromptCheck { accept?: (answer: string) => boolean }

export interface Prompter {
  /** Free text answer (used for "type the id to confirm"). */
  input(message: string, opts?: PromptCheck): Promise<string>;
  confirm(message: string): Promise<boolean>;
  /** No echo. */
  password(message: string, opts?: PromptCheck): Promise<string>;
}

export interface GlobalOptions {
  config?: string;
  profile?: string;
  set?: string[];
  output?: string;
  /** --fields a,b,c, parsed */
  fields?: string[];
  color?: boolean;
  debug?: boolean;
  quiet?: boolean;
}

/** Prompts through @inquirer/prompts, loaded only when a prompt is really shown. */
export function inquirerPrompter(io: IO, signal?: AbortSignal): Prompter {
  // io.stdin only when a prompt is shown (building process.stdin costs a start that never prompts)
  const ctxOpts = { get input() { return io.stdin; }, output: io.stderr as unknown as NodeJS.WritableStream, signal } as const;
  return {
    async input(message, opts) {
      if (opts?.accept) {
        const { checkedInput } = await import('./prompts.js');
        return checkedInput({ message, accept: opts.accept, echo: true }, ctxOpts as never);
      }
      const { input } = await import('@inquirer/prompts');
      return input({ message }, ctxOpts as never);
    },
    async confirm(message) {
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: false }, ctxOpts as never);
    },
    async password(message, opts) {
      if (opts?.accept) {
        const { checkedInput } = await import('./prompts.js');
        return checkedInput({ message, accept: opts.accept, echo: false }, ctxOpts as never);
      }
      const { password } = await import('@inquirer/prompts');
      return password({ message, mask: false }, ctxOpts as never);
    },
  };
}

export class Context {
  readonly io: IO;
  readonly opts: GlobalOptions;
  readonly prompter: Prompter;
  readonly signal: AbortSignal;
  readonly clock: () => Date;
  /** Verb flags mapped onto config keys (set by verbs before config() is first called). */
  configFlags: Record<string, unknown> = {};
  private loaded?: LoadedConfig;
  /** The config loader (zod is heavy): imported by init(), before a verb runs. */
  private loader?: typeof import('./config/load.js');
  private mysqlHandle?: Promise<MysqlHandle>;
  private pgHandle?: Promise<PgHandle>;
  private closers: Array<() => Promise<void> | void> = [];
  private warned = new Set<string>();
  /** The renderer looked at --fields (see out). */
  fieldsUsed = false;

  constructor(io: IO, opts: GlobalOptions, extra: { prompter?: Prompter; signal?: AbortSignal; clock?: () => Date } = {}) {
    this.io = io;
    this.opts = opts;
    this.signal = extra.signal ?? new AbortController().signal;
    this.prompter = extra.prompter ?? inquirerPrompter(io, this.signal);
    this.clock = extra.clock ?? (() => new Date());
  }

  /** Colour: off when stdout is not a TTY, NO_COLOR or --no-color; FORCE_COLOR turns it on. */
  get color(): boolean {
    const env = this.io.env;
    if (this.opts.color === false) return false;
    if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
    if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
    return this.io.stdoutIsTTY;
  }

  /** True when a human can answer prompts. */
  get interactive(): boolean {
    return this.io.stdinIsTTY && this.io.stdoutIsTTY;
  }

  get outputFormat(): OutputFormat {
    return (this.opts.output as OutputFormat | undefined) ?? 'table';
  }

  /** Where renderers write: stdout, with backpressure, --fields and Ctrl-C. */
  get out(): RenderTarget {
    const self = this;
    const stdout = this.io.stdout as IO['stdout'] & { once?: (e: 'drain', f: () => void) => unknown; writableNeedDrain?: boolean };
    return {
      write: (s) => stdout.write(s) !== false,
      drain: async () => {
        if (typeof stdout.once !== 'function' || stdout.writableNeedDrain === false) return;
        await new Promise<void>((res) => {
          const done = () => { this.signal.removeEventListener('abort', done); res(); };
          stdout.once!('drain', done);
          this.signal.addEventListener('abort', done, { once: true });
        });
      },
      isTTY: this.io.stdoutIsTTY, color: this.color, now: this.clock(), signal: this.signal,
      // read by the renderer: runCli warns when --fields was given to a verb that never rendered
      get fields() { self.fieldsUsed = true; return self.opts.fields; },
    };
  }

  print(s: string): void { this.io.stdout.write(s); }
  /** Messages on stderr: control bytes from data or arguments are shown escaped, never raw.
   * info is suppressed by --quiet; warnings and errors are not. */
  info(s: string): void { if (!this.opts.quiet) this.io.stderr.write(`${escapeMessage(s)}\n`); }
  warn(s: string): void {
    if (this.warned.has(s)) return;
    this.warned.add(s);
    this.io.stderr.write(`${escapeMessage(s.startsWith('warning:') ? s : `warning: ${s}`)}\n`);
  }
  debug(s: string): void { if (this.opts.debug) this.io.stderr.write(`debug: ${escapeMessage(s)}\n`); }

  /**
   * The count line every list verb prints on stderr after its rows: "3 instances", "1 row", and
   * `note` after it. On a terminal always; otherwise only for an empty list (a script then learns
   * why nothing came); never under --quiet.
   */
  countLine(n: number, noun: string, opts: { many?: string; note?: string } = {}): void {
    if (n === 0 || (this.io.stderrIsTTY && this.io.stdoutIsTTY)) this.info(`${plural(n, noun, opts.many)}${opts.note ? ` ${opts.note}` : ''}`);
  }

  /** Load the heavy config module once; runCli calls this before a verb runs. */
  async init(): Promise<void> {
    this.loader ??= await import('./config/load.js');
  }

  loadedConfig(): LoadedConfig {
    if (!this.loaded) {
      if (!this.loader) throw new Error('Context.init() was not awaited');
      const sets: Array<[string, string]> = (this.opts.set ?? []).map((kv) => {
        const i = kv.indexOf('=');
        if (i <= 0) throw new UsageError(`--set expects KEY=VALUE, got "${kv}"`, { hint: 'e.g. --set mysql.port=3307' });
        return [kv.slice(0, i), kv.slice(i + 1)];
      });
      this.loaded = this.loader.loadConfig({
        env: this.io.env, cwd: this.io.cwd, configPath: this.opts.config, profile: this.opts.profile,
        sets, flagValues: this.configFlags,
      });
      for (const w of this.loaded.warnings) this.warn(w);
    }
    return this.loaded;
  }

  config(): Config { return this.loadedConfig().config; }

  /** The configured MySQL database names, if the config was loaded (for error hints). */
  databaseNames(): Config['mysql']['databases'] | undefined { return this.loaded?.config.mysql.databases; }

  /** Who is acting, for audit rows. */
  who(): { os_user: string; operator: string | null } {
    let os = this.io.env.SUDO_USER || this.io.env.USER || '';
    if (!os) { try { os = userInfo().username; } catch { os = 'unknown'; } }
    return { os_user: os, operator: this.config().operator };
  }

  /** The MySQL handle, opened (and checked) on first use. */
  mysql(): Promise<MysqlHandle> {
    this.mysqlHandle ??= (async () => {
      const lc = this.loadedConfig();
      const pw = lc.mysqlPassword.read();
      for (const w of lc.warnings) this.warn(w);
      const { createMysql } = await import('./db/mysql.js');
      const h = createMysql(lc.config.mysql, pw);
      this.closers.push(() => h.close());
      const { reportTransactionsTo } = await import('./db/transaction.js');
      reportTransactionsTo(h.db, { info: (s) => this.info(s), warn: (s) => this.warn(s) });
      try {
        // connect (handshake and session setup) without a query of its own: one round trip
        // fewer than a `SELECT 1`; the connection goes back to the pool for the verb's queries
        await h.db.connection().execute(async () => undefined);
      } catch (err) {
        throw connectionFailure('MySQL', `${lc.config.mysql.user}@${lc.config.mysql.host}:${lc.config.mysql.port}`, err);
      }
      return h;
    })();
    return this.mysqlHandle;
  }

  /** The legacy PostgreSQL handle, opened on first use only (never when a range does not need it). */
  pg(): Promise<PgHandle> {
    this.pgHandle ??= (async () => {
      const lc = this.loadedConfig();
      const pw = lc.pgPassword.read();
      const { createPg } = await import('./db/pg.js');
      const h = await createPg(lc.config.postgres, pw);
      this.closers.push(() => h.close());
      const { sql } = await import('kysely');
      try {
        await sql`SELECT 1`.execute(h.db);
      } catch (err) {
        throw connectionFailure('PostgreSQL', `${lc.config.postgres.user}@${lc.config.postgres.host}:${lc.config.postgres.port}/${lc.config.postgres.database}`, err);
      }
      return h;
    })();
    return this.pgHandle;
  }

  /** Register cleanup run by close() (connections, temp files, locks). */
  onClose(fn: () => Promise<void> | void): void { this.closers.push(fn); }

  /** Where a byte sink (src/output/sink.ts) writes: stdout, --out relative to cwd, Ctrl-C, cleanup. */
  sinkTarget(): SinkTarget {
    return { stdout: this.io.stdout, cwd: this.io.cwd, signal: this.signal, onClose: (fn) => this.onClose(fn) };
  }

  async close(): Promise<void> {
    const fns = this.closers.splice(0).reverse();
    for (const fn of fns) {
      try { await fn(); } catch { /* closing is best effort */ }
    }
  }

  throwIfAborted(): void {
    if (this.signal.aborted) throw new InterruptedError();
  }
}

function connectionFailure(what: string, where: string, err: unknown): SayclawError {
  if (err instanceof SayclawError) return err;
  const e = err as { code?: string; message?: string };
  const msg = firstLine(e.message) || e.code || 'connection failed';
  const isAuth = e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === '28P01' || e.code === '28000';
  const Cls = isAuth ? ConfigError : ConnectionError;
  return new Cls(`cannot connect to ${what} at ${where}: ${msg}`, {
    hint: isAuth ? 'check the user and its password source (sayclaw config show)' : `is ${what} running? try: sayclaw doctor`,
    cause: err,
  });
}
