// The one confirmation helper for writes: dry run, --yes, TTY prompt ("type the id" for one,
// "type the count" for many), refusal without a TTY. Callers list the rows first.
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
