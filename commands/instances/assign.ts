// sayclaw instances assign | unassign | reassign | check-bindings
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import { ExitSignal } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import { plural } from '../../src/output/format.js';

interface AssignOpts { reason?: string; dryRun?: boolean; yes?: boolean }

const common = (c: Command) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'tty');

async function runAssign(ctx: Context, o: AssignOpts, id: string, email: string | null, mode: 'assign' | 'reassign' | 'unassign'): Promise<void> {
  const a = await import('../../src/fleet/instances/assignment.js');
  const { confirmChange, showChange, dryRunReport } = await import('../../src/plan.js');
  const { renderList } = await import('../../src/output/render.js');
  const { db } = await ctx.mysql();
  // exact id and email (case-insensitive); a near miss is exit 4 with the closest, before anything is said
  const view = await a.assignmentOf(db, id);
  const target = email ? await a.portalUser(db, email) : undefined;
  const change = `${id}: ${view.assigned_email ?? 'unassigned'} -> ${mode === 'unassign' ? 'nobody' : (target?.email ?? email)}`;
  if (o.dryRun) {
    dryRunReport(ctx, [`would ${mode} ${change}`]);
    return;
  }
  // assign to an unassigned instance changes nothing anyone had; the others take something away
  if (mode !== 'assign' && view.assigned_user_id) {
    showChange(ctx, [`will ${mode} ${change}`]);
    if (!await confirmChange(ctx, { verb: mode, noun: 'instance', ids: [id], yes: o.yes })) return;
  }
  const res = await a.changeAssignment(db, ctx.who(), id, mode === 'unassign' ? null : email!, { reassign: mode === 'reassign', reason: o.reason });
  await renderList(ctx.out, [res], { format: ctx.outputFormat, nameKey: 'instance_id', columns: [
    { key: 'instance_id' }, { key: 'action' }, { key: 'from' }, { key: 'to' }, { key: 'changed' }] });
  // said only now that it happened, from what the transaction did
  if (res.changed) ctx.info(`${id}: ${res.from ?? 'unassigned'} -> ${res.to ?? 'nobody'}`);
  else ctx.info(mode === 'unassign' ? `${id} was not assigned; nothing changed` : `${id} is already assigned to ${res.to}; nothing changed`);
}

export function registerAssign(g: Command): void {
  verb<AssignOpts>(g, {
    name: 'assign', args: '<id> <email>',
    summary: 'assign an unassigned instance to a portal user (all three records, one transaction)',
    examples: ['sayclaw instances assign oc-ai-jp-2-11 li.na@sayclaw.test --reason "new hire"'],
    options: common,
    run: (ctx, o, args) => runAssign(ctx, o, args[0]!, args[1]!, 'assign'),
  });
  verb<AssignOpts>(g, {
    name: 'unassign', args: '<id>',
    summary: 'release an instance (assigned_user_id = NULL; binding rows kept as history)',
    examples: ['sayclaw instances unassign oc-ai-jp-2-11 --reason "left" --yes'],
    options: common,
    run: (ctx, o, args) => runAssign(ctx, o, args[0]!, null, 'unassign'),
  });
  verb<AssignOpts>(g, {
    name: 'reassign', args: '<id> <email>',
    summary: 'move an instance to another portal user in one transaction',
    examples: ['sayclaw instances reassign oc-ai-jp-2-11 wang.fang@sayclaw.test --yes'],
    options: common,
    run: (ctx, o, args) => runAssign(ctx, o, args[0]!, args[1]!, 'reassign'),
  });
  verb<{ includeDeleted?: boolean }>(g, {
    name: 'check-bindings',
    summary: 'instances whose three assignment records disagree (exit 3 if any)',
    examples: ['sayclaw instances check-bindings', 'sayclaw instances check-bindings -o json'],
    options: (c) => c.option('--include-deleted', 'also soft-deleted, unassigned instances'),
    run: async (ctx, o) => {
      const { checkBindings } = await import('../../src/fleet/instances/assignment.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const bad = await checkBindings(db, { includeDeleted: o.includeDeleted });
      const rows = bad.map((v) => ({
        instance_id: v.instance_id, assigned_user_id: v.assigned_user_id, assigned_email: v.assigned_email,
        admin_emails: v.admin_bindings.filter((b) => !b.history).map((b) => b.user_email),
        portal_emails: v.portal_bindings.filter((b) => !b.history).map((b) => b.email ?? b.user_id),
        problems: v.problems,
      }));
      await renderList(ctx.out, rows, { format: ctx.outputFormat, nameKey: 'instance_id', columns: [
        { key: 'instance_id', header: 'INSTANCE' }, { key: 'assigned_email', header: 'OC_INSTANCES' },
        { key: 'admin_emails', header: 'INSTANCE_USERS' }, { key: 'portal_emails', header: 'USER_INSTANCES' },
        { key: 'problems' }, { key: 'assigned_user_id', wide: true }] });
      if (rows.length) throw new ExitSignal(3, `${plural(rows.length, 'instance')} with disagreeing assignment records`);
      ctx.info('all assignment records agree');
    },
  });
}
