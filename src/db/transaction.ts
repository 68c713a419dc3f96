// The one way sayclaw runs a write transaction on MySQL (every write verb goes through it):
//  - a deadlock (1213) or lock wait timeout (1205) rolls the attempt back and runs the body again
//    (bounded, with jitter), so it re-reads what it decides on; a rolled-back attempt leaves no
//    audit rows, so retries never duplicate them; each retry is said on stderr;
//  - the outcome of a COMMIT whose reply never arrived is looked up, never guessed: every
//    transaction knows the ids of the marker rows it inserted (its admin_logs rows, whose ids
//    carry the run id); sayclaw reconnects, ends the old session (KILL, then waits until it is
//    gone, so its COMMIT has either happened or never will) and looks for them: present means
//    committed (the result stands, with a note), absent means rolled back; when the database
//    stays unreachable the outcome is "unknown", with the query that tells;
//  - a connection lost before COMMIT was sent is a certain rollback; a refused connection
//    before anything was sent says so.
// A transaction that inserted no marker row wrote nothing (the house rule: every write leaves an
// admin_logs row), so a lost COMMIT reply changes nothing there.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import { ConnectionError, ExitCode, firstLine, SayclawError } from '../errors.js';

/** Where notes go (the Context registers its stderr for its handle); silent otherwise. */
export interface TransactionReporter { info(s: string): void; warn(s: string): void }
const reporters = new WeakMap<object, TransactionReporter>();
export function reportTransactionsTo(db: Kysely<any>, r: TransactionReporter): void { reporters.set(db, r); }

/** Per handle (one per run): the run id shared by every admin_logs row the run writes. */
interface RunState { runId: string; txns: number }
const runs = new WeakMap<object, RunState>();

interface Marker { table: string; id: string }
const AUDIT_TABLE = 'admin.admin_logs';
interface TxnState { prefix: string; rows: number; markers: Marker[] }
const txns = new WeakMap<object, TxnState>();

function runOf(db: Kysely<any>): RunState {
  let r = runs.get(db);
  if (!r) {
    // 8-4-4-4 of a random UUID (72 random bits); the last 12 hex digits number the rows
    r = { runId: randomUUID().slice(0, 23), txns: 0 };
    runs.set(db, r);
  }
  return r;
}

/** The run id of this handle's writes (the first 23 characters of their admin_logs ids). */
export function runIdOf(db: Kysely<any>): string { return runOf(db).runId; }

/**
 * An id for a row this transaction inserts, recorded as a marker of its outcome. Inside
 * inTransaction the id is RUNID-TTTTTTRRRRRR (transaction and row number, hex): a UUID-shaped
 * string whose prefix finds every row of the run (`id LIKE 'RUNID-%'`). Outside, a random UUID.
 */
export function markerId(trx: Transaction<any> | Kysely<any>, table: string): string {
  const t = txns.get(trx);
  if (!t) return randomUUID();
  t.rows++;
  const id = `${t.prefix}${t.rows.toString(16).padStart(6, '0')}`;
  t.markers.push({ table, id });
  return id;
}

/**
 * The run id of a row whose id markerId made (RUNID-TTTTTTRRRRRR), else null. A random UUID
 * (a row written outside inTransaction, or by another tool) has no run; told apart by the two
 * counters, which start at 1 and stay far below 0x010000 (a random UUID passes 1 time in 65,536).
 */
export function runIdOfMarker(id: string): string | null {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})-00([0-9a-f]{4})00([0-9a-f]{4})$/.exec(id);
  return m && m[2] !== '0000' && m[3] !== '0000' ? m[1]! : null;
}

/** Record a row inserted with an id of its own (not from markerId) as an outcome marker. */
export function markRow(trx: Transaction<any> | Kysely<any>, table: string, id: string): void {
  txns.get(trx)?.markers.push({ table, id });
}

export interface TransactionOptions {
  /** attempts in all, for deadlocks and lock wait timeouts (default 4) */
  attempts?: number;
  /** how long to keep trying to reach the database after a lost COMMIT (default 4000 ms) */
  settleMs?: number;
}

const code = (e: unknown) => (e as { code?: string })?.code;
const errno = (e: unknown) => (e as { errno?: number })?.errno;
const RETRYABLE: Record<number, string> = { 1213: 'deadlock', 1205: 'lock wait timeout' };
const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The connection is gone (as opposed to an SQL error on a live one). */
export function isConnectionLoss(e: unknown): boolean {
  const c = code(e);
  if (c && (REFUSED.has(c) || ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT'].includes(c))) return true;
  if ((e as { fatal?: boolean })?.fatal === true) return true;
  return /connection is in closed state|connection lost|server closed the connection|Connection terminated/i.test((e as Error)?.message ?? '');
}

function refused(e: unknown): boolean { return REFUSED.has(code(e) ?? ''); }

/**
 * Run `fn` in one transaction on `db` with retries and outcome determination (see the top of
 * this file). `fn` may run more than once: it must do all its reading and deciding inside.
 */
export async function inTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>,
  opts: TransactionOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 4;
  const report = reporters.get(db);
  const run = runOf(db as Kysely<any>);
  for (let attempt = 1; ; attempt++) {
    const state: TxnState = { prefix: `${run.runId}-${(++run.txns).toString(16).padStart(6, '0')}`, rows: 0, markers: [] };
    let trx: Awaited<ReturnType<ReturnType<Kysely<DB>['startTransaction']>['execute']>>;
    try {
      trx = await db.startTransaction().execute();
    } catch (e) {
      if (refused(e)) {
        throw new ConnectionError(`cannot connect to MySQL to start the transaction: ${firstLine((e as Error).message) || code(e)}; nothing was sent, nothing changed`, {
          hint: 'is the database up? check with: sayclaw doctor; then re-run', cause: e,
        });
      }
      throw e;
    }
    txns.set(trx, state);
    let thread: number | null = null;
    let result: T;
    try {
      // the server's id of this session: a lost COMMIT is resolved by ending it (KILL) first
      const r = await sql<{ id: string | number }>`SELECT CONNECTION_ID() AS id`.execute(trx);
      thread = Number(r.rows[0]?.id);
      result = await fn(trx);
    } catch (e) {
      await trx.rollback().execute().catch(() => undefined);
      const kind = RETRYABLE[errno(e) ?? 0];
      if (kind && attempt < attempts) {
        const wait = Math.round(30 * 2 ** (attempt - 1) + Math.random() * 120);
        report?.info(`the transaction hit a ${kind} (MySQL ${errno(e)}); rolled back and retried after ${wait} ms (attempt ${attempt + 1} of ${attempts})`);
        await sleep(wait);
        continue;
      }
      if (kind) {
        throw new SayclawError(`the transaction kept failing with a ${kind} (MySQL ${errno(e)}) after ${attempts} attempts; it was rolled back, nothing changed`, ExitCode.RUNTIME, {
          hint: 'another session holds the same rows; re-run later', cause: e,
        });
      }
      if (isConnectionLoss(e)) {
        // COMMIT was never sent: the server rolls the transaction back, it can never commit
        throw new ConnectionError(`database connection lost before COMMIT (${firstLine((e as Error).message) || code(e)}): the transaction was rolled back, nothing changed`, {
          hint: 're-run the command when the database is reachable', cause: e,
        });
      }
      throw e;
    }
    try {
      await trx.commit().execute();
      return result;
    } catch (e) {
      await trx.rollback().execute().catch(() => undefined);
      if (!isConnectionLoss(e)) throw e;
      const outcome = await lookUpOutcome(db as Kysely<any>, thread, state.markers, opts.settleMs ?? 4000);
      if (outcome === 'committed' || outcome === 'nothing written') {
        report?.warn(`the connection was lost during COMMIT (${firstLine((e as Error).message) || code(e)}); sayclaw reconnected and found `
          + (outcome === 'committed' ? `this transaction's audit rows (run ${run.runId}): it was committed` : 'that the transaction had written nothing'));
        return result;
      }
      if (outcome === 'rolled back') {
        throw new ConnectionError(`database connection lost during COMMIT (${firstLine((e as Error).message) || code(e)}); sayclaw reconnected and checked: the transaction was rolled back, nothing changed`, {
          hint: 're-run the command', cause: e,
        });
      }
      const m = state.markers.find((x) => x.table === AUDIT_TABLE) ?? state.markers[0]!;
      const check = m.table === AUDIT_TABLE ? `sayclaw audit show ${m.id} (or ${checkQuery(db as Kysely<any>, m)})` : checkQuery(db as Kysely<any>, m);
      throw new ConnectionError(`database connection lost during COMMIT and the database stays unreachable: outcome unknown: check with: ${check}`, {
        hint: 'found: it was committed; not found: it was not, re-run', cause: e,
      });
    }
  }
}

type Outcome = 'committed' | 'rolled back' | 'nothing written' | 'unknown';

/** After a lost COMMIT: reconnect, end the old session, then look for the marker rows. */
async function lookUpOutcome(db: Kysely<any>, thread: number | null, markers: Marker[], settleMs: number): Promise<Outcome> {
  if (!markers.length) return 'nothing written';
  const deadline = Date.now() + settleMs;
  for (;;) {
    try {
      if (thread !== null) {
        await sql`KILL CONNECTION ${sql.raw(String(Math.trunc(thread)))}`.execute(db).catch((e) => {
          if (errno(e) !== 1094) throw e; // 1094: unknown thread, it has already ended
        });
        // KILL returns before the session has finished its last statement; wait until it is gone
        for (;;) {
          const r = await sql<{ n: string | number }>`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ${thread}`.execute(db);
          if (Number(r.rows[0]?.n) === 0) break;
          if (Date.now() > deadline) return 'unknown';
          await sleep(25);
        }
      }
      const byTable = new Map<string, string[]>();
      for (const m of markers) byTable.set(m.table, [...(byTable.get(m.table) ?? []), m.id]);
      for (const [table, ids] of byTable) {
        const r = await sql<{ id: string }>`SELECT id FROM ${sql.table(table)} WHERE id IN (${sql.join(ids)})`.execute(db);
        if (r.rows.length) return 'committed';
      }
      return 'rolled back';
    } catch (e) {
      if (!isConnectionLoss(e) || Date.now() > deadline) return 'unknown';
      await sleep(250);
    }
  }
}

function checkQuery(db: Kysely<any>, m: Marker): string {
  const q = sql`SELECT * FROM ${sql.table(m.table)} WHERE id = ${m.id}`.compile(db);
  return q.sql.replace('?', `'${m.id}'`);
}
