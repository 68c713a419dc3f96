// sayclaw jobs ls
import type { Command } from 'commander';
import { collect, intArg, verb } from '../kit.js';
import { windowOf, windowOptions, type WindowOpts } from '../audit/shared.js';

interface JobsLsOpts extends WindowOpts { job?: string[]; status?: string; limit: number }

export function registerJobsLs(g: Command): void {
  verb<JobsLsOpts>(g, {
    name: 'ls',
    summary: 'runs from job_runs, newest first: job, status, started, duration, rows, host, pid, args, first error',
    examples: ['sayclaw jobs ls', 'sayclaw jobs ls --job usage.rollup --since 7d', 'sayclaw jobs ls --status failed -o json'],
    options: (c) => windowOptions(c, 'runs started')
      .option('--job <name>', 'usage.rollup or "usage rollup" (comma-separated or repeated)', collect)
      .option('--status <status>', 'running, ok, failed or interrupted')
      .option('--limit <n>', 'at most N runs, 0 for all (default 50)', intArg(0), 50),
    run: async (ctx, o) => {
      const w = await windowOf(ctx, o);
      const [{ listJobRuns, humanDuration }, { renderList }, { db }] = await Promise.all([
        import('../../src/fleet/jobs/ls.js'), import('../../src/output/render.js'), ctx.mysql()]);
      const jobs = o.job?.flatMap((j) => j.split(',')).map((j) => j.trim()).filter(Boolean);
      const rows = await listJobRuns(db, { ...w, jobs, status: o.status, limit: o.limit }, ctx.clock());
      const table = ctx.outputFormat === 'table' || ctx.outputFormat === 'wide';
      await renderList(ctx.out, rows, { format: ctx.outputFormat, nameKey: 'id', columns: [
        { key: 'started_at', header: 'STARTED', relative: true },
        { key: 'job' },
        { key: 'status' },
        { key: 'rows_processed', header: 'ROWS' },
        { key: 'duration_ms', header: 'DURATION', get: (r) => (table ? humanDuration(r.duration_ms) : r.duration_ms) },
        { key: 'host' },
        { key: 'pid' },
        { key: 'error' },
        { key: 'args', wide: true },
        { key: 'finished_at', header: 'FINISHED', wide: true },
        { key: 'id', wide: true },
      ] });
      ctx.countLine(rows.length, 'run');
    },
  });
}
