// Builds the command tree and runs it in-process: runCli(argv, env) -> exit code.
// src/main.ts is the only caller that touches the real process.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { Context, type IO, type Prompter, type GlobalOptions } from '../src/context.js';
import { classifyError, ExitCode, SayclawError } from '../src/errors.js';
import { OUTPUT_FORMATS } from '../src/output/render.js';
import { escapeMessage } from '../src/output/escape.js';
import { setRunner } from './kit.js';
import { registerConfig } from './config.js';
import { registerDoctor } from './doctor.js';
import { registerSchema } from './schema.js';
import { registerHelp } from './help.js';
import { registerCompletion } from './completion.js';
import { registerInstances } from './instances/index.js';
import { registerServers } from './servers/index.js';
import { registerUsers } from './users/index.js';
import { registerKeys } from './keys/index.js';
import { registerUsage } from './usage/index.js';
import { registerAudit } from './audit/index.js';
import { registerJobs } from './jobs/index.js';
import { registerTemplates } from './templates/index.js';
import { registerTop } from './top/index.js';
import { VERSION } from './version.js';

export interface CliEnv {
  io: IO;
  prompter?: Prompter;
  signal?: AbortSignal;
  clock?: () => Date;
}

/**
 * The groups a run can be given alone: `sayclaw instances ls` needs the `instances` subtree and
 * the root options, not the other thirteen groups (building them all was ~3-4 ms of every start
 * on Node 24, about a tenth of sayclaw's own start). `help`, `completion`, the root's own --help
 * and anything unrecognised get the whole tree.
 */
const GROUPS: Record<string, (program: Command) => unknown> = {
  instances: registerInstances, servers: registerServers, users: registerUsers, keys: registerKeys,
  usage: registerUsage, audit: registerAudit, jobs: registerJobs, templates: registerTemplates, top: registerTop,
  doctor: registerDoctor, schema: registerSchema, config: registerConfig,
};
/** root options that take a value as the next word */
const ROOT_VALUE_OPTIONS = new Set(['--config', '--profile', '--set', '-o', '--output', '--fields']);
const ROOT_FLAGS = new Set(['--no-color', '-q', '--quiet', '--debug']);

/**
 * The one group `argv` runs, when that is certain: its first word that is not a root option (or
 * a root option's value) names a group of GROUPS, and every word before it is a root option
 * sayclaw knows (`--x=v` included). Otherwise null: the whole tree is built, so that commander's
 * errors and suggestions are exactly as before.
 */
export function groupOf(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) return Object.hasOwn(GROUPS, a) ? a : null;
    if (ROOT_VALUE_OPTIONS.has(a)) { i++; continue; }
    if (ROOT_FLAGS.has(a)) continue;
    const eq = a.indexOf('=');
    if (eq > 0 && a.startsWith('--') && ROOT_VALUE_OPTIONS.has(a.slice(0, eq))) continue;
    return null;
  }
  return null;
}

export function buildProgram(argv?: readonly string[]): Command {
  const program = new Command('sayclaw')
    .description('Operations CLI for the SayClaw fleet: servers, OC instances, users, keys and usage.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--config <path>', 'config file (default $SAYCLAW_CONFIG or ~/.config/sayclaw/config.json)')
    .option('--profile <name>', 'profile inside the config file (default $SAYCLAW_PROFILE)')
    .option('--set <key=value>', 'override one config key, e.g. --set mysql.port=3307 (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS as unknown as string[]))
    .option('--fields <a,b,c>', 'list and show verbs: print only these fields, in this order (any format)', parseFields)
    .option('--no-color', 'no colour (also NO_COLOR=1)')
    .option('-q, --quiet', 'only data and errors; no progress or count lines')
    .option('--debug', 'show causes and stack traces of errors')
    .showSuggestionAfterError(true)
    .helpCommand(false);
  const only = argv ? groupOf(argv) : null;
  if (only) {
    GROUPS[only]!(program);
    return program;
  }
  registerInstances(program);
  registerServers(program);
  registerUsers(program);
  registerKeys(program);
  registerUsage(program);
  registerAudit(program);
  registerJobs(program);
  registerTemplates(program);
  registerTop(program);
  registerDoctor(program);
  registerSchema(program);
  registerConfig(program);
  registerCompletion(program);
  registerHelp(program);
  program.addHelpText('after', () => `\n${treeSummary(program)}\nExit codes: sayclaw help exit-codes\n`);
  return program;
}

/** "group verb  summary" for every verb: the root --help lists the whole tree. */
export function treeSummary(program: Command): string {
  const lines: string[] = ['All verbs:'];
  const walk = (c: Command, path: string[]) => {
    for (const sub of c.commands) {
      const p = [...path, sub.name()];
      if (sub.commands.length) walk(sub, p);
      else lines.push(`  ${p.join(' ').padEnd(30)} ${sub.summary() || sub.description()}`);
    }
  };
  walk(program, []);
  lines.push('', 'Examples:', '  $ sayclaw instances ls --prefix oc-ai-jp-2-', '  $ sayclaw servers check --all',
    '  $ sayclaw instances rm oc-ai-jp-2-07 --reason "left company" --dry-run', '  $ sayclaw usage summary --since 7d --group department');
  return lines.join('\n');
}

/** `--fields id,model , server_name` -> ['id', 'model', 'server_name']; the renderer checks the names. */
function parseFields(v: string): string[] {
  const names = v.split(',').map((f) => f.trim()).filter(Boolean);
  if (!names.length) throw new InvalidArgumentError('name at least one field, e.g. --fields id,model');
  return names;
}

/** commander's "option '--status <S>' argument 'x' is invalid. Allowed choices are a, b." in sayclaw's words. */
export function choiceMessage(s: string): string {
  const m = /^error: option '(?:-\w, )?(--[\w-]+)(?: <[^>]*>)?' argument '([\s\S]*)' is invalid\. Allowed choices are ([\s\S]*)\.\n$/.exec(s);
  if (!m) return s;
  const v = m[2]!;
  const shown = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]+$/u.test(v) ? v : JSON.stringify(v);
  return `error: ${m[1]}: unknown value ${shown} (use one of ${m[3]})\n`;
}

function applyCommanderConfig(c: Command, io: IO): void {
  c.exitOverride();
  c.configureOutput({
    writeOut: (s) => { io.stdout.write(s); },
    writeErr: (s) => { io.stderr.write(s); },
    // commander echoes the offending argument ("unknown option '--x'"): never its control bytes raw;
    // a refused choice reads like every other one (src/fleet/choices.ts checkChoice)
    outputError: (s, write) => write(escapeMessage(choiceMessage(s))),
  });
  for (const sub of c.commands) applyCommanderConfig(sub, io);
}

export async function runCli(argv: string[], env: CliEnv): Promise<number> {
  const { io } = env;
  const program = buildProgram(argv);
  applyCommanderConfig(program, io);
  let debug = argv.includes('--debug');
  let code: number = ExitCode.OK;
  setRunner(async (cmd, fn) => {
    const g = cmd.optsWithGlobals() as GlobalOptions;
    debug = !!g.debug;
    const ctx = new Context(io, g, { prompter: env.prompter, signal: env.signal, clock: env.clock });
    try {
      ctx.throwIfAborted();
      await ctx.init();
      await fn(ctx);
      if (g.fields && !ctx.fieldsUsed) ctx.warn('--fields was ignored: this verb prints no list or show output (it applies to those, in every format)');
      ctx.throwIfAborted();
    } catch (err) {
      // classified here, where the configured database names are known (for "table ... does not exist")
      throw classifyError(err, ctx.databaseNames());
    } finally {
      await ctx.close();
    }
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // a group run without a verb prints its help: fine when asked for, a usage error otherwise
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : ExitCode.USAGE;
      if (err.code === 'commander.executeSubCommandAsync') return 1;
      // commander already printed its one-line message (with a suggestion when it has one)
      return ExitCode.USAGE;
    }
    const e: SayclawError = classifyError(err);
    if (e.message) {
      io.stderr.write(`${escapeMessage(`error: ${e.message}${e.hint ? ` (${e.hint})` : ''}`)}\n`);
    }
    if (debug) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      io.stderr.write(`${escapeMessage(`debug: ${(cause as Error)?.stack ?? String(cause)}`)}\n`);
    }
    code = e.exitCode;
  }
  return code;
}
