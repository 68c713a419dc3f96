// sayclaw keys reveal ID: print one decrypted key, after confirmation, to a TTY unless --yes;
// every attempt leaves an audit row (never with the secret in it).
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { masterKeyOptions, type MasterKeyOpts } from './shared.js';
import { UsageError } from '../../src/errors.js';

interface Opts extends MasterKeyOpts { reason?: string; yes?: boolean }

export function registerKeysReveal(g: Command): void {
  verb<Opts>(g, {
    name: 'reveal',
    args: '<id|prefix>',
    summary: 'print one decrypted key (asks first; only to a terminal unless --yes; always audited)',
    examples: ['sayclaw keys reveal 3f0c9a1e', 'sayclaw keys reveal 3f0c9a1e --yes --reason "migrate to vault" > /dev/shm/k'],
    options: (c) => masterKeyOptions(c
      .option('--reason <text>', 'recorded in the audit log')
      .option('-y, --yes', 'no confirmation, and allow stdout that is not a terminal')),
    run: async (ctx, o, args) => {
      const { applyMasterKeyFlags, loadMasterKey } = await import('../../src/fleet/keys/master-key-source.js');
      const { getMasterKeyRow, revealMasterKey } = await import('../../src/fleet/keys/master-keys.js');
      const { confirmChange } = await import('../../src/plan.js');
      applyMasterKeyFlags(ctx, o);
      const { db } = await ctx.mysql();
      const row = await getMasterKeyRow(db, args[0]!);
      const id = row.id; // the whole id, also when a unique prefix was typed
      if (!ctx.io.stdoutIsTTY && !o.yes) {
        throw new UsageError('refusing to print a secret to a pipe or file without --yes; nothing printed', { hint: 'run it in a terminal, or add --yes' });
      }
      const mk = await loadMasterKey(ctx, o);
      if (row.status !== 'active') ctx.warn(`master key ${id} is ${row.status}`);
      ctx.info(`reveal ${row.provider}/${row.name} (${row.id}, ${row.key_hint ?? 'no fingerprint'}); this is recorded in admin_logs`);
      await confirmChange(ctx, { verb: 'reveal', noun: 'master key', ids: [id], yes: o.yes });
      const r = await revealMasterKey(db, ctx.who(), mk, { id, reason: o.reason ?? null });
      ctx.print(`${r.plaintext}\n`);
    },
  });
}
