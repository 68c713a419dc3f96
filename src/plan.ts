// The one shape of every change that touches many rows or containers, and the one confirmation
// helper: a Plan (what will change per target, what is skipped and why) -> the guards (--max and
// the fleet-wide guard) -> preview -> confirm (dry run, --yes, "type the id" for one / "type the
// count" for many on a TTY, refusal without one) -> apply (the caller's transactions and audit
// rows) -> a result list, a count line and the undo line. Single-row writes use confirmChange
// and showChange.
import type { Context } from './context.js';
import { UsageError } from './errors.js';
import { renderList, type Column } from './output/render.js';
import { plural } from './output/format.js';

/** --max when it is not given. */
export const DEFAULT_MAX = 20;
/** The fleet-wide guard leaves selections of this many rows or fewer alone. */
export const GUARD_MIN_ROWS = 5;

export interface ConfirmRequest {
  /** e.g. "soft-delete" */
  verb: string;
  /** e.g. "instance" / "instances" */
  noun: string;
  /** Ids of the rows that will change. */
  ids: string[];
  yes?: boolean;
  dryRun?: boolean;
}

/** Returns true to go ahead, false for a dry run; throws UsageError when refused. */
export async function confirmChange(ctx: Context, req: ConfirmRequest): Promise<boolean> {
  const n = req.ids.length;
  if (req.dryRun) {
    ctx.info(`dry run: would ${req.verb} ${n} ${req.noun}; nothing changed`);
    return false;
  }
  if (req.yes) return true;
  if (!ctx.interactive) {
    throw new UsageError(`refusing to ${req.verb} ${n} ${req.noun} without confirmation (no TTY); nothing changed`, {
      hint: 'add --yes to confirm, or --dry-run to preview',
    });
  }
  const expected = n === 1 ? req.ids[0]! : String(n);
  const question = n === 1
    ? `Type the id "${expected}" to ${req.verb} it:`
    : `Type the number of ${req.noun} (${n}) to ${req.verb} them:`;
  const answer = (await ctx.prompter.input(question, { accept: (a) => a.trim() === expected })).trim();
  if (answer !== expected) {
    throw new UsageError(`confirmation did not match (expected "${expected}"); nothing changed`);
  }
  return true;
}

/**
 * Where a preview goes: stderr (a message beside the data), except in a dry run under --quiet,
 * where the preview is the run's whole output and goes to stdout.
 */
function previewOnStdout(ctx: Context, dryRun: boolean | undefined): boolean {
  return !!dryRun && !!ctx.opts.quiet;
}

/**
 * Lines describing a change before it is made (a dry run, or before asking): stderr, or stdout
 * in a dry run under --quiet. Say what will change ("will ..."); what did change is said after.
 */
export function showChange(ctx: Context, lines: string[], dryRun?: boolean): void {
  if (previewOnStdout(ctx, dryRun)) { for (const l of lines) ctx.print(`${l}\n`); return; }
  for (const l of lines) ctx.info(l);
}

/** A single-row dry run: what would change (stdout under --quiet, else stderr), then "nothing changed". */
export function dryRunReport(ctx: Context, lines: string[]): void {
  showChange(ctx, lines, true);
  ctx.info('dry run: nothing changed');
}

/**
 * The usual write flow: list exactly the rows that will change (a table on stderr; in a dry run
 * under --quiet, on stdout in the -o format), then confirmChange. Returns true to go ahead,
 * false for a dry run.
 */
export async function previewAndConfirm<R extends object>(ctx: Context, req: ConfirmRequest,
  preview: { rows: R[]; columns: Column<R>[] }): Promise<boolean> {
  await showPreview(ctx, req, preview);
  return confirmChange(ctx, req);
}

async function showPreview<R extends object>(ctx: Context, req: ConfirmRequest, preview: { rows: R[]; columns: Column<R>[] }): Promise<void> {
  if (previewOnStdout(ctx, req.dryRun)) {
    await renderList(ctx.out, preview.rows, { format: ctx.outputFormat, columns: preview.columns });
    return;
  }
  if (ctx.opts.quiet) return;
  ctx.io.stderr.write(`will ${req.verb} ${preview.rows.length} ${req.noun}:\n`);
  await renderList({ write: (s) => { ctx.io.stderr.write(s); }, isTTY: ctx.io.stderrIsTTY, color: false, now: ctx.clock() },
    preview.rows, { format: 'table', columns: preview.columns });
}

/** A row a plan leaves alone, with why (e.g. already soft-deleted). */
export interface Skip { id: string; result: string; reason: string }

/**
 * What a bulk change will do. `targets` are exactly the rows/containers that will change;
 * `key` is what the operator sees and types (an id or a name); `preview` the columns of the
 * table listed before asking.
 */
export interface Plan<T extends object> {
  /** e.g. "soft-delete" */
  verb: string;
  /** past tense for the count line, e.g. "soft-deleted" */
  done: string;
  noun: { one: string; many: string };
  targets: T[];
  key: (t: T) => string;
  skipped: Skip[];
  preview: Column<T>[];
  /**
   * How many rows of this kind are alive in the whole fleet. The fleet-wide guard refuses a
   * selection of more than GUARD_MIN_ROWS rows that is more than half of it, unless --max is given.
   */
  alive: number;
  /** 'many': a single target goes ahead without preview or confirmation (restart one container). */
  confirm?: 'always' | 'many';
}

/** How to show what apply returned. */
export interface PlanReport<R extends { result: string }> {
  columns: Column<R>[];
  nameKey?: string;
  /** rows whose result means "changed" */
  changed: (r: R) => boolean;
  /** rows whose result means "failed" (the others changed meanwhile by someone else) */
  failed?: (r: R) => boolean;
  /** extra rows listed after the results (e.g. the skipped ones), not counted */
  extra?: R[];
  /** the command that undoes the change, given the changed rows (carryOut adds --max when the guard needs it) */
  undo?: (changed: R[]) => string | null;
}

export interface PlanFlags {
  yes?: boolean;
  dryRun?: boolean;
  /** --max as typed; undefined when not given (then DEFAULT_MAX applies and the fleet-wide guard is armed) */
  max?: number;
}

/** The refusal of the guards for n targets, or null. */
export function guardRefusal(plan: Pick<Plan<object>, 'verb' | 'noun' | 'alive'>, n: number, max: number | undefined): UsageError | null {
  const noun = n === 1 ? plan.noun.one : plan.noun.many;
  const limit = max ?? DEFAULT_MAX;
  if (n > limit) {
    return new UsageError(`would ${plan.verb} ${n} ${noun}, more than --max ${limit}; nothing changed`, {
      hint: `check the selection with --dry-run, then raise --max ${n} if it is right` });
  }
  if (max === undefined && n > GUARD_MIN_ROWS && n * 2 > plan.alive) {
    return new UsageError(`would ${plan.verb} ${n} ${noun}: more than half of the ${plan.alive} alive ${plan.noun.many}; nothing changed`, {
      hint: `check the selection with --dry-run; if it is right, say how many with --max ${n} (--yes alone is not enough)` });
  }
  return null;
}

/**
 * Carry out a plan: report the skipped rows, stop when nothing is left, apply the guards,
 * preview and confirm, apply, then the result list (stdout, any -o format), the count line and
 * the undo line (stderr). Returns null when nothing was applied (nothing to do, or a dry run).
 */
export async function carryOut<T extends object, R extends { result: string }>(ctx: Context, plan: Plan<T>, flags: PlanFlags,
  apply: (targets: T[]) => Promise<R[]>, report: PlanReport<R>): Promise<R[] | null> {
  for (const s of plan.skipped) ctx.info(`${s.id}: ${s.reason}, skipped`);
  const n = plan.targets.length;
  if (!n) {
    ctx.info(`nothing to ${plan.verb}`);
    return null;
  }
  const noun = n === 1 ? plan.noun.one : plan.noun.many;
  const refusal = guardRefusal(plan, n, flags.max);
  // a refused real run stops before listing what it will not do; a dry run shows it, then why
  if (refusal && !flags.dryRun) throw refusal;
  const req = { verb: plan.verb, noun, ids: plan.targets.map(plan.key), yes: flags.yes, dryRun: flags.dryRun };
  const ask = !(n === 1 && plan.confirm === 'many');
  if (ask || flags.dryRun) await showPreview(ctx, req, { rows: plan.targets, columns: plan.preview });
  if (refusal) ctx.warn(`a real run would be refused: ${refusal.message}${refusal.hint ? ` (${refusal.hint})` : ''}`);
  if (flags.dryRun) { await confirmChange(ctx, req); return null; }
  if (ask && !await confirmChange(ctx, req)) return null;
  const rows = await apply(plan.targets);
  // what apply did is printed in full even after Ctrl-C (an apply that settles its work in flight
  // returns after the signal): a half-printed result would hide what changed
  const out = ctx.signal.aborted ? { ...ctx.out, signal: undefined } : ctx.out;
  await renderList(out, [...rows, ...(report.extra ?? [])], { format: ctx.outputFormat, columns: report.columns, nameKey: report.nameKey });
  const changed = rows.filter(report.changed);
  const failed = report.failed ? rows.filter(report.failed).length : 0;
  const raced = rows.length - changed.length - failed;
  ctx.info(`${plan.done} ${plural(changed.length, plan.noun.one, plan.noun.many)}`
    + `${failed ? `, ${failed} failed` : ''}`
    + `${raced ? ` (${raced} changed by someone else meanwhile, not counted)` : ''}`);
  const undo = changed.length && report.undo ? report.undo(changed) : null;
  if (undo) ctx.info(`undo: ${undo}${changed.length > GUARD_MIN_ROWS ? ` --max ${changed.length}` : ''}`);
  return rows;
}
