// sayclaw schema init | diff | print: the expected schema shipped with the CLI.
import type { Command } from 'commander';
import { group, verb, writeFlags } from './kit.js';
import { ExitSignal } from '../src/errors.js';

export function registerSchema(program: Command): void {
  const g = group(program, 'schema', 'create, compare or print the expected database schema', [
    'sayclaw schema print > schema.sql', 'sayclaw schema init', 'sayclaw schema diff -o json']);
  verb<{ mysql?: boolean; pg?: boolean; dryRun?: boolean; yes?: boolean }>(g, {
    name: 'init',
    summary: 'create missing databases, tables and indexes (never changes a column or drops anything)',
    examples: ['sayclaw schema init', 'sayclaw schema init --no-pg', 'sayclaw schema init --dry-run'],
    options: (c) => writeFlags(c.option('--no-mysql', 'skip MySQL').option('--no-pg', 'skip the legacy PostgreSQL'), 'never', 'list what would be created, create nothing'),
    run: async (ctx, o) => {
      const ops = await import('../src/db/schema-ops.js');
      const { showChange } = await import('../src/plan.js');
      const report = (r: { created: string[]; skipped: string[] }) => {
        if (o.dryRun) showChange(ctx, r.created.map((c) => `would create ${c}`), true);
        else for (const c of r.created) ctx.info(`created ${c}`);
        for (const s of r.skipped) ctx.info(`skipped ${s}`);
      };
      if (o.mysql !== false) {
        const { db, names } = await ctx.mysql();
        report(await ops.initMysqlSchema(db, names, { dryRun: o.dryRun }));
      }
      if (o.pg !== false) {
        const pg = await ctx.pg();
        report(await ops.initPgSchema(pg.db, { dryRun: o.dryRun }));
      }
      if (o.dryRun) ctx.info('dry run: nothing changed');
    },
  });
  verb(g, {
    name: 'diff',
    summary: "compare the live databases with the expected schema (exit 1 on drift); One API's tables by what sayclaw reads",
    examples: ['sayclaw schema diff', 'sayclaw schema diff -o json'],
    run: async (ctx) => {
      const ops = await import('../src/db/schema-ops.js');
      const { renderList } = await import('../src/output/render.js');
      const { db, names } = await ctx.mysql();
      const drift = await ops.diffMysqlSchema(db, names);
      if (ctx.config().usage.logsSource !== 'mysql') {
        const pg = await ctx.pg();
        drift.push(...await ops.diffPgSchema(pg.db, ctx.config().postgres.database));
      }
      await renderList(ctx.out, drift, { format: ctx.outputFormat, nameKey: 'table', columns: [
        { key: 'database' }, { key: 'table' }, { key: 'column' }, { key: 'kind' }, { key: 'expected' }, { key: 'actual' }, { key: 'failing' }] });
      if (!drift.some((d) => d.failing)) {
        const flavours = drift.filter((d) => d.kind === 'flavour').map((d) => `${d.database}: ${d.actual}`);
        ctx.info(`no drift: the live schema matches${flavours.length ? `; One API ${flavours.join('; ')}` : ''}`);
      }
      if (drift.some((d) => d.failing)) throw new ExitSignal(1, 'schema drift found');
    },
  });
  verb(g, {
    name: 'print',
    summary: 'print the expected DDL with the configured database names',
    examples: ['sayclaw schema print'],
    run: async (ctx) => {
      const { printSchema } = await import('../src/db/schema-ops.js');
      ctx.print(printSchema(ctx.config().mysql.databases));
    },
  });
}
