// sayclaw jobs check: exit 0 when every named job is fine, 3 (one line each) when one is late,
// failing or stuck; --format prometheus --out FILE for node_exporter's textfile collector.
import type { Command } from 'commander';
import { Option } from 'commander';
import { collect, verb } from '../kit.js';
import { ExitSignal, UsageError } from '../../src/errors.js';
import { plural } from '../../src/output/format.js';

interface JobsCheckOpts { maxAge?: string[]; stuckAfter: string; format?: string; out?: string }

export function registerJobsCheck(g: Command): void {
  verb<JobsCheckOpts>(g, {
    name: 'check',
    summary: 'exit 3 when a job\'s last ok run is older than its --max-age, its last run failed, or a run is stuck (cron dead-man\'s switch)',
    examples: [
      'sayclaw jobs check --max-age usage.rollup=26h,usage.export=2h',
      'sayclaw jobs check --max-age usage.rollup=26h --stuck-after 30m -o json',
      'sayclaw jobs check --max-age usage.rollup=26h --format prometheus --out /var/lib/node_exporter/textfile/sayclaw_jobs.prom',
    ],
    options: (c) => c
      .option('--max-age <job=age>', 'JOB=AGE (s, m, h, d, w), comma-separated or repeated; a job that never ran is late', collect)
      .option('--stuck-after <age>', 'a run still "running" after this long is stuck', '1h')
      .addOption(new Option('--format <format>', 'prometheus: the node_exporter textfile instead of a table').choices(['prometheus']))
      .option('--out <file>', 'with --format prometheus: write FILE (a temporary file renamed into place)'),
    run: async (ctx, o) => {
      const [{ checkJobs, parseMaxAge, jobsPrometheusText }, { parseDurationSeconds }, { humanDuration }] = await Promise.all([
        import('../../src/fleet/jobs/check.js'), import('../../src/fleet/duration.js'), import('../../src/fleet/jobs/ls.js')]);
      const rules = parseMaxAge(o.maxAge);
      const stuckAfterSeconds = parseDurationSeconds(o.stuckAfter);
      if (o.out !== undefined && o.format !== 'prometheus') {
        throw new UsageError('--out is for --format prometheus', { hint: 'for other formats redirect stdout: -o json > FILE' });
      }
      const { checkOut, openSink } = await import('../../src/output/sink.js');
      checkOut(ctx.io.cwd, o.out);
      const { db } = await ctx.mysql();
      const now = ctx.clock();
      const jobs = await checkJobs(db, rules, { stuckAfterSeconds, now });
      if (o.format === 'prometheus') {
        const sink = await openSink(ctx.sinkTarget(), o.out);
        try {
          await sink.write(jobsPrometheusText(jobs, now));
          await sink.commit();
        } catch (e) { await sink.abort(); throw e; }
      } else {
        const { renderList } = await import('../../src/output/render.js');
        const table = ctx.outputFormat === 'table' || ctx.outputFormat === 'wide';
        const state = (v: unknown, t: string) => (v === 'ok' ? `\x1b[32m${t}\x1b[39m` : `\x1b[31m${t}\x1b[39m`);
        await renderList(ctx.out, jobs, { format: ctx.outputFormat, nameKey: 'job', columns: [
          { key: 'job' },
          { key: 'state', color: state },
          { key: 'last_ok_at', header: 'LAST OK', relative: true },
          { key: 'max_age_seconds', header: 'MAX AGE', get: (j) => (table ? humanDuration(j.max_age_seconds * 1000) : j.max_age_seconds) },
          { key: 'last_run_status', header: 'LAST RUN' },
          { key: 'running' },
          { key: 'detail' },
          { key: 'problems', wide: true },
          { key: 'last_ok_age_seconds', wide: true },
          { key: 'last_ok_rows', wide: true },
          { key: 'last_ok_duration_ms', wide: true },
          { key: 'last_run_started_at', wide: true },
          { key: 'last_error', wide: true },
          { key: 'running_since', wide: true },
          { key: 'running_host', wide: true },
          { key: 'running_pid', wide: true },
        ] });
      }
      const bad = jobs.filter((j) => j.problems.length);
      for (const j of bad) ctx.warn(`job ${j.job} ${j.detail}`);
      ctx.info(`${plural(jobs.length, 'job')} checked: ${jobs.length - bad.length} ok, ${bad.length} late, failing or stuck${o.out ? `; wrote ${o.out}` : ''}`);
      if (bad.length) throw new ExitSignal(3);
    },
  });
}
