// sayclaw audit ls
import type { Command } from 'commander';
import { collect, intArg, verb } from '../kit.js';
import { AUDIT_COLUMNS, windowOf, windowOptions, type WindowOpts } from './shared.js';

interface AuditLsOpts extends WindowOpts { actor?: string; action?: string[]; target?: string; targetType?: string; targetPrefix?: string; run?: string; limit: number }

export function registerAuditLs(g: Command): void {
  verb<AuditLsOpts>(g, {
    name: 'ls',
    summary: 'audit rows, newest first: time, OS user, operator, action, target, reason and a one-line change',
    examples: [
      'sayclaw audit ls                                          # the newest 50',
      'sayclaw audit ls --target oc-ai-jp-2-07 --since yesterday',
      'sayclaw audit ls --action instances.rm,instances.restore --since 30d -o wide',
      'sayclaw audit ls --action "users.*" --actor alice -o json',
      'sayclaw audit ls --target-prefix oc-ai-jp-2- --limit 0 -o csv > audit.csv',
      'sayclaw audit ls --run 3f0c9a1e-5b2d-4c1a-9e7f        # what one run wrote',
    ],
    options: (c) => windowOptions(c)
      .option('--actor <name>', 'the OS user or the configured operator (exact)')
      .option('--action <name>', 'action name, or a prefix ending in * ("instances.*"); comma-separated or repeated', collect)
      .option('--target <id>', 'exact target: an instance id, a server (id, name or IP), a user or admin (id or email)')
      .option('--target-type <type>', 'instance, server, user, admin_user, api_master_key, usage_daily')
      .option('--target-prefix <prefix>', 'target ids starting with this (literal)')
      .option('--run <id>', 'the rows one sayclaw run wrote (its run id: the first 23 characters of their ids)')
      .option('--limit <n>', 'at most N rows, 0 for all (default 50)', intArg(0), 50),
    run: async (ctx, o) => {
      const w = await windowOf(ctx, o);
      const [{ listAudit, parseActions, targetIdsFor }, { renderList }, { db }] = await Promise.all([
        import('../../src/fleet/audit/ls.js'), import('../../src/output/render.js'), ctx.mysql()]);
      const actions = parseActions(o.action);
      const targets = o.target === undefined ? undefined : await targetIdsFor(db, o.target);
      const rows = await listAudit(db, { ...w, actor: o.actor, actions, targets, targetType: o.targetType,
        targetPrefix: o.targetPrefix, run: o.run, limit: o.limit });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: AUDIT_COLUMNS, nameKey: 'id' });
      ctx.countLine(rows.length, 'audit row', { note: o.limit && rows.length === o.limit ? `(the newest ${o.limit}; --limit N or 0 for more)` : undefined });
    },
  });
}
