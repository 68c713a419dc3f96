// sayclaw jobs check: the cron dead-man's switch. For each named job: is its last `ok` run
// recent enough (--max-age), did its latest finished run fail, is a run stuck in `running`
// longer than --stuck-after? A job that never ran is late. The same facts as a node_exporter
// textfile (Prometheus text format, checked with promtool in the tests).
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { UsageError } from '../../errors.js';
import { parseDurationSeconds } from '../duration.js';
import { label } from '../usage/prometheus.js';
import { humanDuration, jobKey, storedJobNames } from './ls.js';

export interface JobRule { job: string; max_age_seconds: number }

/** `usage.rollup=26h,usage.export=2h` (also repeated flags) -> rules keyed by the dotted name. */
export function parseMaxAge(values: string[] | undefined): JobRule[] {
  const items = (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (!items.length) {
    throw new UsageError('name the jobs to check with --max-age JOB=AGE', { hint: 'e.g. --max-age usage.rollup=26h,usage.export=2h' });
  }
  const out: JobRule[] = [];
  for (const it of items) {
    const m = /^([A-Za-z0-9_. -]+)=(.+)$/.exec(it);
    if (!m) throw new UsageError(`--max-age expects JOB=AGE, got "${it}"`, { hint: 'e.g. --max-age usage.rollup=26h' });
    const job = jobKey(m[1]!);
    if (out.some((r) => r.job === job)) throw new UsageError(`--max-age names ${job} twice`);
    const secs = parseDurationSeconds(m[2]!);
    if (secs <= 0) throw new UsageError(`--max-age ${job}: the age must be more than 0`);
    out.push({ job, max_age_seconds: secs });
  }
  return out;
}

export type Problem = 'late' | 'failing' | 'stuck';

export interface JobHealth {
  job: string;
  /** ok, or the problems joined: late, failing, stuck */
  state: string;
  problems: Problem[];
  /** one line per problem */
  detail: string;
  max_age_seconds: number;
  last_ok_at: Date | null;
  last_ok_age_seconds: number | null;
  last_ok_rows: string | null;
  last_ok_duration_ms: number | null;
  last_run_status: string | null;
  last_run_started_at: Date | null;
  last_error: string | null;
  running: number;
  running_since: Date | null;
  running_host: string | null;
  running_pid: number | null;
}

interface RunRow { job: string; status: string; started_at: Date; finished_at: Date | null; rows_processed: string | number; host: string | null; pid: number | null; error: string | null }

const ago = (now: Date, d: Date) => humanDuration(now.getTime() - d.getTime());

export async function checkJobs(db: Kysely<MysqlDB>, rules: JobRule[], opts: { stuckAfterSeconds: number; now: Date }): Promise<JobHealth[]> {
  const { now } = opts;
  const stored = await storedJobNames(db, rules.map((r) => r.job), false);
  const cols = ['job', 'status', 'started_at', 'finished_at', 'rows_processed', 'host', 'pid', 'error'] as const;
  const out: JobHealth[] = [];
  for (const rule of rules) {
    const names = stored.get(rule.job) ?? [];
    const base = () => db.selectFrom('admin.job_runs').select([...cols]).where('job', 'in', names.length ? names : ['']).where('deleted_at', 'is', null);
    // each: the newest by started_at, through the (job, started_at) index
    const [lastOk, lastDone, running] = await Promise.all([
      base().where('status', '=', 'ok').orderBy('started_at', 'desc').limit(1).executeTakeFirst() as Promise<RunRow | undefined>,
      base().where('status', '<>', 'running').orderBy('started_at', 'desc').limit(1).executeTakeFirst() as Promise<RunRow | undefined>,
      base().where('status', '=', 'running').orderBy('started_at', 'asc').execute() as Promise<RunRow[]>,
    ]);
    const problems: Problem[] = [];
    const lines: string[] = [];
    const okAt = lastOk ? lastOk.finished_at ?? lastOk.started_at : null;
    const age = okAt ? Math.max(0, Math.floor((now.getTime() - okAt.getTime()) / 1000)) : null;
    if (!okAt) {
      problems.push('late');
      lines.push(lastDone || running.length ? 'late: no successful run yet' : 'late: never ran');
    } else if (age! > rule.max_age_seconds) {
      problems.push('late');
      lines.push(`late: last ok run finished ${ago(now, okAt)} ago (max ${humanDuration(rule.max_age_seconds * 1000)})`);
    }
    if (lastDone && lastDone.status !== 'ok' && (!lastOk || lastDone.started_at > lastOk.started_at)) {
      problems.push('failing');
      lines.push(`failing: the last run (started ${ago(now, lastDone.started_at)} ago) ended ${lastDone.status}${lastDone.error ? `: ${lastDone.error.split('\n')[0]}` : ''}`);
    }
    const oldest = running[0];
    if (oldest && now.getTime() - oldest.started_at.getTime() > opts.stuckAfterSeconds * 1000) {
      problems.push('stuck');
      lines.push(`stuck: running for ${ago(now, oldest.started_at)} (pid ${oldest.pid ?? '?'} on ${oldest.host ?? '?'}; more than ${humanDuration(opts.stuckAfterSeconds * 1000)})`);
    }
    out.push({
      job: rule.job, state: problems.length ? problems.join(',') : 'ok', problems, detail: lines.join('; '),
      max_age_seconds: rule.max_age_seconds, last_ok_at: okAt, last_ok_age_seconds: age,
      last_ok_rows: lastOk ? String(lastOk.rows_processed) : null,
      last_ok_duration_ms: lastOk?.finished_at ? lastOk.finished_at.getTime() - lastOk.started_at.getTime() : null,
      last_run_status: lastDone?.status ?? null, last_run_started_at: lastDone?.started_at ?? null,
      last_error: lastDone && lastDone.status !== 'ok' ? lastDone.error?.split('\n')[0] ?? null : null,
      running: running.length, running_since: oldest?.started_at ?? null, running_host: oldest?.host ?? null, running_pid: oldest?.pid ?? null,
    });
  }
  return out;
}

const secs = (d: Date | null) => (d ? (d.getTime() / 1000).toFixed(3) : '0');

/** The node_exporter textfile: one gauge family per fact, one sample per job. */
export function jobsPrometheusText(jobs: JobHealth[], now: Date): string {
  const families: Array<[string, string, (j: JobHealth) => string]> = [
    ['sayclaw_job_last_success_timestamp_seconds', 'When the last successful run of the job finished (unix seconds; 0 if it never succeeded).', (j) => secs(j.last_ok_at)],
    ['sayclaw_job_last_success_rows', 'Rows processed by the last successful run.', (j) => j.last_ok_rows ?? '0'],
    ['sayclaw_job_last_success_duration_seconds', 'How long the last successful run took.', (j) => (j.last_ok_duration_ms === null ? '0' : (j.last_ok_duration_ms / 1000).toFixed(3))],
    ['sayclaw_job_last_run_timestamp_seconds', 'When the latest finished run started (unix seconds; 0 if none).', (j) => secs(j.last_run_started_at)],
    ['sayclaw_job_last_run_success', '1 if the latest finished run succeeded, else 0.', (j) => (j.last_run_status === 'ok' ? '1' : '0')],
    ['sayclaw_job_running', 'Runs of the job now in status running.', (j) => String(j.running)],
    ['sayclaw_job_max_age_seconds', 'The allowed age of the last successful run (--max-age).', (j) => String(j.max_age_seconds)],
    ['sayclaw_job_late', '1 if the last successful run is older than the max age, or there is none.', (j) => (j.problems.includes('late') ? '1' : '0')],
    ['sayclaw_job_failing', '1 if the latest finished run failed or was interrupted.', (j) => (j.problems.includes('failing') ? '1' : '0')],
    ['sayclaw_job_stuck', '1 if a run has been running longer than --stuck-after.', (j) => (j.problems.includes('stuck') ? '1' : '0')],
  ];
  const lines: string[] = [];
  for (const [name, help, value] of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const j of jobs) lines.push(`${name}{job="${label(j.job)}"} ${value(j)}`);
  }
  lines.push('# HELP sayclaw_jobs_check_timestamp_seconds When this file was written (unix seconds).',
    '# TYPE sayclaw_jobs_check_timestamp_seconds gauge', `sayclaw_jobs_check_timestamp_seconds ${Math.floor(now.getTime() / 1000)}`);
  return `${lines.join('\n')}\n`;
}
