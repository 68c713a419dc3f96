// sayclaw jobs: sayclaw's own cron-able runs (admin.job_runs) and the dead-man's switch over them.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerJobsLs } from './ls.js';
import { registerJobsCheck } from './check.js';

export function registerJobs(program: Command): Command {
  const g = group(program, 'jobs', 'cron runs of sayclaw (usage rollup, usage export): list them, alert when one is late, failing or stuck', [
    'sayclaw jobs ls --job usage.rollup', 'sayclaw jobs check --max-age usage.rollup=26h,usage.export=2h']);
  registerJobsLs(g);
  registerJobsCheck(g);
  return g;
}
