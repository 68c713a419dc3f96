// The header of `sayclaw top` as plain lines (no colour, no control bytes: values from the
// database go through escapeControl): the screen and `top --once` print the same words.
import type { Snapshot } from './snapshot.js';
import { humanDuration } from '../jobs/ls.js';
import { escapeControl } from '../../output/escape.js';

const hhmmss = (d: Date) => d.toISOString().slice(11, 19);

/** Thousands with a thin comma: 1234567 -> 1,234,567 (exact: the string's digits). */
export function groupDigits(s: string): string {
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function headerLines(s: Snapshot, now: Date): string[] {
  const h = s.header;
  const sv = h.servers;
  const inst = h.instances;
  const rollup = h.rollup_last_ok_at ? `${humanDuration(now.getTime() - h.rollup_last_ok_at.getTime())} ago` : 'never';
  const jobs = h.jobs.map((j) => `${j.job} ${j.state}`).join(', ');
  const lines = [
    `servers ${sv.total}: ${sv.up} up, ${sv.down} down${sv.unknown ? `, ${sv.unknown} not checked` : ''}   `
      + `instances ${inst.alive} alive: ${inst.healthy} healthy, ${inst.unhealthy} unhealthy, ${inst.unknown} unknown   drift ${h.drift}`,
    `${h.usage_today ? `usage today (${escapeControl(h.usage_today.zone)}): ${groupDigits(h.usage_today.requests)} requests, ${groupDigits(h.usage_today.tokens)} tokens, $${h.usage_today.cost_usd}` : 'usage today: ?'}   `
      + `over quota ${h.users_over_quota ?? '?'}   last good rollup ${rollup}   jobs: ${escapeControl(jobs) || '-'}`,
    `refreshed ${hhmmss(h.refreshed_at)} UTC (remote ${h.remote_refreshed_at ? hhmmss(h.remote_refreshed_at) : 'not yet'})`
      + `${h.errors.length ? `   error: ${escapeControl(h.errors.join('; '))}` : ''}`,
  ];
  return lines;
}
