// sayclaw usage quota: users over or near quota_daily today; exit 3 when any is over.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { ExitSignal } from '../../src/errors.js';
import { plural } from '../../src/output/format.js';

interface QuotaOpts { threshold?: string; tz?: string; types?: string }

export function registerQuota(g: Command): void {
  verb<QuotaOpts>(g, {
    name: 'quota',
    summary: "users over (or near) their quota_daily today; exit 3 when any is over (for alerting)",
    examples: ['sayclaw usage quota', 'sayclaw usage quota --threshold 90% -o json', 'sayclaw usage quota --quiet || notify-ops'],
    options: (c) => c.option('--threshold <pct>', 'also list users at or above this share of quota_daily', '80%')
      .option('--tz <zone>', 'IANA time zone that defines "today" (default usage.timezone)')
      .option('--types <list>', 'One API log types to count (default 2)'),
    run: async (ctx, o) => {
      const [{ parseRange, assertZone }, { parseTypes }, { quotaCheck, parseThreshold }, { renderList }] = await Promise.all([
        import('../../src/fleet/usage/range.js'), import('../../src/fleet/usage/report.js'), import('../../src/fleet/usage/quota.js'),
        import('../../src/output/render.js')]);
      const th = parseThreshold(o.threshold);
      const types = parseTypes(o.types);
      const zone = assertZone(o.tz ?? ctx.config().usage.timezone);
      const today = parseRange({ date: 'today' }, zone, ctx.clock());
      const rows = await quotaCheck(ctx, today, th, types);
      await renderList(ctx.out, rows, { format: ctx.outputFormat, nameKey: 'email', columns: [
        { key: 'email' }, { key: 'name' }, { key: 'department' }, { key: 'used_tokens' }, { key: 'quota_daily' },
        { key: 'used_pct', header: 'USED %' }, { key: 'quota' }, { key: 'cost_usd' },
        { key: 'status', color: (v, t) => (v === 'over' ? `\x1b[31m${t}\x1b[39m` : `\x1b[33m${t}\x1b[39m`) }, { key: 'user_id', wide: true }] });
      const over = rows.filter((r) => r.status === 'over').length;
      if (!rows.length) ctx.info(`no user at or above ${o.threshold ?? '80%'} of quota_daily today (${zone})`);
      if (over) throw new ExitSignal(3, `${plural(over, 'user')} over quota_daily today`);
    },
  });
}
