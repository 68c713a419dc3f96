// sayclaw jobs ls: sayclaw's own cron-able runs from admin.job_runs (written by runs.ts),
// newest first. Job names are stored with a space (`usage rollup`); the verbs also accept the
// dotted form (`usage.rollup`), which is how jobs check and its metrics name them.
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { UsageError } from '../../errors.js';
import { maskJsonText } from '../../output/mask.js';
import { closest } from '../closest.js';
import type { TimeWindow } from '../window.js';
import { SAYCLAW_JOBS } from './runs.js';

export const JOB_STATUSES = ['running', 'ok', 'failed', 'interrupted'] as const;

/** `usage rollup`, `usage.rollup`, `Usage.Rollup ` -> `usage.rollup` */
export function jobKey(name: string): string {
  return name.trim().toLowerCase().replace(/[\s.]+/g, '.');
}

export interface JobRunView {
  id: string;
  job: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  /** finished - started; for a running job, so far */
  duration_ms: number;
  rows_processed: string;
  host: string | null;
  pid: number | null;
  args: unknown;
  error: string | null;
}

export interface JobRunFilter extends TimeWindow {
  jobs?: string[];
  status?: string;
  /** 0: no limit */
  limit?: number;
}

/**
 * The stored names (`usage rollup`) of the jobs named in any form. With strict, a name that is
 * neither one of sayclaw's jobs nor in job_runs is an error naming the closest known ones.
 */
export async function storedJobNames(db: Kysely<MysqlDB>, wanted: string[], strict: boolean): Promise<Map<string, string[]>> {
  const known = [...new Set([...SAYCLAW_JOBS, ...(await db.selectFrom('admin.job_runs').select('job').distinct().execute()).map((r) => r.job)])];
  const byKey = new Map<string, string[]>();
  for (const k of known) byKey.set(jobKey(k), [...(byKey.get(jobKey(k)) ?? []), k]);
  const out = new Map<string, string[]>();
  for (const w of wanted) {
    const names = byKey.get(jobKey(w)) ?? [];
    if (!names.length && strict) {
      const sugg = closest(jobKey(w), byKey.keys());
      throw new UsageError(`no job named "${w}": not one of sayclaw's and not in job_runs`, { hint: `known jobs: ${sugg.join(', ')}` });
    }
    out.set(jobKey(w), names);
  }
  return out;
}

export async function listJobRuns(db: Kysely<MysqlDB>, f: JobRunFilter, now: Date): Promise<JobRunView[]> {
  if (f.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(f.status)) {
    throw new UsageError(`unknown status "${f.status}"`, { hint: `use one of ${JOB_STATUSES.join(', ')}` });
  }
  let q = db.selectFrom('admin.job_runs')
    .select(['id', 'job', 'status', 'started_at', 'finished_at', 'rows_processed', 'host', 'pid', 'args_json', 'error'])
    .where('deleted_at', 'is', null);
  if (f.jobs?.length) {
    const names = [...(await storedJobNames(db, f.jobs, true)).values()].flat();
    if (!names.length) return []; // sayclaw's own jobs, before their first run
    q = q.where('job', 'in', names);
  }
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.from) q = q.where('started_at', '>=', f.from);
  if (f.to) q = q.where('started_at', '<', f.to);
  q = q.orderBy('started_at', 'desc').orderBy('id', 'desc');
  if (f.limit) q = q.limit(f.limit);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id, job: r.job, status: r.status, started_at: r.started_at, finished_at: r.finished_at,
    duration_ms: Math.max(0, (r.finished_at ?? now).getTime() - r.started_at.getTime()),
    rows_processed: String(r.rows_processed), host: r.host, pid: r.pid, args: maskJsonText(r.args_json),
    error: r.error ? r.error.split('\n')[0]! : null,
  }));
}

/** 850 ms, 12.3 s, 4m 05s, 26h 03m (up to two days: max ages like 26h read as given), 3d 04h: for tables. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h ${pad((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad((s % 86400) / 3600)}h`;
}
