// Flags and columns shared by the audit verbs, the three history verbs and jobs ls.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import type { Context } from '../../src/context.js';
import type { Column } from '../../src/output/render.js';
import type { TimeWindow } from '../../src/fleet/window.js';
import type { TimelineEvent } from '../../src/fleet/audit/timeline.js';
import type { AuditEntryView } from '../../src/fleet/audit/read.js';

export interface WindowOpts { since?: string; until?: string; tz?: string }

/** --since/--until in the usage verbs' forms; a side not given is open. */
export function windowOptions(c: Command, what = 'rows'): Command {
  return c.option('--since <when>', `${what} from: YYYY-MM-DD, YYYY-MM, ISO time, today, yesterday, 7d, 12h, this-week, last-week, this-month, last-month, @UNIX (as the usage verbs; default: no bound)`)
    .option('--until <when>', 'up to (inclusive for days and months): same forms (default: now)')
    .option('--tz <zone>', 'IANA time zone for days and months (default usage.timezone)');
}

export async function windowOf(ctx: Context, o: WindowOpts): Promise<TimeWindow> {
  const { timeWindow } = await import('../../src/fleet/window.js');
  return timeWindow(o, o.tz ?? ctx.config().usage.timezone, ctx.clock());
}

export const AUDIT_COLUMNS: Column<AuditEntryView>[] = [
  { key: 'created_at', header: 'TIME', relative: true },
  { key: 'os_user', header: 'OS USER' },
  { key: 'operator' },
  { key: 'action' },
  { key: 'target_type', header: 'TYPE' },
  { key: 'target_name', header: 'TARGET' },
  { key: 'reason' },
  { key: 'summary', header: 'CHANGE' },
  { key: 'id', wide: true },
  { key: 'target_id', wide: true },
  { key: 'tool', wide: true },
  { key: 'run_id', wide: true },
  { key: 'before', wide: true },
  { key: 'after', wide: true },
];

export const TIMELINE_COLUMNS: Column<TimelineEvent>[] = [
  { key: 'at', header: 'TIME', relative: true },
  { key: 'event' },
  { key: 'target' },
  { key: 'actor' },
  { key: 'detail' },
  { key: 'reason' },
  { key: 'source', wide: true },
  { key: 'audit_id', header: 'AUDIT ID', wide: true },
  { key: 'target_type', wide: true },
  { key: 'target_id', wide: true },
];

/** One of the three history verbs (instances, users, servers): a timeline, oldest first. */
export function historyVerb(g: Command, spec: { args: string; summary: string; examples: string[]; of: 'instance' | 'user' | 'server' }): void {
  verb<WindowOpts>(g, {
    name: 'history',
    args: spec.args,
    summary: spec.summary,
    examples: spec.examples,
    options: (c) => windowOptions(c, 'events'),
    run: async (ctx, o, args) => {
      const w = await windowOf(ctx, o);
      const [tl, { db }] = await Promise.all([import('../../src/fleet/audit/timeline.js'), ctx.mysql()]);
      const build = { instance: tl.instanceTimeline, user: tl.userTimeline, server: tl.serverTimeline }[spec.of];
      await renderTimeline(ctx, await build(db, args[0]!, w));
    },
  });
}

/** Render a timeline: oldest first, a count line on a TTY. */
async function renderTimeline(ctx: Context, t: { events: TimelineEvent[]; notes: string[]; subject: { name: string | null; id: string } }): Promise<void> {
  const { renderList } = await import('../../src/output/render.js');
  for (const n of t.notes) ctx.warn(n);
  await renderList(ctx.out, t.events, { format: ctx.outputFormat, columns: TIMELINE_COLUMNS, nameKey: 'event' });
  ctx.countLine(t.events.length, 'event', { note: `for ${t.subject.name ?? t.subject.id}` });
}
