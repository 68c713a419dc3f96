// sayclaw users admins ls | add | passwd | disable | enable | rm: admin backend accounts.
// Passwords come from a no-echo prompt (asked twice) or --password-stdin; there is no
// --password flag, so a password never lands in argv, shell history or `ps`.
import type { Command } from 'commander';
import { group, verb, writeFlags } from '../kit.js';
import type { Context } from '../../src/context.js';
import type { AdminChange, AdminRow } from '../../src/fleet/users/admins.js';

const ADMIN_COLUMNS = [{ key: 'email' }, { key: 'name' }, { key: 'role' }, { key: 'status' }, { key: 'last_login_at', relative: true },
  { key: 'deleted_at', wide: true }, { key: 'id', wide: true }, { key: 'created_at', wide: true }];

async function printAdmins(ctx: Context, rows: AdminRow[]): Promise<void> {
  const { renderList } = await import('../../src/output/render.js');
  await renderList(ctx.out, rows, { format: ctx.outputFormat, nameKey: 'email', columns: ADMIN_COLUMNS });
}

interface AddOpts { email: string; name: string; role: string; newRole?: boolean; passwordStdin?: boolean; dryRun?: boolean; yes?: boolean }
interface PasswdOpts { passwordStdin?: boolean; reason?: string; dryRun?: boolean; yes?: boolean }
interface ChangeOpts { reason?: string; dryRun?: boolean; yes?: boolean }

const changeText: Record<AdminChange, { verb: string; done: string; undo?: string }> = {
  disable: { verb: 'disable', done: 'disabled', undo: 'enable' },
  enable: { verb: 'enable', done: 'enabled' },
  rm: { verb: 'remove', done: 'removed (soft delete)' },
};

function registerChange(g: Command, what: AdminChange, summary: string, examples: string[]): void {
  verb<ChangeOpts>(g, {
    name: what, args: '<email|id>', summary, examples,
    options: (c) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), what === 'enable' ? 'never' : 'tty'),
    run: async (ctx, o, args) => {
      const a = await import('../../src/fleet/users/admins.js');
      const { confirmChange, showChange, dryRunReport } = await import('../../src/plan.js');
      const { db } = await ctx.mysql();
      const cur = await a.getAdmin(db, args[0]!);
      const t = changeText[what];
      if (what === 'enable') {
        if (o.dryRun) { dryRunReport(ctx, [`would enable ${cur.email} (status ${cur.status})`]); return; }
      } else {
        await a.assertNotLastActive(db, cur, what);
        showChange(ctx, [`${cur.email} (${cur.name ?? '-'}, role ${cur.role}, status ${cur.status}${cur.deleted_at ? ', removed' : ''}) will be ${t.done}`], o.dryRun);
        const go = await confirmChange(ctx, { verb: t.verb, noun: 'admin account', ids: [cur.email], yes: o.yes, dryRun: o.dryRun });
        if (!go) return;
      }
      const r = await a.changeAdmin(db, ctx.who(), cur.id, what, o.reason);
      await printAdmins(ctx, [r.admin]);
      ctx.info(r.changed ? `${r.admin.email} ${t.done}` : `${r.admin.email} is already ${what === 'rm' ? 'removed' : `${what}d`}; nothing changed`);
    },
  });
}

export function registerAdmins(users: Command): void {
  const g = group(users, 'admins', 'admin backend accounts (sayclaw_admin.admin_users)', [
    'sayclaw users admins ls', 'sayclaw users admins add --email ops@sayclaw.test --name 运维 --role admin']);

  verb<{ all?: boolean }>(g, {
    name: 'ls',
    summary: 'list admin accounts (never their password hashes)',
    examples: ['sayclaw users admins ls', 'sayclaw users admins ls --all -o json'],
    options: (c) => c.option('--all', 'include removed (soft-deleted) accounts'),
    run: async (ctx, o) => {
      const { listAdmins } = await import('../../src/fleet/users/admins.js');
      const { db } = await ctx.mysql();
      const rows = await listAdmins(db, { all: o.all });
      await printAdmins(ctx, rows);
      ctx.countLine(rows.length, 'admin', { note: rows.length || o.all ? undefined : '(--all also shows removed ones)' });
    },
  });

  verb<AddOpts>(g, {
    name: 'add',
    summary: 'add an admin account; the password is prompted without echo (twice) or read from --password-stdin',
    examples: [
      'sayclaw users admins add --email ops@sayclaw.test --name 运维值班 --role admin',
      "printf '%s' \"$NEW_PW\" | sayclaw users admins add --email ci@sayclaw.test --name CI --role admin --password-stdin",
    ],
    options: (c) => writeFlags(c.requiredOption('--email <EMAIL>', 'login email (stored lower-case)')
      .requiredOption('--name <NAME>', 'display name (Chinese fine)')
      .option('--role <ROLE>', 'role: admin (default) or one an account already has', 'admin')
      .option('--new-role', 'the --role is new: no account has it yet')
      .option('--password-stdin', 'read the password from stdin (one trailing newline removed)'), 'never', 'check everything, ask no password, add nothing'),
    run: async (ctx, o) => {
      const a = await import('../../src/fleet/users/admins.js');
      const { parseEmail, parseName } = await import('../../src/fleet/users/registry.js');
      const req = { email: parseEmail(o.email), name: parseName(o.name), role: a.parseRole(o.role) };
      const { db } = await ctx.mysql();
      await a.checkRole(db, req.role, !!o.newRole);
      await a.assertAdminEmailFree(db, req.email);
      if (o.dryRun) {
        (await import('../../src/plan.js')).dryRunReport(ctx, [`would add admin account ${req.email} (${req.name}, role ${req.role}); the password would be ${o.passwordStdin ? 'read from stdin' : 'asked twice'}`]);
        return;
      }
      const pw = await a.readNewPassword(ctx, !!o.passwordStdin, req.email);
      const row = await a.addAdmin(db, ctx.who(), { ...req, passwordHash: await a.hashPassword(pw) });
      await printAdmins(ctx, [row]);
      ctx.info(`added admin account ${row.email}`);
    },
  });

  verb<PasswdOpts>(g, {
    name: 'passwd',
    args: '<email|id>',
    summary: "set an admin account's password (prompted without echo, or --password-stdin)",
    examples: ['sayclaw users admins passwd ops@sayclaw.test', "printf '%s' \"$NEW_PW\" | sayclaw users admins passwd ops@sayclaw.test --password-stdin"],
    options: (c) => writeFlags(c.option('--password-stdin', 'read the password from stdin (one trailing newline removed)')
      .option('--reason <TEXT>', 'why (recorded in the audit log)'), 'never', 'check the account, ask no password, change nothing'),
    run: async (ctx, o, args) => {
      const a = await import('../../src/fleet/users/admins.js');
      const { db } = await ctx.mysql();
      const cur = await a.getAdmin(db, args[0]!);
      if (o.dryRun) {
        (await import('../../src/plan.js')).dryRunReport(ctx, [`would set a new password for ${cur.email}`]);
        return;
      }
      const pw = await a.readNewPassword(ctx, !!o.passwordStdin, cur.email);
      const row = await a.setAdminPassword(db, ctx.who(), cur.id, await a.hashPassword(pw), o.reason);
      ctx.info(`password changed for ${row.email}`);
    },
  });

  registerChange(g, 'disable', 'disable an admin account (status disabled); refuses the last active one',
    ['sayclaw users admins disable ops@sayclaw.test --reason "left the team"', 'sayclaw users admins disable ops@sayclaw.test --yes']);
  registerChange(g, 'enable', 'enable a disabled admin account (status active)', ['sayclaw users admins enable ops@sayclaw.test']);
  registerChange(g, 'rm', 'remove an admin account (soft delete: deleted_at); refuses the last active one',
    ['sayclaw users admins rm old@sayclaw.test --dry-run', 'sayclaw users admins rm old@sayclaw.test --yes --reason "account cleanup"']);
}
