// Helpers for defining verbs: one place that wires a commander action to a Context,
// validates common flags and leaves error mapping to runCli.
import { Command, Option, InvalidArgumentError } from 'commander';
import type { Context } from '../src/context.js';

export type VerbRun<O> = (ctx: Context, opts: O, args: string[]) => Promise<void>;

export interface VerbSpec<O> {
  name: string;
  /** e.g. '<id...>' */
  args?: string;
  summary: string;
  /** Lines shown under "Examples:" in --help. */
  examples?: string[];
  options?: (c: Command) => Command;
  /** Allow `-- COMMAND ARGS`: everything after `--` arrives as plain arguments (commander's own
   * rule), so no passThroughOptions (that would need positional options on the whole tree and
   * break global flags placed after the verb). */
  passThrough?: boolean;
  run: VerbRun<O>;
}

/** Set by runCli: turns a verb run into a Context run with cleanup. */
export type Runner = (cmd: Command, fn: (ctx: Context) => Promise<void>) => Promise<void>;

let runner: Runner | undefined;
export function setRunner(r: Runner): void { runner = r; }

export function examplesText(examples: string[] | undefined): string {
  if (!examples?.length) return '';
  return `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`;
}

export function group(parent: Command, name: string, summary: string, examples?: string[]): Command {
  const g = parent.command(name).description(summary).summary(summary);
  if (examples) g.addHelpText('after', examplesText(examples));
  return g;
}

export function verb<O>(parent: Command, spec: VerbSpec<O>): Command {
  const c = parent.command(spec.args ? `${spec.name} ${spec.args}` : spec.name).description(spec.summary).summary(spec.summary);
  if (spec.passThrough) c.allowExcessArguments(true);
  spec.options?.(c);
  if (spec.examples) c.addHelpText('after', examplesText(spec.examples));
  c.action(async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const opts = cmd.opts() as O;
    const args = cmd.args;
    if (!runner) throw new Error('runner not set');
    await runner(cmd, (ctx) => spec.run(ctx, opts, args));
  });
  return c;
}

/** Parsers for option values: they raise commander's InvalidArgumentError (exit 2). */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}, got ${v}`);
    return n;
  };
}

/**
 * The flags every write verb takes: `-n/--dry-run` and `-y/--yes`. `asks`: whether the verb
 * can ask for confirmation ('tty': it asks on a TTY and needs --yes without one; 'never': it
 * never asks, --yes is accepted so scripts can pass it to every write verb alike).
 */
export function writeFlags(c: Command, asks: 'tty' | 'never', dryRun = 'show what would change and stop'): Command {
  return c.option('-n, --dry-run', dryRun)
    .option('-y, --yes', asks === 'tty' ? 'do not ask (required without a TTY)' : 'accepted for scripts; this verb never asks');
}

/** writeFlags plus --max, for bulk writes (the guards of src/plan.ts). */
export function bulkFlags(c: Command, what = 'rows'): Command {
  return writeFlags(c, 'tty', 'list what would change and stop')
    .option('--max <N>', `refuse to change more than N ${what} (default 20); also the size you confirm when a selection is more than half of the alive fleet`, intArg(1));
}

export function choiceOption(flags: string, description: string, choices: readonly string[]): Option {
  return new Option(flags, description).choices(choices as string[]);
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/**
 * `VERB [ARGS...] -- COMMAND...`: commander drops `--` from the operands, so the split is taken
 * from the raw argv. Sets the option `commandArgv` (what follows the first `--`) and, when
 * namesKey is given, that option to the operands before it.
 */
export function splitAtDoubleDash(c: Command, namesKey?: string): Command {
  return c.allowExcessArguments(true).hook('preAction', (_self, action) => {
    let root: Command = action;
    while (root.parent) root = root.parent;
    const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
    const i = raw.indexOf('--');
    const n = i >= 0 ? raw.length - i - 1 : 0;
    action.setOptionValue('commandArgv', n ? action.args.slice(action.args.length - n) : []);
    if (namesKey) action.setOptionValue(namesKey, n ? action.args.slice(0, action.args.length - n) : action.args);
  });
}

export { Option };
