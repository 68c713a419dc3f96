// sayclaw users add | update | revoke | restore | quota: portal user writes. Each is one
// transaction with its admin_logs row; revoke asks for confirmation (type the email) like
// `instances rm`, and --unassign releases the user's instances in the same transaction.
import type { Command } from 'commander';
import { verb, writeFlags } from '../kit.js';
import type { Context } from '../../src/context.js';
import type { PortalUser } from '../../src/fleet/users/registry.js';

interface AddOpts { email: string; name: string; department: string; quota?: string; dryRun?: boolean; yes?: boolean }
interface UpdateOpts { name?: string; department?: string; reason?: string; dryRun?: boolean; yes?: boolean }
interface RevokeOpts { unassign?: boolean; reason?: string; dryRun?: boolean; yes?: boolean }
interface SimpleOpts { reason?: string; dryRun?: boolean; yes?: boolean }

const ROW_COLUMNS = [{ key: 'id' }, { key: 'email' }, { key: 'name' }, { key: 'department' }, { key: 'status' },
  { key: 'quota_daily', header: 'QUOTA_DAILY' }, { key: 'revoked_at', wide: true }, { key: 'created_at', wide: true }];

async function dryRun(ctx: Context, lines: string[]): Promise<void> {
  (await import('../../src/plan.js')).dryRunReport(ctx, lines);
}

async function printUser(ctx: Context, u: PortalUser): Promise<void> {
  const { renderList } = await import('../../src/output/render.js');
  await renderList(ctx.out, [u], { format: ctx.outputFormat, nameKey: 'email', columns: ROW_COLUMNS });
}

export function registerUsersWrites(g: Command): void {
  verb<AddOpts>(g, {
    name: 'add',
    summary: 'add a portal user (status active); email is checked and must be new',
    examples: [
      'sayclaw users add --email li.na@sayclaw.test --name 李娜 --department 研发部',
      'sayclaw users add --email wang.wei@sayclaw.test --name 王伟 --department 市场部 --quota 200000 -o json',
    ],
    options: (c) => writeFlags(c.requiredOption('--email <EMAIL>', 'login email (stored lower-case)')
      .requiredOption('--name <NAME>', 'display name, 1-100 characters (Chinese fine)')
      .requiredOption('--department <D>', '1-100 letters, digits, spaces or - _ & / . · ( )')
      .option('--quota <N>', 'daily quota in whole tokens (default 100000)'), 'never', 'check everything, add nothing'),
    run: async (ctx, o) => {
      const u = await import('../../src/fleet/users/registry.js');
      const req = { email: u.parseEmail(o.email), name: u.parseName(o.name), department: u.parseDepartment(o.department),
        quota_daily: o.quota === undefined ? undefined : u.parseQuota(o.quota) };
      const { db } = await ctx.mysql();
      if (o.dryRun) {
        await u.assertUserEmailFree(db, req.email);
        await dryRun(ctx, [`would add portal user ${req.email} (${req.name}, ${req.department}, quota_daily ${req.quota_daily ?? 'default'})`]);
        return;
      }
      const row = await u.addUser(db, ctx.who(), req);
      await printUser(ctx, row);
      ctx.info(`added ${row.email}`);
    },
  });

  verb<UpdateOpts>(g, {
    name: 'update',
    args: '<email|id>',
    summary: "change a portal user's name or department",
    examples: ['sayclaw users update li.na@sayclaw.test --department 市场部', 'sayclaw users update li.na@sayclaw.test --name 李娜娜 --dry-run'],
    options: (c) => writeFlags(c.option('--name <NAME>', 'new display name').option('--department <D>', 'new department')
      .option('--reason <TEXT>', 'why (recorded in the audit log)'), 'never'),
    run: async (ctx, o, args) => {
      const u = await import('../../src/fleet/users/registry.js');
      const { UsageError } = await import('../../src/errors.js');
      if (o.name === undefined && o.department === undefined) throw new UsageError('nothing to update: give --name and/or --department');
      const ch = { name: o.name === undefined ? undefined : u.parseName(o.name),
        department: o.department === undefined ? undefined : u.parseDepartment(o.department) };
      const { db } = await ctx.mysql();
      if (o.dryRun) {
        const cur = await u.getUser(db, args[0]!);
        const lines = (['name', 'department'] as const).filter((k) => ch[k] !== undefined && ch[k] !== cur[k]).map((k) => `${cur.email}: ${k} ${cur[k] ?? '-'} -> ${ch[k]}`);
        await dryRun(ctx, lines.length ? lines : [`${cur.email} already has these values`]);
        return;
      }
      const r = await u.updateUser(db, ctx.who(), args[0]!, ch, o.reason);
      await printUser(ctx, r.after);
      ctx.info(r.changed ? `updated ${r.after.email}` : `${r.after.email} already has these values; nothing changed`);
    },
  });

  verb<RevokeOpts>(g, {
    name: 'revoke',
    args: '<email|id>',
    summary: 'revoke a portal user (status revoked, revoked_at); --unassign also releases their instances',
    examples: [
      'sayclaw users revoke li.na@sayclaw.test --reason "left the company"',
      'sayclaw users revoke li.na@sayclaw.test --unassign --yes',
      'sayclaw users revoke li.na@sayclaw.test --unassign --dry-run',
    ],
    options: (c) => writeFlags(c.option('--unassign', "release the user's instances in the same transaction (binding rows kept as history)")
      .option('--reason <TEXT>', 'why (recorded in the audit log)'), 'tty'),
    run: async (ctx, o, args) => {
      const u = await import('../../src/fleet/users/registry.js');
      const { confirmChange, showChange } = await import('../../src/plan.js');
      const { db } = await ctx.mysql();
      const cur = await u.getUser(db, args[0]!);
      const assigned = await u.assignedInstanceIds(db, cur.id);
      const revoke = cur.status !== 'revoked';
      const unassign = o.unassign ? assigned : [];
      if (!revoke && !unassign.length) {
        ctx.info(`${cur.email} is already revoked; nothing changed`);
        if (assigned.length) ctx.warn(`${cur.email} still has instances assigned: ${assigned.join(', ')} (release them with --unassign)`);
        await printUser(ctx, cur);
        return;
      }
      showChange(ctx, [`will revoke ${cur.email} (${cur.name ?? '-'}, ${cur.department ?? '-'}): ${revoke ? `status ${cur.status} -> revoked` : 'already revoked'}`,
        ...(assigned.length ? [`instances assigned: ${assigned.join(', ')}${o.unassign ? ' -> will be unassigned' : ' (kept; add --unassign to release them)'}`] : [])], o.dryRun);
      const go = await confirmChange(ctx, { verb: o.unassign && assigned.length ? 'revoke and unassign' : 'revoke', noun: 'user', ids: [cur.email], yes: o.yes, dryRun: o.dryRun });
      if (!go) return;
      const r = await u.revokeUser(db, ctx.who(), cur.id, { unassign: o.unassign, reason: o.reason });
      const { renderObject } = await import('../../src/output/render.js');
      const out = { email: r.after.email, id: r.after.id, status: r.after.status, revoked_at: r.after.revoked_at, changed: r.changed,
        unassigned: r.unassigned.filter((x) => x.changed).map((x) => x.instance_id), still_assigned: r.still_assigned };
      await renderObject(ctx.out, out, { format: ctx.outputFormat, nameKey: 'email', sections: [{ title: 'Revoked', data: out }] });
      if (r.still_assigned.length) ctx.warn(`${r.after.email} still has instances assigned: ${r.still_assigned.join(', ')} (release them: sayclaw users revoke ${r.after.email} --unassign)`);
      ctx.info(`undo: sayclaw users restore ${r.after.email}${out.unassigned.length ? ` (and re-assign: sayclaw instances assign ID ${r.after.email})` : ''}`);
    },
  });

  verb<SimpleOpts>(g, {
    name: 'restore',
    args: '<email|id>',
    summary: 'undo a revoke (status active, revoked_at cleared); instances are not re-assigned',
    examples: ['sayclaw users restore li.na@sayclaw.test --reason "rehired"'],
    options: (c) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'never'),
    run: async (ctx, o, args) => {
      const u = await import('../../src/fleet/users/registry.js');
      const { db } = await ctx.mysql();
      if (o.dryRun) {
        const cur = await u.getUser(db, args[0]!);
        await dryRun(ctx, [cur.status === 'active' ? `${cur.email} is active; nothing to restore` : `would restore ${cur.email}: status ${cur.status} -> active`]);
        return;
      }
      const r = await u.restoreUser(db, ctx.who(), args[0]!, o.reason);
      await printUser(ctx, r.after);
      ctx.info(r.changed ? `restored ${r.after.email}` : `${r.after.email} is already active; nothing changed`);
    },
  });

  verb<SimpleOpts>(g, {
    name: 'quota',
    args: '<email|id> <tokens>',
    summary: "set a user's daily quota (quota_daily) in whole tokens",
    examples: ['sayclaw users quota li.na@sayclaw.test 200000', 'sayclaw users quota li.na@sayclaw.test 0 --reason "paused"'],
    options: (c) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'never'),
    run: async (ctx, o, args) => {
      const u = await import('../../src/fleet/users/registry.js');
      const quota = u.parseQuota(args[1]!);
      const { db } = await ctx.mysql();
      if (o.dryRun) {
        const cur = await u.getUser(db, args[0]!);
        await dryRun(ctx, [`would set ${cur.email}: quota_daily ${cur.quota_daily} -> ${quota}`]);
        return;
      }
      const r = await u.setQuota(db, ctx.who(), args[0]!, quota, o.reason);
      await printUser(ctx, r.after);
      ctx.info(r.changed ? `${r.after.email}: quota_daily ${r.before.quota_daily} -> ${r.after.quota_daily}` : `${r.after.email} already has quota_daily ${quota}; nothing changed`);
    },
  });
}
