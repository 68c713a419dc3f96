// Filter flags shared by `instances ls` and the bulk writes (`rm --prefix`, `restore --prefix`).
import type { Command } from 'commander';
import type { InstanceFilter } from '../../src/fleet/instances/ls.js';
import { UsageError } from '../../src/errors.js';
import { intArg } from '../kit.js';

export interface FilterOpts {
  prefix?: string; server?: string; region?: string; user?: string; model?: string; health?: string;
  unassigned?: boolean; deleted?: boolean; all?: boolean; sort?: string; limit?: number;
}

export function addFilterOptions(c: Command, opts: { state?: boolean; sort?: boolean } = {}): Command {
  c.option('--prefix <P>', 'ids starting with P, literally (%, _ and ! are plain characters)')
    .option('--server <NAME|IP|ID>', 'instances on this server')
    .option('--region <R>', "server's region")
    .option('--user <EMAIL>', 'assigned to this portal user')
    .option('--model <M>', 'model')
    .option('--health <STATUS>', 'health_status: healthy, unhealthy, unknown, ...')
    .option('--unassigned', 'no assigned user');
  if (opts.state !== false) {
    c.option('--deleted', 'only soft-deleted instances').option('--all', 'alive and soft-deleted instances');
  }
  if (opts.sort !== false) {
    c.option('--sort <FIELD>', 'id (natural, default), server, region, user, model, health, port, requests, tokens, last_health, created; -FIELD descending')
      .option('--limit <N>', 'at most N rows', intArg(1));
  }
  return c;
}

export function filterFromOpts(o: FilterOpts): InstanceFilter {
  if (o.deleted && o.all) throw new UsageError('--deleted and --all exclude each other', { hint: '--deleted: only soft-deleted; --all: alive and deleted' });
  return {
    prefix: o.prefix, server: o.server, region: o.region, user: o.user, model: o.model, health: o.health,
    unassigned: o.unassigned, state: o.all ? 'all' : o.deleted ? 'deleted' : 'alive', sort: o.sort, limit: o.limit,
  };
}

export function hasFilter(o: FilterOpts): boolean {
  return [o.prefix, o.server, o.region, o.user, o.model, o.health].some((v) => v !== undefined) || !!o.unassigned;
}
