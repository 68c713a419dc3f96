// sayclaw usage rollup: per-day per-user and per-instance totals into admin.usage_daily.
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import { usageQuery, type RangeOpts } from './common.js';
import { plural } from '../../src/output/format.js';

interface RollupOpts extends RangeOpts { lock?: boolean; dryRun?: boolean; yes?: boolean }

export function registerRollup(g: Command): void {
  verb<RollupOpts>(g, {
    name: 'rollup',
    summary: 'write per-day totals per user and per instance into usage_daily (idempotent upsert, cron-safe)',
    examples: [
      'sayclaw usage rollup --date yesterday',
      'sayclaw usage rollup --since 2026-11-01 --until 2026-11-30',
      'sayclaw usage rollup --date 2026-11-20 -o json',
    ],
    options: (c) => writeFlags(c.option('--date <day>', 'one day: YYYY-MM-DD, today or yesterday')
      .option('--since <when>', 'first day (same forms as usage summary); runs to today unless --until')
      .option('--until <when>', 'last day, inclusive')
      .option('--tz <zone>', 'IANA time zone of the days (default usage.timezone)')
      .option('--types <list>', 'One API log types to count (default 2)')
      .option('--no-lock', 'do not take the usage-rollup lock'), 'never', 'compute and compare, write nothing (no lock, no job run)'),
    run: async (ctx, o) => {
      if (o.date === undefined && o.since === undefined) throw new UsageError('give --date DAY or --since/--until', { hint: 'e.g. sayclaw usage rollup --date yesterday' });
      const q = await usageQuery(ctx, o);
      const [{ rollupUsage }, { acquireLock }, { startJob }, { renderObject }] = await Promise.all([
        import('../../src/fleet/usage/rollup.js'), import('../../src/fleet/jobs/lock.js'), import('../../src/fleet/jobs/runs.js'),
        import('../../src/output/render.js')]);
      if (o.dryRun) {
        const r = await rollupUsage(ctx, q.range, q.types, { dryRun: true });
        const { dryRunReport } = await import('../../src/plan.js');
        if (ctx.outputFormat === 'table' || ctx.outputFormat === 'wide') {
          dryRunReport(ctx, [`would roll up ${r.from_day}..${r.to_day} (${plural(r.days, 'day')}, ${q.range.zone}): ${r.inserted} inserted, ${r.updated} updated, ${r.unchanged} unchanged, ${r.retired} retired`]);
        } else {
          await renderObject(ctx.out, { ...r, dry_run: true }, { format: ctx.outputFormat, sections: [] });
          ctx.info('dry run: nothing changed');
        }
        return;
      }
      if (o.lock !== false) await acquireLock(ctx, 'usage-rollup');
      const job = await startJob(ctx, 'usage rollup', { ...o, from: q.range.from, to: q.range.to, zone: q.range.zone });
      try {
        const r = await rollupUsage(ctx, q.range, q.types);
        await job.finish('ok', r.inserted + r.updated + r.retired);
        const f = ctx.outputFormat;
        if (f === 'table' || f === 'wide') {
          ctx.info(`rollup ${r.from_day}..${r.to_day} (${plural(r.days, 'day')}, ${q.range.zone}): ${r.inserted} inserted, ${r.updated} updated, ${r.unchanged} unchanged, ${r.retired} retired`);
        } else {
          await renderObject(ctx.out, { ...r, job_id: job.id }, { format: f, sections: [] });
        }
      } catch (e) {
        await job.fail(e);
        throw e;
      }
    },
  });
}
