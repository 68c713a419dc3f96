// sayclaw help [topic|command...]: help topics (exit-codes) and help for any command path.
import type { Command } from 'commander';
import { EXIT_CODE_HELP, UsageError } from '../src/errors.js';
import { verb } from './kit.js';

export function registerHelp(program: Command): void {
  verb(program, {
    name: 'help',
    args: '[topic...]',
    summary: 'help for a command, or a topic: exit-codes',
    examples: ['sayclaw help exit-codes', 'sayclaw help instances rm'],
    run: async (ctx, _o, args) => {
      if (args[0] === 'exit-codes') {
        ctx.print('Exit codes:\n' + EXIT_CODE_HELP.map(([c, n, d]) => `  ${String(c).padStart(3)}  ${n.padEnd(18)} ${d}`).join('\n') + '\n');
        return;
      }
      let c: Command = program;
      for (const a of args) {
        const next = c.commands.find((s) => s.name() === a || s.aliases().includes(a));
        if (!next) throw new UsageError(`no help topic or command "${args.join(' ')}"`, { hint: 'try: sayclaw --help, sayclaw help exit-codes' });
        c = next;
      }
      c.outputHelp();
    },
  });
}
