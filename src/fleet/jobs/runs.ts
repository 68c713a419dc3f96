// admin.job_runs: each cron-able run (usage export, usage rollup) records itself: started,
// finished, status (running, ok, failed, interrupted), rows processed and the error line.
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Context } from '../../context.js';
import { firstLine, InterruptedError } from '../../errors.js';

/** The jobs sayclaw records (the startJob callers): `jobs ls --job` knows them before their first run. */
export const SAYCLAW_JOBS = ['usage export', 'usage rollup'] as const;

export interface JobRun { id: string; finish(status: 'ok', rows: number): Promise<void>; fail(err: unknown, rows?: number): Promise<void> }

export async function startJob(ctx: Context, job: string, args: unknown): Promise<JobRun> {
  const { db } = await ctx.mysql();
  const id = crypto.randomUUID();
  await db.insertInto('admin.job_runs').values({
    id, job, args_json: JSON.stringify(args), host: hostname(), pid: process.pid, status: 'running', rows_processed: 0,
    error: null, started_at: sql`NOW(3)` as never, finished_at: null, deleted_at: null,
  }).execute();
  const end = async (status: string, rows: number, error: string | null) => {
    await db.updateTable('admin.job_runs').set({ status, rows_processed: rows, error, finished_at: sql`NOW(3)` as never })
      .where('id', '=', id).execute();
  };
  return {
    id,
    finish: (status, rows) => end(status, rows, null),
    fail: async (err, rows = 0) => {
      const interrupted = err instanceof InterruptedError || (err as { name?: string })?.name === 'AbortError';
      try {
        await end(interrupted ? 'interrupted' : 'failed', rows, firstLine((err as Error)?.message ?? String(err)).slice(0, 2000) || 'error');
      } catch { /* the database may be what failed; the exit code still says it */ }
    },
  };
}
