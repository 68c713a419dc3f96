// sayclaw keys revoke ID: soft revoke (status revoked, revoked_at); nothing is deleted.
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';

interface Opts { reason?: string; yes?: boolean; dryRun?: boolean }

export function registerKeysRevoke(g: Command): void {
  verb<Opts>(g, {
    name: 'revoke',
    args: '<id|prefix>',
    summary: 'revoke a key (soft: status revoked; the row stays); no master key needed',
    examples: ['sayclaw keys revoke 3f0c9a1e --reason "leaked in a ticket"', 'sayclaw keys revoke 3f0c9a1e --dry-run'],
    options: (c) => writeFlags(c.option('--reason <text>', 'recorded in the audit log'), 'tty'),
    run: async (ctx, o, args) => {
      const { getMasterKeyRow, revokeMasterKey } = await import('../../src/fleet/keys/master-keys.js');
      const { confirmChange, showChange } = await import('../../src/plan.js');
      const { renderObject } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const row = await getMasterKeyRow(db, args[0]!);
      const id = row.id; // the whole id, also when a unique prefix was typed
      if (row.status === 'revoked') { ctx.info(`master key ${id} is already revoked; nothing changed`); return; }
      showChange(ctx, [`will revoke ${row.provider}/${row.name} (${row.id}, ${row.status}, ${row.key_hint ?? 'no fingerprint'})`], o.dryRun);
      if (!await confirmChange(ctx, { verb: 'revoke', noun: 'master key', ids: [id], yes: o.yes, dryRun: o.dryRun })) return;
      const r = await revokeMasterKey(db, ctx.who(), { id, reason: o.reason ?? null, now: ctx.clock() });
      if (!r.changed) ctx.info(`master key ${id} is already revoked; nothing changed`);
      await renderObject(ctx.out, { ...r }, { format: ctx.outputFormat, sections: [{ title: 'Revoked master key', data: { ...r } }] });
    },
  });
}
