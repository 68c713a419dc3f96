// sayclaw users ls: portal users with filters; instance ids are the alive instances
// oc_instances.assigned_user_id gives them (the assignment truth).
import type { Command } from 'commander';
import { verb, choiceOption } from '../kit.js';

interface LsOpts {
  department?: string; status?: 'active' | 'revoked'; emailPrefix?: string; name?: string;
  instance?: boolean; telegram?: 'bound' | 'unbound';
}

export function registerUsersLs(g: Command): void {
  verb<LsOpts>(g, {
    name: 'ls',
    summary: 'list portal users: email, name, department, status, daily quota, instances, Telegram',
    examples: [
      'sayclaw users ls --department 研发部',
      'sayclaw users ls --name 王 --status active',
      'sayclaw users ls --email-prefix li. -o json',
      'sayclaw users ls --no-instance --status active -o csv > idle-users.csv',
      'sayclaw users ls --telegram unbound -o name',
    ],
    options: (c) => c
      .option('--department <D>', 'exact department, e.g. 研发部')
      .addOption(choiceOption('--status <S>', 'active or revoked', ['active', 'revoked']))
      .option('--email-prefix <P>', 'emails starting with P, literally (%, _ and ! are plain characters)')
      .option('--name <TEXT>', 'names containing TEXT (any script: 王, 张伟, Wang)')
      .option('--no-instance', 'only users with no alive instance assigned')
      .addOption(choiceOption('--telegram <B>', 'bound or unbound', ['bound', 'unbound'])),
    run: async (ctx, o) => {
      const { listUsers } = await import('../../src/fleet/users/registry.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const rows = await listUsers(db, {
        department: o.department, status: o.status, emailPrefix: o.emailPrefix, name: o.name,
        noInstance: o.instance === false, telegram: o.telegram,
      });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, nameKey: 'email', columns: USER_COLUMNS });
      const note = rows.length ? undefined : await (await import('../../src/fleet/suggest.js')).exactMissNote(db, [
        { flag: '--department', value: o.department, table: 'portal.users', column: 'department' }]);
      ctx.countLine(rows.length, 'user', { note });
    },
  });
}

export const USER_COLUMNS = [
  { key: 'email' }, { key: 'name' }, { key: 'department' }, { key: 'status' }, { key: 'quota_daily', header: 'QUOTA_DAILY' },
  { key: 'instance_ids', header: 'INSTANCES' }, { key: 'telegram_username', header: 'TELEGRAM' },
  { key: 'id', wide: true }, { key: 'telegram_user_id', wide: true }, { key: 'created_at', wide: true }, { key: 'revoked_at', wide: true },
];
