// sayclaw config show | validate.
import type { Command } from 'commander';
import { group, verb } from './kit.js';

export function registerConfig(program: Command): void {
  const g = group(program, 'config', 'show the effective config or validate a config file', [
    'sayclaw config show', 'sayclaw --profile prod config show -o json', 'sayclaw config validate ~/.config/sayclaw/config.json']);
  verb(g, {
    name: 'show',
    summary: 'print the effective config (secrets masked) and where each value came from',
    examples: ['sayclaw config show', 'SAYCLAW_MYSQL_URL=mysql://ops:pw@db:3306 sayclaw config show'],
    run: async (ctx) => {
      const { describeConfig } = await import('../src/config/load.js');
      const { renderList } = await import('../src/output/render.js');
      const lc = ctx.loadedConfig();
      if (ctx.outputFormat === 'table' || ctx.outputFormat === 'wide') {
        ctx.info(`config file: ${lc.file ?? '(none)'}${lc.profile ? `, profile: ${lc.profile}` : ''}`);
      }
      await renderList(ctx.out, describeConfig(lc), { format: ctx.outputFormat, nameKey: 'setting',
        columns: [{ key: 'setting' }, { key: 'value' }, { key: 'source' }] });
    },
  });
  verb(g, {
    name: 'validate',
    args: '[file]',
    summary: 'check a config file (every profile in it); exit 5 with the key and problem if invalid',
    examples: ['sayclaw config validate config.json'],
    run: async (ctx, _o, args) => {
      const { validateConfigFile, defaultConfigPath } = await import('../src/config/load.js');
      const file = args[0] ?? ctx.opts.config ?? ctx.io.env.SAYCLAW_CONFIG ?? defaultConfigPath(ctx.io.env);
      const profiles = validateConfigFile(file, ctx.io.env, ctx.io.cwd);
      ctx.print(`${file}: valid${profiles.length ? ` (profiles: ${profiles.join(', ')})` : ''}\n`);
    },
  });
}
