// sayclaw usage export: aggregates or raw rows, streamed to stdout or a file (temp + rename).
import type { Command } from 'commander';
import { Option } from 'commander';
import { verb } from '../kit.js';
import { rangeOptions, usageQuery, type RangeOpts } from './common.js';

interface ExportOpts extends RangeOpts { raw?: boolean; format?: string; out?: string; lock?: boolean }

export function registerExport(g: Command): void {
  verb<ExportOpts>(g, {
    name: 'export',
    summary: 'export usage aggregates or raw log rows as CSV, JSON, NDJSON or a Prometheus textfile (streaming, cron-safe)',
    examples: [
      'sayclaw usage export --since yesterday --until yesterday --group user --out usage.csv',
      'sayclaw usage export --raw --since 2026-11-01 --until 2026-11-30 --format ndjson --out nov.ndjson',
      'sayclaw usage export --since this-month --by day --group department,model --format json',
      'sayclaw usage export --since today --format prometheus --out /var/lib/node_exporter/textfile/sayclaw_usage.prom --quiet',
    ],
    options: (c) => rangeOptions(c)
      .option('--raw', 'one row per log request instead of aggregates')
      .addOption(new Option('--format <format>', 'csv (RFC 4180, header), json, ndjson or prometheus (default: -o when csv/json/ndjson, else csv)')
        .choices(['csv', 'json', 'ndjson', 'prometheus']))
      .option('--out <file>', 'write to FILE (via a temporary file renamed on success) instead of stdout')
      .option('--no-lock', 'do not take the export lock (one per --out file; stdout exports share one)'),
    run: async (ctx, o) => {
      const q = await usageQuery(ctx, o);
      const fmt = o.format ?? (['csv', 'json', 'ndjson'].includes(ctx.opts.output ?? '') ? ctx.opts.output! : 'csv');
      const [{ exportUsage, checkExportRequest, exportLockName }, { acquireLock }, { startJob }] = await Promise.all([
        import('../../src/fleet/usage/export.js'), import('../../src/fleet/jobs/lock.js'), import('../../src/fleet/jobs/runs.js')]);
      const req = { ...q, raw: !!o.raw, format: fmt as 'csv', out: o.out };
      checkExportRequest(ctx, req);
      // one lock per destination (see exportLockName)
      if (o.lock !== false) await acquireLock(ctx, exportLockName(ctx.io.cwd, o.out));
      const job = await startJob(ctx, 'usage export', { ...o, from: q.range.from, to: q.range.to, zone: q.range.zone, format: fmt });
      try {
        const r = await exportUsage(ctx, req);
        await job.finish('ok', r.rows);
        ctx.info(`exported ${r.rows} ${o.raw ? 'log rows' : 'rows'}${r.path ? ` to ${r.path}` : ''} (sources: ${r.sources.join('+') || 'none'})`);
      } catch (e) {
        await job.fail(e);
        throw e;
      }
    },
  });
}
