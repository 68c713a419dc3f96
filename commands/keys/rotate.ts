// sayclaw keys rotate ID: a new secret for a key; the old row is kept soft-deleted and linked.
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { masterKeyOptions, type MasterKeyOpts } from './shared.js';

interface Opts extends MasterKeyOpts { secretStdin?: boolean; reason?: string; yes?: boolean; dryRun?: boolean }

export function registerKeysRotate(g: Command): void {
  verb<Opts>(g, {
    name: 'rotate',
    args: '<id|prefix>',
    summary: 'replace a key\'s secret: new row, the old one soft-deleted (status rotated) and linked',
    examples: ['sayclaw keys rotate 3f0c9a1e', 'pass show openai/prod | sayclaw keys rotate 3f0c9a1e --secret-stdin --yes'],
    options: (c) => writeFlags(masterKeyOptions(c
      .option('--secret-stdin', 'read the new secret from stdin (one line) instead of prompting')
      .option('--reason <text>', 'recorded in the audit log'), { stdin: false }), 'tty'),
    run: async (ctx, o, args) => {
      const { applyMasterKeyFlags, loadMasterKey, readSecretInput } = await import('../../src/fleet/keys/master-key-source.js');
      const { getMasterKeyRow, assertRotatable, rotateMasterKey } = await import('../../src/fleet/keys/master-keys.js');
      const { confirmChange, showChange } = await import('../../src/plan.js');
      const { renderObject } = await import('../../src/output/render.js');
      applyMasterKeyFlags(ctx, o);
      const { db } = await ctx.mysql();
      const row = await getMasterKeyRow(db, args[0]!);
      const id = row.id; // the whole id, also when a unique prefix was typed
      assertRotatable(row);
      if (o.dryRun) {
        showChange(ctx, [`would rotate ${row.provider}/${row.name} (${row.id}, ${row.key_hint ?? 'no fingerprint'})`], true);
        await confirmChange(ctx, { verb: 'rotate', noun: 'master key', ids: [id], dryRun: true });
        return;
      }
      const mk = await loadMasterKey(ctx, o);
      const secret = await readSecretInput(ctx, o.secretStdin, `New secret for ${row.provider}/${row.name}`);
      showChange(ctx, [`will rotate ${row.provider}/${row.name} (${row.id}, ${row.key_hint ?? 'no fingerprint'})`]);
      if (!await confirmChange(ctx, { verb: 'rotate', noun: 'master key', ids: [id], yes: o.yes })) return;
      const r = await rotateMasterKey(db, ctx.who(), mk, { id, secret, reason: o.reason ?? null, now: ctx.clock() });
      await renderObject(ctx.out, { ...r }, { format: ctx.outputFormat, nameKey: 'new_id', sections: [{ title: 'Rotated master key', data: { ...r } }] });
    },
  });
}
