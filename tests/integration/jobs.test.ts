// jobs ls / jobs check against real MariaDB: job_runs rows from real `usage rollup` and
// `usage export` runs, and rows with chosen times for late, never-ran, failing and stuck jobs
// (the CLI's clock is set, not waited for). The Prometheus textfile goes through the real promtool.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv, type TestEnv, type RunResult } from '../support/testenv.js';
import { OUTPUT_FORMATS } from '../../src/output/render.js';

let t: TestEnv;
const NOW = new Date('2026-11-30T12:00:00.000Z');
const clock = () => NOW;
const h = (n: number) => new Date(NOW.getTime() - n * 3600_000);

async function run(argv: string[], o: Parameters<TestEnv['run']>[1] = {}): Promise<RunResult> {
  return t.run(argv, { clock, ...o });
}
const json = (r: RunResult) => {
  if (r.code !== 0 && r.code !== 3) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
};

let n = 0;
async function addRun(job: string, status: string, startedHoursAgo: number, minutes: number | null, extra: { error?: string; rows?: number; args?: unknown } = {}) {
  const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const started = h(startedHoursAgo);
  await t.db.insertInto('admin.job_runs').values({
    id, job, args_json: JSON.stringify(extra.args ?? { date: 'yesterday' }), host: 'cron-1', pid: 4000 + n, status,
    rows_processed: String(extra.rows ?? 10), error: extra.error ?? null, started_at: started,
    finished_at: minutes === null ? null : new Date(started.getTime() + minutes * 60_000), deleted_at: null,
  }).execute();
  return id;
}

beforeAll(async () => {
  t = await createTestEnv();
  // usage rollup: ok yesterday (~25h ago), ok 49h ago; usage export: ok 1h ago, then failed 10 min ago
  await addRun('usage rollup', 'ok', 49, 3, { rows: 120 });
  await addRun('usage rollup', 'ok', 25, 2, { rows: 118 });
  await addRun('usage export', 'ok', 1, 1, { rows: 5000, args: { out: '/srv/r.csv', token: 'tok_SECRET_should_not_show_123' } });
  await addRun('usage export', 'failed', 0.2, 0.5, { error: 'cannot connect to MySQL at ops@10.0.0.5:3306: 连接被拒绝\nstack line' });
  // a report job stuck in running for 3 hours, and one that finished fine while it hangs
  await addRun('usage report', 'running', 3, null);
  await addRun('usage report', 'ok', 2, 5);
  await addRun('usage old', 'interrupted', 500, 1);
});
afterAll(async () => { await t?.close(); });

describe('jobs ls', () => {
  test('newest first with job, status, rows, duration, host, pid and the first error line; every format', async () => {
    const rows = json(await run(['jobs', 'ls', '-o', 'json']));
    expect(rows.map((r) => [r.job, r.status])).toEqual([
      ['usage export', 'failed'], ['usage export', 'ok'], ['usage report', 'ok'], ['usage report', 'running'],
      ['usage rollup', 'ok'], ['usage rollup', 'ok'], ['usage old', 'interrupted']]);
    expect(rows[0]).toMatchObject({ error: 'cannot connect to MySQL at ops@10.0.0.5:3306: 连接被拒绝', duration_ms: 30_000, host: 'cron-1', rows_processed: '10' });
    // a running job's duration runs to now
    expect(rows[3]).toMatchObject({ status: 'running', finished_at: null, duration_ms: 3 * 3600_000 });
    expect(rows[4]).toMatchObject({ rows_processed: '118', duration_ms: 120_000, args: { date: 'yesterday' } });
    // args are masked like everything else
    expect(JSON.stringify(rows)).not.toContain('SECRET');
    for (const f of OUTPUT_FORMATS) {
      const r = await run(['jobs', 'ls', '-o', f]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('SECRET');
    }
    const tty = await run(['jobs', 'ls', '--limit', '4'], { tty: true, env: { NO_COLOR: '1' } });
    expect(tty.stdout.split('\n')[0]).toMatch(/^STARTED\s+JOB\s+STATUS\s+ROWS\s+DURATION\s+HOST\s+PID\s+ERROR$/);
    expect(tty.stdout).toMatch(/12m ago\s+usage export\s+failed\s+10\s+30\.0 s/);
    expect(tty.stdout).toMatch(/3h ago\s+usage report\s+running\s+10\s+3h 00m/);
    expect(tty.stderr).toBe('4 runs\n');
  });

  test('--job (dotted or spaced), --status, --since; an unknown job or status is exit 2 with the known names', async () => {
    for (const name of ['usage.rollup', 'usage rollup', 'Usage.Rollup']) {
      expect(json(await run(['jobs', 'ls', '--job', name, '-o', 'json'])).map((r) => r.job)).toEqual(['usage rollup', 'usage rollup']);
    }
    expect(json(await run(['jobs', 'ls', '--job', 'usage.rollup,usage.export', '--status', 'ok', '-o', 'json'])).map((r) => r.job))
      .toEqual(['usage export', 'usage rollup', 'usage rollup']);
    expect(json(await run(['jobs', 'ls', '--since', '12h', '-o', 'json'])).map((r) => r.status)).toEqual(['failed', 'ok', 'ok', 'running']);
    const bad = await run(['jobs', 'ls', '--job', 'usage.rolup']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: no job named "usage.rolup": not one of sayclaw\'s and not in job_runs (known jobs: usage.rollup, usage.old, usage.report)\n');
    const st = await run(['jobs', 'ls', '--status', 'done']);
    expect(st.code).toBe(2);
    expect(st.stderr).toMatch(/unknown status "done" \(use one of running, ok, failed, interrupted\)/);
  });
});

describe('jobs check', () => {
  test('exit 0 when every named job is recent enough, with nothing on stderr under --quiet', async () => {
    const r = await run(['jobs', 'check', '--max-age', 'usage.rollup=26h', '--quiet', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r)).toEqual([expect.objectContaining({ job: 'usage.rollup', state: 'ok', problems: [], last_ok_age_seconds: 25 * 3600 - 120,
      max_age_seconds: 26 * 3600, last_ok_rows: '118', last_ok_duration_ms: 120_000, last_run_status: 'ok', running: 0 })]);
  });

  test('late, never ran, failing and stuck: exit 3 and one line per job', async () => {
    const r = await run(['jobs', 'check', '--max-age', 'usage.rollup=24h,usage.export=2h', '--max-age', 'usage.report=1d,usage.nightly=1d', '-o', 'json']);
    expect(r.code).toBe(3);
    const by = Object.fromEntries(json(r).map((j) => [j.job, j]));
    expect(by['usage.rollup']).toMatchObject({ state: 'late', problems: ['late'] });
    expect(by['usage.export']).toMatchObject({ state: 'failing', problems: ['failing'], last_run_status: 'failed',
      last_error: 'cannot connect to MySQL at ops@10.0.0.5:3306: 连接被拒绝' });
    expect(by['usage.report']).toMatchObject({ state: 'stuck', problems: ['stuck'], running: 1, running_pid: expect.any(Number), running_host: 'cron-1' });
    expect(by['usage.nightly']).toMatchObject({ state: 'late', last_ok_at: null, last_run_status: null });
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      'warning: job usage.rollup late: last ok run finished 24h 58m ago (max 24h 00m)',
      'warning: job usage.export failing: the last run (started 12m 00s ago) ended failed: cannot connect to MySQL at ops@10.0.0.5:3306: 连接被拒绝',
      expect.stringMatching(/^warning: job usage\.report stuck: running for 3h 00m \(pid \d+ on cron-1; more than 1h 00m\)$/),
      'warning: job usage.nightly late: never ran',
      '4 jobs checked: 0 ok, 4 late, failing or stuck',
    ]);
    // --quiet keeps the problem lines (they are the alert), drops the count
    const q = await run(['jobs', 'check', '--max-age', 'usage.nightly=1d', '--quiet']);
    expect(q.code).toBe(3);
    expect(q.stderr).toBe('warning: job usage.nightly late: never ran\n');
    expect(q.stdout).toMatch(/^JOB\s+STATE\s+LAST OK\s+MAX AGE\s+LAST RUN\s+RUNNING\s+DETAIL\nusage\.nightly\s+late\s+-\s+24h 00m\s+-\s+0\s+late: never ran\n$/);
  });

  test('--stuck-after moves the line; an old interrupted run with no success is late and failing', async () => {
    expect((await run(['jobs', 'check', '--max-age', 'usage.report=1d', '--stuck-after', '4h', '-q'])).code).toBe(0);
    const old = await run(['jobs', 'check', '--max-age', 'usage.old=30d', '-o', 'json', '-q']);
    expect(old.code).toBe(3);
    expect(json(old)[0]).toMatchObject({ state: 'late,failing', detail: expect.stringMatching(/^late: no successful run yet; failing: the last run .* ended interrupted$/) });
  });

  test('--format prometheus --out FILE: an atomic textfile that promtool accepts, exit code unchanged', async () => {
    const out = join(t.tmp, 'sayclaw_jobs.prom');
    const r = await run(['jobs', 'check', '--max-age', 'usage.rollup=26h,usage.export=2h,usage.nightly=1d', '--format', 'prometheus', '--out', out, '-q']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(readdirSync(t.tmp).filter((f) => f.includes('.tmp'))).toEqual([]);
    const okAt = (h(25).getTime() + 120_000) / 1000;
    expect(text).toContain(`sayclaw_job_last_success_timestamp_seconds{job="usage.rollup"} ${okAt.toFixed(3)}\n`);
    expect(text).toContain('sayclaw_job_last_success_timestamp_seconds{job="usage.nightly"} 0\n');
    expect(text).toContain('sayclaw_job_failing{job="usage.export"} 1\n');
    expect(text).toContain('sayclaw_job_late{job="usage.nightly"} 1\n');
    expect(text).toContain('sayclaw_job_late{job="usage.rollup"} 0\n');
    expect(text).toContain('sayclaw_job_max_age_seconds{job="usage.export"} 7200\n');
    expect(text).toContain(`sayclaw_jobs_check_timestamp_seconds ${NOW.getTime() / 1000}\n`);
    const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (p.error) throw new Error(`promtool is needed for this test: bash scripts/lab.sh install (apt-get install -y prometheus); ${p.error.message}`);
    expect({ status: p.status, out: p.stdout + p.stderr }).toEqual({ status: 0, out: '' });
    // to stdout without --out
    const s = await run(['jobs', 'check', '--max-age', 'usage.rollup=26h', '--format', 'prometheus']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^# HELP sayclaw_job_last_success_timestamp_seconds /);
  });

  test('bad input: exit 2, one line, no file', async () => {
    const out = join(t.tmp, 'never.prom');
    const cases: Array<[string[], RegExp]> = [
      [['jobs', 'check'], /^error: name the jobs to check with --max-age JOB=AGE/],
      [['jobs', 'check', '--max-age', 'usage.rollup'], /^error: --max-age expects JOB=AGE, got "usage.rollup"/],
      [['jobs', 'check', '--max-age', 'usage.rollup=soon'], /^error: invalid duration "soon"/],
      [['jobs', 'check', '--max-age', 'usage.rollup=0h'], /^error: --max-age usage.rollup: the age must be more than 0/],
      [['jobs', 'check', '--max-age', 'usage.rollup=1h,usage rollup=2h'], /^error: --max-age names usage.rollup twice/],
      [['jobs', 'check', '--max-age', 'usage.rollup=1h', '--stuck-after', 'x'], /^error: invalid duration "x"/],
      [['jobs', 'check', '--max-age', 'usage.rollup=1h', '--out', out], /^error: --out is for --format prometheus/],
      [['jobs', 'check', '--max-age', 'usage.rollup=1h', '--format', 'prometheus', '--out', join(t.tmp, 'no-dir', 'x.prom')], /^error: --out .*does not exist/],
      [['jobs', 'check', '--max-age', 'usage.rollup=1h', '--format', 'csv'], /^error: --format: unknown value csv \(use one of prometheus\)/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(out)).toBe(false);
  });

  // last: these runs are real, at the real time (after the fixed clock of the tests above)
  test('real runs: usage rollup and usage export record themselves, and jobs check sees them', async () => {
    // the real clock here: these runs happen now
    const rollup = await t.run(['usage', 'rollup', '--date', 'yesterday', '-q']);
    expect(rollup.code).toBe(0);
    const exp = await t.run(['usage', 'export', '--since', 'yesterday', '--out', join(t.tmp, 'u.csv'), '-q']);
    expect(exp.code).toBe(0);
    const r = await t.run(['jobs', 'check', '--max-age', 'usage.rollup=10m,usage.export=10m', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r).map((j) => [j.job, j.state, j.last_run_status])).toEqual([['usage.rollup', 'ok', 'ok'], ['usage.export', 'ok', 'ok']]);
    const ls = json(await t.run(['jobs', 'ls', '--job', 'usage.export', '--limit', '1', '-o', 'json']));
    expect(ls[0]).toMatchObject({ status: 'ok', host: expect.any(String), pid: process.pid, args: expect.objectContaining({ format: 'csv' }) });
  });
});
