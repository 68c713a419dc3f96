// sayclaw keys verify: decrypt every stored key with the configured master key; exit 3 if any fails.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { masterKeyOptions, type MasterKeyOpts } from './shared.js';
import { ExitSignal } from '../../src/errors.js';
import { plural } from '../../src/output/format.js';

interface Opts extends MasterKeyOpts { all?: boolean }

export function registerKeysVerify(g: Command): void {
  verb<Opts>(g, {
    name: 'verify',
    summary: 'decrypt every key with the master key; report tampered keys or a wrong master key (exit 3)',
    examples: ['sayclaw keys verify', 'sayclaw keys verify --all -o json', 'sayclaw keys verify --master-key-stdin < master.key'],
    options: (c) => masterKeyOptions(c.option('--all', 'also rotated and revoked keys')),
    run: async (ctx, o) => {
      const { applyMasterKeyFlags, loadMasterKey } = await import('../../src/fleet/keys/master-key-source.js');
      const { verifyMasterKeys, explainFailures } = await import('../../src/fleet/keys/master-keys.js');
      const { renderList } = await import('../../src/output/render.js');
      applyMasterKeyFlags(ctx, o);
      const mk = await loadMasterKey(ctx, o);
      const { db } = await ctx.mysql();
      const rows = await verifyMasterKeys(db, mk, { all: o.all });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: [
        { key: 'id' }, { key: 'provider' }, { key: 'name' }, { key: 'status' },
        { key: 'result', color: (v, t) => (v === 'ok' ? `\x1b[32m${t}\x1b[39m` : `\x1b[31m${t}\x1b[39m`) },
        { key: 'problem' }, { key: 'detail', wide: true }, { key: 'master_key_id', wide: true },
      ] });
      const why = explainFailures(rows, mk);
      if (why) throw new ExitSignal(3, why);
      ctx.info(rows.length ? `${plural(rows.length, 'key')} ${rows.length === 1 ? 'decrypts and authenticates' : 'decrypt and authenticate'} with master key ${mk.id}` : 'no keys to verify');
    },
  });
}
