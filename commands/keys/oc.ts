// sayclaw keys oc ls: the One API token each instance uses, and what is wrong with the mapping.
import type { Command } from 'commander';
import { verb, group } from '../kit.js';
import { ExitSignal } from '../../src/errors.js';

interface Opts { prefix?: string; problems?: boolean }

export function registerKeysOc(keys: Command): void {
  const g = group(keys, 'oc', 'instance API keys (sayclaw_admin.oc_api_keys): instance -> One API token', ['sayclaw keys oc ls --prefix oc-ai-jp-2-']);
  g.helpCommand(false);
  verb<Opts>(g, {
    name: 'ls',
    summary: 'instances, their One API token, its status and last use, and mapping problems',
    examples: ['sayclaw keys oc ls', 'sayclaw keys oc ls --prefix oc-ai-jp-2-', 'sayclaw keys oc ls --problems -o json'],
    options: (c) => c
      .option('--prefix <prefix>', 'only instance ids starting with this (matched literally)')
      .option('--problems', 'only rows with a problem; exit 3 when there are any'),
    run: async (ctx, o) => {
      const { listOcKeys, summarizeProblems } = await import('../../src/fleet/keys/oc-keys.js');
      const { oneApiSchema } = await import('../../src/fleet/oneapi/detect.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const rows = await listOcKeys(db, { prefix: o.prefix, now: ctx.clock(), problemsOnly: o.problems, schema: await oneApiSchema(ctx) });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, nameKey: 'instance_id', columns: [
        { key: 'instance_id' }, { key: 'oneapi_token_id', header: 'TOKEN_ID' }, { key: 'oneapi_token_name', header: 'TOKEN_NAME' },
        { key: 'token_status' }, { key: 'last_used_at', relative: true },
        { key: 'problems', color: (v, t) => (Array.isArray(v) && v.length ? `\x1b[31m${t}\x1b[39m` : t) },
        { key: 'remain_quota', wide: true }, { key: 'key_id', wide: true }, { key: 'key_status', wide: true },
        { key: 'instance_deleted_at', wide: true },
      ] });
      const s = summarizeProblems(rows);
      ctx.countLine(rows.length, 'instance');
      if (s) ctx.info(s);
      if (o.problems && s) throw new ExitSignal(3);
    },
  });
}
