// sayclaw completion bash|zsh|fish: completion scripts generated from the command tree.
import type { Command } from 'commander';
import { verb } from './kit.js';
import { UsageError } from '../src/errors.js';

interface Node { path: string; subs: string[]; flags: string[] }

function collectTree(program: Command): Node[] {
  const out: Node[] = [];
  const globals = program.options.map((o) => o.long).filter((x): x is string => !!x);
  const walk = (c: Command, path: string[]) => {
    const flags = [...globals, ...c.options.map((o) => o.long).filter((x): x is string => !!x), '--help'];
    out.push({ path: path.join(' '), subs: c.commands.map((s) => s.name()), flags: [...new Set(flags)] });
    for (const s of c.commands) walk(s, [...path, s.name()]);
  };
  walk(program, []);
  return out;
}

function bash(nodes: Node[]): string {
  const cases = nodes.map((n) => `    "${n.path}") words="${[...n.subs, ...n.flags].join(' ')}" ;;`).join('\n');
  return `# sayclaw bash completion: eval "$(sayclaw completion bash)"
_sayclaw() {
  local cur path="" i w words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i=1; i<COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "$(_sayclaw_node "\${path:+$path }$w")" in
      1) path="\${path:+$path }$w" ;;
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
_sayclaw_node() {
  case "$1" in
${nodes.filter((n) => n.path).map((n) => `    "${n.path}") echo 1 ;;`).join('\n')}
    *) echo 0 ;;
  esac
}
complete -F _sayclaw sayclaw
`;
}

function zsh(nodes: Node[]): string {
  return `#compdef sayclaw
# sayclaw zsh completion: sayclaw completion zsh > "\${fpath[1]}/_sayclaw"
autoload -U +X bashcompinit && bashcompinit
${bash(nodes)}`;
}

function fish(nodes: Node[]): string {
  const lines = ['# sayclaw fish completion: sayclaw completion fish > ~/.config/fish/completions/sayclaw.fish',
    'complete -c sayclaw -f'];
  for (const n of nodes) {
    const parts = n.path ? n.path.split(' ') : [];
    const cond = parts.length
      ? `__fish_seen_subcommand_from ${parts[parts.length - 1]}`
      : `not __fish_seen_subcommand_from ${nodes.filter((x) => x.path && !x.path.includes(' ')).map((x) => x.path).join(' ')}`;
    for (const s of n.subs) lines.push(`complete -c sayclaw -n '${cond}' -a '${s}'`);
    for (const f of n.flags) lines.push(`complete -c sayclaw -n '${cond}' -l '${f.replace(/^--/, '')}'`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerCompletion(program: Command): void {
  verb(program, {
    name: 'completion',
    args: '<shell>',
    summary: 'print a shell completion script (bash, zsh or fish)',
    examples: ['eval "$(sayclaw completion bash)"', 'sayclaw completion fish > ~/.config/fish/completions/sayclaw.fish'],
    run: async (ctx, _o, args) => {
      const nodes = collectTree(program);
      const shell = args[0];
      if (shell === 'bash') ctx.print(bash(nodes));
      else if (shell === 'zsh') ctx.print(zsh(nodes));
      else if (shell === 'fish') ctx.print(fish(nodes));
      else throw new UsageError(`unknown shell "${shell}"`, { hint: 'use bash, zsh or fish' });
    },
  });
}
