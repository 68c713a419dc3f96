// sayclaw keys ls: stored LLM master keys with their fingerprints; never the key, no master key needed.
import type { Command } from 'commander';
import { verb } from '../kit.js';

interface Opts { provider?: string; all?: boolean }

export function registerKeysLs(g: Command): void {
  verb<Opts>(g, {
    name: 'ls',
    summary: 'list LLM master keys: provider, name, status, dates, fingerprint (never the key)',
    examples: ['sayclaw keys ls', 'sayclaw keys ls --provider openai --all -o wide', 'sayclaw keys ls -o json'],
    options: (c) => c
      .option('--provider <name>', 'only this provider')
      .option('--all', 'also rotated and revoked keys (soft-deleted)'),
    run: async (ctx, o) => {
      const { listMasterKeys } = await import('../../src/fleet/keys/master-keys.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const rows = await listMasterKeys(db, { provider: o.provider, all: o.all });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: [
        { key: 'id' }, { key: 'provider' }, { key: 'name' }, { key: 'status' }, { key: 'fingerprint' },
        { key: 'created_at', relative: true }, { key: 'rotated_at', relative: true }, { key: 'revoked_at', relative: true },
        { key: 'master_key_id', wide: true }, { key: 'rotated_from_id', wide: true }, { key: 'rotated_to_id', wide: true },
        { key: 'deleted_at', wide: true },
      ] });
      const miss = rows.length ? undefined : await (await import('../../src/fleet/suggest.js')).exactMissNote(db, [
        { flag: '--provider', value: o.provider, table: 'admin.api_master_keys', column: 'provider' }]);
      ctx.countLine(rows.length, o.all ? 'master key' : 'active master key', { note: miss ?? (rows.length || o.all ? undefined : '(--all shows rotated and revoked ones)') });
    },
  });
}
