// sayclaw usage: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerSummary } from './summary.js';
import { registerExport } from './export.js';
import { registerRollup } from './rollup.js';
import { registerQuota } from './quota.js';

export function registerUsage(program: Command): Command {
  const g = group(program, 'usage', 'usage reports, exports, rollups and quota alerts (cron-safe)', [
    'sayclaw usage summary --since 7d --group department',
    'sayclaw usage export --since yesterday --until yesterday --out usage.csv',
    'sayclaw usage rollup --date yesterday',
    'sayclaw usage quota --threshold 90%',
  ]);
  registerSummary(g);
  registerExport(g);
  registerRollup(g);
  registerQuota(g);
  return g;
}
