// sayclaw usage summary: requests, tokens, quota and cost per period and group.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { rangeOptions, usageQuery, type RangeOpts } from './common.js';
import { plural } from '../../src/output/format.js';

export function registerSummary(g: Command): void {
  verb<RangeOpts>(g, {
    name: 'summary',
    summary: 'requests, tokens, quota and cost (USD) per period and group, from MySQL and the legacy PostgreSQL',
    examples: [
      'sayclaw usage summary --since 7d --by day',
      'sayclaw usage summary --since this-month --group department,model',
      'sayclaw usage summary --since 2026-10-01 --until 2026-10-31 --by week --group user -o csv',
      'sayclaw usage summary --since yesterday --until yesterday --group instance --types 2,6 --tz Asia/Shanghai',
    ],
    options: (c) => rangeOptions(c),
    run: async (ctx, o) => {
      const q = await usageQuery(ctx, o);
      const { aggregateUsage } = await import('../../src/fleet/usage/report.js');
      const { renderList } = await import('../../src/output/render.js');
      const res = await aggregateUsage(ctx, q);
      const f = ctx.outputFormat;
      await renderList(ctx.out, res.rows, { format: f, nameKey: res.columns[0], columns: res.columns.map((key) => ({ key, wide: key === 'user_name' })) });
      if (f === 'table' || f === 'wide') {
        const { costUsd } = await import('../../src/fleet/usage/money.js');
        const total = res.rows.reduce((a, r) => a + BigInt(r.quota), 0n);
        const reqs = res.rows.reduce((a, r) => a + BigInt(r.requests), 0n);
        const { isoOf } = await import('../../src/fleet/usage/range.js');
        ctx.info(`${plural(res.rows.length, 'row')}; ${plural(reqs, 'request')}; cost ${costUsd(total, res.rate)} USD (quota / ${res.rate.text}: ${res.rate.source}); `
          + `${isoOf(q.range.from, q.range.zone)} .. ${isoOf(q.range.to, q.range.zone)} (${q.range.zone}); `
          + `sources: ${[res.split.pg ? 'postgresql' : '', res.split.mysql ? 'mysql' : ''].filter(Boolean).join('+') || 'none'}`);
        if (ctx.io.stdoutIsTTY && !ctx.opts.quiet && res.rows.length) {
          const { costChart } = await import('../../src/fleet/usage/chart.js');
          ctx.print(costChart(res.rows));
        }
      }
    },
  });
}
