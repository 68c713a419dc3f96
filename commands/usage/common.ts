// Flags shared by the usage verbs and their translation into a UsageQuery.
import type { Command } from 'commander';
import type { Context } from '../../src/context.js';
import { UsageError } from '../../src/errors.js';
import type { UsageQuery } from '../../src/fleet/usage/report.js';
import { collect } from '../kit.js';

export interface RangeOpts { since?: string; until?: string; date?: string; tz?: string; by?: string; group?: string[]; types?: string }

export function rangeOptions(c: Command, withBy = true): Command {
  c.option('--since <when>', 'start of the range, which runs to now unless --until: YYYY-MM-DD, YYYY-MM, ISO time, today, yesterday, 7d, 12h, this-week, last-week, this-month, last-month, @UNIX (default today)')
    .option('--until <when>', 'end of the range, inclusive for days and months: same forms (default now); one day: --since D --until D')
    .option('--tz <zone>', 'IANA time zone for days and periods (default usage.timezone)')
    .option('--types <list>', 'One API log types to count, e.g. 2,6 (default 2 = consume; 6 = refund counts negative)');
  if (withBy) {
    c.option('--by <period>', 'one row per day, week (ISO, from Monday) or month')
      .option('--group <list>', 'group by user, instance, department, model, token, channel, type (comma-separated or repeated)', collect);
  }
  return c;
}

export async function usageQuery(ctx: Context, o: RangeOpts): Promise<UsageQuery> {
  const [{ parseRange, assertZone, PERIODS }, { parseGroups, parseTypes }] = await Promise.all([
    import('../../src/fleet/usage/range.js'), import('../../src/fleet/usage/report.js')]);
  const zone = assertZone(o.tz ?? ctx.config().usage.timezone);
  if (o.by !== undefined && !(PERIODS as readonly string[]).includes(o.by)) {
    throw new UsageError(`unknown period "${o.by}" for --by`, { hint: 'use day, week or month' });
  }
  const groups = parseGroups(o.group);
  const types = parseTypes(o.types);
  const range = parseRange({ since: o.since, until: o.until, date: o.date }, zone, ctx.clock());
  return { range, by: o.by as UsageQuery['by'], groups, types };
}
