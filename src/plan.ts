// The one shape of every change that touches many rows or containers, and the one confirmation
// helper: a Plan (what will change per target, what is skipped and why) -> preview -> confirm
// (dry run, --yes, "type the id" for one / "type the count" for many on a TTY, refusal without
// one) -> apply (the caller's transactions and audit rows) -> a result list, a count line and
// the undo line. Single-row writes use confirmChange alone.
import type { Context } from './context.js';
import { UsageError } from './errors.js';
import { renderList, type Column } from './output/render.js';

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
  const answer = (await ctx.prompter.input(question)).trim();
  if (answer !== expected) {
    throw new UsageError(`confirmation did not match (expected "${expected}"); nothing changed`);
  }
  return true;
}

/**
 * The usual write flow: list exactly the rows that will change (a table on stderr, unless
 * --quiet), then confirmChange. Returns true to go ahead, false for a dry run.
 */
export async function previewAndConfirm<R extends object>(ctx: Context, req: ConfirmRequest,
  preview: { rows: R[]; columns: Column<R>[] }): Promise<boolean> {
  if (!ctx.opts.quiet) {
    const n = preview.rows.length;
    ctx.io.stderr.write(`will ${req.verb} ${n} ${req.noun}:\n`);
    await renderList({ write: (s) => { ctx.io.stderr.write(s); }, isTTY: ctx.io.stderrIsTTY, color: false, now: ctx.clock() },
      preview.rows, { format: 'table', columns: preview.columns });
  }
  return confirmChange(ctx, req);
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
}

/** How to show what apply returned. */
export interface PlanReport<R extends { result: string }> {
  columns: Column<R>[];
  nameKey?: string;
  /** rows whose result means "changed" (the others changed meanwhile by someone else) */
  changed: (r: R) => boolean;
  /** extra rows listed after the results (e.g. the skipped ones), not counted */
  extra?: R[];
  /** the command that undoes the change, given the changed rows */
  undo?: (changed: R[]) => string | null;
}

export interface PlanFlags { yes?: boolean; dryRun?: boolean }

/**
 * Carry out a plan: report the skipped rows, stop when nothing is left, preview and confirm,
 * apply, then the result list (stdout, any -o format), the count line and the undo line
 * (stderr). Returns null when nothing was applied (nothing to do, or a dry run).
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
  const go = await previewAndConfirm(ctx, { verb: plan.verb, noun, ids: plan.targets.map(plan.key), yes: flags.yes, dryRun: flags.dryRun },
    { rows: plan.targets, columns: plan.preview });
  if (!go) return null;
  const rows = await apply(plan.targets);
  await renderList(ctx.out, [...rows, ...(report.extra ?? [])], { format: ctx.outputFormat, columns: report.columns, nameKey: report.nameKey });
  const changed = rows.filter(report.changed);
  const raced = rows.length - changed.length;
  ctx.info(`${plan.done} ${changed.length} ${changed.length === 1 ? plan.noun.one : plan.noun.many}`
    + `${raced ? ` (${raced} changed by someone else meanwhile, not counted)` : ''}`);
  const undo = changed.length && report.undo ? report.undo(changed) : null;
  if (undo) ctx.info(`undo: ${undo}`);
  return rows;
}
