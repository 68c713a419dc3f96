// A small terminal bar chart of cost per period (TTY only), proportional in exact micros.
import { toMicros } from './money.js';
import type { UsageRow } from './report.js';

export function costChart(rows: UsageRow[], width = 40): string {
  const per = new Map<string, bigint>();
  for (const r of rows) {
    const k = r.period ?? 'all';
    per.set(k, (per.get(k) ?? 0n) + toMicros(r.cost_usd));
  }
  if (!per.size) return '';
  const max = [...per.values()].reduce((a, b) => (b > a ? b : a), 0n);
  const w = Math.max(...[...per.keys()].map((k) => k.length));
  const lines = ['', 'cost per period (USD)'];
  for (const [k, v] of per) {
    const n = max > 0n && v > 0n ? Number((v * BigInt(width * 8)) / max) : 0;
    const bar = '█'.repeat(Math.floor(n / 8)) + (n % 8 ? ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][n % 8] : '');
    const usd = `${v < 0n ? '-' : ''}${(v < 0n ? -v : v) / 1_000_000n}.${((v < 0n ? -v : v) % 1_000_000n).toString().padStart(6, '0')}`;
    lines.push(`${k.padEnd(w)}  ${bar.padEnd(width + 1)} ${usd}`);
  }
  return `${lines.join('\n')}\n`;
}
