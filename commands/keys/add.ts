// sayclaw keys add: encrypt and store a new LLM master key (secret from a no-echo prompt or stdin).
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { masterKeyOptions, type MasterKeyOpts } from './shared.js';

interface Opts extends MasterKeyOpts { provider: string; name: string; secretStdin?: boolean; reason?: string; dryRun?: boolean; yes?: boolean }

export function registerKeysAdd(g: Command): void {
  verb<Opts>(g, {
    name: 'add',
    summary: 'store a new LLM master key, AES-256-GCM encrypted (secret from a no-echo prompt or --secret-stdin)',
    examples: [
      'sayclaw keys add --provider openai --name prod',
      'pass show openai/prod | sayclaw keys add --provider openai --name prod --secret-stdin',
      'sayclaw keys add --provider anthropic --name backup --master-key-file ~/.config/sayclaw/master.key',
    ],
    options: (c) => writeFlags(masterKeyOptions(c
      .requiredOption('--provider <name>', 'provider, e.g. openai, anthropic, deepseek')
      .requiredOption('--name <name>', 'a label, unique among the provider\'s active keys')
      .option('--secret-stdin', 'read the secret from stdin (one line) instead of prompting')
      .option('--reason <text>', 'recorded in the audit log'), { stdin: false }), 'never', 'check everything, write nothing'),
    run: async (ctx, o) => {
      const { applyMasterKeyFlags, loadMasterKey, readSecretInput } = await import('../../src/fleet/keys/master-key-source.js');
      const { addMasterKey, checkProviderName } = await import('../../src/fleet/keys/master-keys.js');
      const { renderObject } = await import('../../src/output/render.js');
      checkProviderName(o.provider, o.name);
      applyMasterKeyFlags(ctx, o);
      const mk = await loadMasterKey(ctx, o);
      const { db } = await ctx.mysql();
      const secret = await readSecretInput(ctx, o.secretStdin, `Secret for ${o.provider}/${o.name}`);
      if (o.dryRun) {
        (await import('../../src/plan.js')).dryRunReport(ctx, [`would add a ${o.provider} key named "${o.name}" encrypted with master key ${mk.id}`]);
        return;
      }
      const row = await addMasterKey(db, ctx.who(), mk, { provider: o.provider, name: o.name, secret, reason: o.reason ?? null, now: ctx.clock() });
      await renderObject(ctx.out, { ...row }, { format: ctx.outputFormat, sections: [{ title: 'Added master key', data: {
        id: row.id, provider: row.provider, name: row.name, status: row.status, fingerprint: row.fingerprint, master_key_id: row.master_key_id } }] });
    },
  });
}
