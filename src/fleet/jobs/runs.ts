// admin.job_runs: each cron-able run (usage export, usage rollup) records itself: started,
// finished, status (running, ok, failed, interrupted), rows processed and the error line.
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { firstLine, InterruptedError } from '../../errors.js';

/** The jobs sayclaw records (the startJob callers): `jobs ls --job` knows them before their first run. */
export const SAYCLAW_JOBS = ['usage export', 'usage rollup'] as const;

export interface JobRun {
  id: string;
  /** Record success. Never throws: the work is done, so a failed update is a warning, not a failure. */
  finish(status: 'ok', rows: number): Promise<void>;
  /** Record a failure or an interruption (best effort: the database may be what failed). */
  fail(err: unknown, rows?: number): Promise<void>;
}

/** A process on this host is alive (EPERM: alive, another account's). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export async function startJob(ctx: Context, job: string, args: unknown): Promise<JobRun> {
  const { db } = await ctx.mysql();
  const id = crypto.randomUUID();
  const host = hostname();
  // Runs of this job on this host that are still "running" but whose process is gone ended
  // without a word (killed, or the database was unreachable at their end): say so.
  const stale = await db.selectFrom('admin.job_runs').select(['id', 'pid']).where('job', '=', job).where('host', '=', host)
    .where('status', '=', 'running').where('deleted_at', 'is', null).execute();
  const dead = stale.filter((r) => r.pid !== null && r.pid !== process.pid && !alive(r.pid)).map((r) => r.id);
  if (dead.length) {
    await db.updateTable('admin.job_runs').set({
      status: 'interrupted', finished_at: sql`NOW(3)` as never,
      error: sql`CONCAT('process ', pid, ' on ', host, ' ended without recording how the run ended (marked by run ', ${id}, ')')` as never,
    }).where('id', 'in', dead).where('status', '=', 'running').execute();
    ctx.debug(`marked ${dead.length} stale ${job} run(s) of ended processes as interrupted`);
  }
  await db.insertInto('admin.job_runs').values({
    id, job, args_json: JSON.stringify(args), host, pid: process.pid, status: 'running', rows_processed: 0,
    error: null, started_at: sql`NOW(3)` as never, finished_at: null, deleted_at: null,
  }).execute();
  const end = async (status: string, rows: number, error: string | null) => {
    await db.updateTable('admin.job_runs').set({ status, rows_processed: rows, error, finished_at: sql`NOW(3)` as never })
      .where('id', '=', id).execute();
  };
  return {
    id,
    finish: async (status, rows) => {
      try {
        await end(status, rows, null);
      } catch (e) {
        ctx.warn(`the ${job} run is complete, but its job_runs row ${id} could not be updated (${firstLine((e as Error)?.message)}); `
          + 'it stays "running" until the next run marks it interrupted');
      }
    },
    fail: async (err, rows = 0) => {
      const interrupted = err instanceof InterruptedError || (err as { name?: string })?.name === 'AbortError';
      try {
        await end(interrupted ? 'interrupted' : 'failed', rows, firstLine((err as Error)?.message ?? String(err)).slice(0, 2000) || 'error');
      } catch { /* the database may be what failed; the exit code still says it, and the next run marks the row */ }
    },
  };
}
