// sayclaw keys reencrypt --new-master-key-file F: verify every key, then re-encrypt all of them
// with the new master key in one transaction.
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { masterKeyOptions, type MasterKeyOpts } from './shared.js';
import { ExitSignal } from '../../src/errors.js';
import { plural } from '../../src/output/format.js';

interface Opts extends MasterKeyOpts { newMasterKeyFile: string; reason?: string; yes?: boolean; dryRun?: boolean }

export function registerKeysReencrypt(g: Command): void {
  verb<Opts>(g, {
    name: 'reencrypt',
    summary: 'move every stored key to a new master key (all verified first, one transaction)',
    examples: [
      'openssl rand -hex 32 > new.key && chmod 600 new.key',
      'sayclaw keys reencrypt --new-master-key-file new.key --dry-run',
      'sayclaw keys reencrypt --master-key-file old.key --new-master-key-file new.key --yes',
    ],
    options: (c) => writeFlags(masterKeyOptions(c
      .requiredOption('--new-master-key-file <path>', 'file holding the new master key (64 hex or base64, mode 600)')
      .option('--reason <text>', 'recorded in the audit log')), 'tty', 'verify and show what would change, write nothing'),
    run: async (ctx, o) => {
      const { applyMasterKeyFlags, loadMasterKey, readKeyFile } = await import('../../src/fleet/keys/master-key-source.js');
      const { verifyMasterKeys, explainFailures, reencryptMasterKeys } = await import('../../src/fleet/keys/master-keys.js');
      const { confirmChange, showChange } = await import('../../src/plan.js');
      const { renderList, renderObject } = await import('../../src/output/render.js');
      const { UsageError } = await import('../../src/errors.js');
      applyMasterKeyFlags(ctx, o);
      const from = await loadMasterKey(ctx, o);
      const to = readKeyFile(o.newMasterKeyFile, ctx, 'new master key file');
      if (from.id === to.id) throw new UsageError(`the new master key is the same as the current one (id ${from.id}); nothing changed`);
      const { db } = await ctx.mysql();
      const rows = await verifyMasterKeys(db, from, { all: true });
      const failed = rows.filter((r) => r.result === 'failed');
      if (failed.length) {
        await renderList(ctx.out, failed, { format: ctx.outputFormat, columns: [
          { key: 'id' }, { key: 'provider' }, { key: 'name' }, { key: 'status' }, { key: 'problem' }, { key: 'detail' }] });
        throw new ExitSignal(3, `${explainFailures(rows, from)}; nothing re-encrypted`);
      }
      if (!rows.length) { ctx.info('no keys stored; nothing to re-encrypt'); return; }
      showChange(ctx, [`${plural(rows.length, 'key')} verified with master key ${from.id}; will re-encrypt them with ${to.id}`], o.dryRun);
      if (!await confirmChange(ctx, { verb: 're-encrypt', noun: 'master keys', ids: rows.map((r) => r.id), yes: o.yes, dryRun: o.dryRun })) return;
      const r = await reencryptMasterKeys(db, ctx.who(), from, to, { reason: o.reason ?? null });
      await renderObject(ctx.out, { count: r.count, from_master_key_id: r.from_master_key_id, to_master_key_id: r.to_master_key_id },
        { format: ctx.outputFormat, sections: [{ title: 'Re-encrypted', data: { count: r.count, from_master_key_id: r.from_master_key_id, to_master_key_id: r.to_master_key_id } }] });
      ctx.info(`now point keys.masterKeyFile / SAYCLAW_MASTER_KEY_FILE at the new key file; keep the old one until you have checked: sayclaw keys verify`);
    },
  });
}
