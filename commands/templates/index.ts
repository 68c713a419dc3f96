// sayclaw templates: what `instances create` starts new instances from (ls, show, add, update,
// rm, restore). Logic in src/fleet/templates/registry.ts.
import type { Command } from 'commander';
import { collect, group, intArg, verb, writeFlags } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import type { Template, TemplateInput } from '../../src/fleet/templates/registry.js';

export const TEMPLATE_COLUMNS = [
  { key: 'name' }, { key: 'image' }, { key: 'network' }, { key: 'model' }, { key: 'quota' }, { key: 'memory_mb', header: 'MEM_MB' },
  { key: 'port_range', header: 'PORTS' }, { key: 'container_port', wide: true }, { key: 'command', wide: true, get: (t: Template) => (t.command ? JSON.stringify(t.command) : null) },
  { key: 'env', wide: true, get: (t: Template) => Object.entries(t.env).map(([k, v]) => `${k}=${v}`).join(' ') || null },
  { key: 'id', wide: true }, { key: 'created_at', wide: true }, { key: 'deleted_at', wide: true }, { key: 'notes', wide: true },
];

interface FieldOpts {
  image?: string; command?: string; env?: string[]; network?: string; containerPort?: number; model?: string; quota?: string;
  memoryMb?: number; portRange?: string; notes?: string; reason?: string; dryRun?: boolean; yes?: boolean;
}

function fieldOptions(c: Command): Command {
  return c.option('--image <IMAGE>', 'container image, e.g. ghcr.io/openclaw/openclaw:2026.9.6')
    .option('--command <JSON>', 'command as a JSON array (default: the image\'s own)')
    .option('--env <K=V>', 'environment variable without secrets (repeatable)', collect)
    .option('--network <host|bridge>', 'container network (default host)')
    .option('--container-port <N>', 'gateway port inside the container with --network bridge (default 18789)', intArg(1, 65535))
    .option('--model <M>', 'the model the gateway uses')
    .option('--quota <N|unlimited>', 'One API quota of each instance token (default unlimited)')
    .option('--memory-mb <N>', 'container memory limit in MB', intArg(64, 1048576))
    .option('--port-range <A-B>', 'gateway ports on the server (default 18789-19788)')
    .option('--notes <TEXT>', 'free text')
    .option('--reason <TEXT>', 'why (recorded in the audit log)');
}

async function inputFrom(o: FieldOpts): Promise<TemplateInput> {
  const r = await import('../../src/fleet/templates/registry.js');
  const v: TemplateInput = {};
  if (o.image !== undefined) v.image = o.image;
  if (o.command !== undefined) v.command = o.command === '' ? null : r.parseCommand(o.command);
  if (o.env !== undefined) v.env = r.parseEnv(o.env);
  if (o.network !== undefined) v.network = o.network;
  if (o.containerPort !== undefined) v.container_port = o.containerPort;
  if (o.model !== undefined) v.model = o.model === '' ? null : o.model;
  if (o.quota !== undefined) v.quota = r.parseQuota(o.quota);
  if (o.memoryMb !== undefined) v.memory_mb = o.memoryMb;
  if (o.portRange !== undefined) [v.port_min, v.port_max] = r.parsePortRange(o.portRange);
  if (o.notes !== undefined) v.notes = o.notes === '' ? null : o.notes;
  return v;
}

async function showTemplate(ctx: Context, t: Template): Promise<void> {
  const { renderObject } = await import('../../src/output/render.js');
  const flat = { ...t, command: t.command ? JSON.stringify(t.command) : null,
    env: Object.entries(t.env).map(([k, v]) => `${k}=${v}`).join(' ') || null };
  await renderObject(ctx.out, { ...t }, { format: ctx.outputFormat, nameKey: 'name', sections: [{ title: 'Template', data: flat }] });
}

async function rmOrRestore(ctx: Context, o: FieldOpts, ref: string, del: boolean): Promise<void> {
  const { findTemplate, setTemplateDeleted } = await import('../../src/fleet/templates/registry.js');
  const { confirmChange, showChange } = await import('../../src/plan.js');
  const { db } = await ctx.mysql();
  const t = await findTemplate(db, ref, del ? 'alive' : 'deleted');
  showChange(ctx, [`will ${del ? 'soft-delete' : 'restore'} template ${t.name} (${t.image}; id ${t.id})`], o.dryRun);
  if (!await confirmChange(ctx, { verb: del ? 'soft-delete' : 'restore', noun: 'template', ids: [t.name], yes: o.yes, dryRun: o.dryRun })) return;
  const res = await setTemplateDeleted(db, ctx.who(), t.id, del, o.reason ?? null);
  const { renderList } = await import('../../src/output/render.js');
  await renderList(ctx.out, [res], { format: ctx.outputFormat, nameKey: 'name', columns: [{ key: 'name' }, { key: 'id' }, { key: 'result' }] });
  if (res.result === 'deleted') ctx.info(`soft-deleted template ${t.name}; undo: sayclaw templates restore ${t.name}`);
  else if (res.result === 'restored') ctx.info(`restored template ${t.name}`);
  else ctx.info(`${t.name}: changed by someone else meanwhile (${res.result}); nothing changed`);
}

export function registerTemplates(program: Command): Command {
  const g = group(program, 'templates', 'instance templates: image, command, env, network, model, quota, memory, port range', [
    'sayclaw templates ls', 'sayclaw templates show standard',
    'sayclaw templates add standard --image ghcr.io/openclaw/openclaw:2026.9.6 --model claude-sonnet-4 --quota 5000000 --memory-mb 2048']);
  verb<{ deleted?: boolean; all?: boolean }>(g, {
    name: 'ls', summary: 'list templates (alive; --deleted, --all)',
    examples: ['sayclaw templates ls', 'sayclaw templates ls -o wide', 'sayclaw templates ls --all -o json'],
    options: (c) => c.option('--deleted', 'only soft-deleted templates').option('--all', 'alive and soft-deleted templates'),
    run: async (ctx, o) => {
      if (o.deleted && o.all) throw new UsageError('--deleted and --all exclude each other');
      const { listTemplates } = await import('../../src/fleet/templates/registry.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const rows = await listTemplates(db, o.deleted ? 'deleted' : o.all ? 'all' : 'alive');
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: TEMPLATE_COLUMNS, nameKey: 'name' });
      ctx.countLine(rows.length, 'template');
    },
  });
  verb(g, {
    name: 'show', args: '<name>', summary: 'one template in full',
    examples: ['sayclaw templates show standard', 'sayclaw templates show standard -o json'],
    run: async (ctx, _o, args) => {
      const { findTemplate } = await import('../../src/fleet/templates/registry.js');
      const { db } = await ctx.mysql();
      await showTemplate(ctx, await findTemplate(db, args[0]!, 'any'));
    },
  });
  verb<FieldOpts>(g, {
    name: 'add', args: '<name>', summary: 'add a template (name unique among alive templates; audited)',
    examples: ['sayclaw templates add standard --image ghcr.io/openclaw/openclaw:2026.9.6 --model claude-sonnet-4 --quota 5000000 --memory-mb 2048',
      'sayclaw templates add bridge-small --image ghcr.io/openclaw/openclaw:2026.9.6 --network bridge --env TZ=Asia/Tokyo --port-range 20000-20999 --dry-run'],
    options: (c) => writeFlags(fieldOptions(c), 'never', 'check everything, add nothing'),
    run: async (ctx, o, args) => {
      const { addTemplate, checkNewTemplate } = await import('../../src/fleet/templates/registry.js');
      const v = await inputFrom(o);
      const { db } = await ctx.mysql();
      if (o.dryRun) {
        await checkNewTemplate(db, args[0]!, v);
        (await import('../../src/plan.js')).dryRunReport(ctx, [`would add template ${args[0]} (${Object.entries(v).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(', ')})`]);
        return;
      }
      const t = await addTemplate(db, ctx.who(), args[0]!, v, o.reason ?? null);
      ctx.info(`added template ${t.name} (${t.id})`);
      await showTemplate(ctx, t);
    },
  });
  verb<FieldOpts>(g, {
    name: 'update', args: '<name>', summary: 'change fields of a template (instances made from it keep theirs; audited)',
    examples: ['sayclaw templates update standard --quota unlimited --memory-mb 3072', 'sayclaw templates update standard --command "" --dry-run'],
    options: (c) => writeFlags(fieldOptions(c), 'never', 'show the changes, write nothing'),
    run: async (ctx, o, args) => {
      const { templateChanges, updateTemplate } = await import('../../src/fleet/templates/registry.js');
      const v = await inputFrom(o);
      if (!Object.keys(v).length) throw new UsageError('nothing to update', { hint: 'give at least one of --image, --command, --env, --network, --container-port, --model, --quota, --memory-mb, --port-range, --notes' });
      const { db } = await ctx.mysql();
      const line = (c: { column: string; before: unknown; after: unknown }) => `${c.column}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`;
      if (o.dryRun) {
        const { template, changes } = await templateChanges(db, args[0]!, v);
        (await import('../../src/plan.js')).dryRunReport(ctx, changes.length ? changes.map((c) => `would change ${template.name} ${line(c)}`) : [`${template.name}: nothing would change`]);
        return;
      }
      const { template, changes } = await updateTemplate(db, ctx.who(), args[0]!, v, o.reason ?? null);
      if (!changes.length) ctx.info(`${template.name}: already so; nothing changed`);
      for (const c of changes) ctx.info(`${template.name} ${line(c)}`);
      await showTemplate(ctx, template);
    },
  });
  verb<FieldOpts>(g, {
    name: 'rm', args: '<name>', summary: 'soft-delete a template (instances made from it stay)',
    examples: ['sayclaw templates rm old-small --reason "replaced" --dry-run', 'sayclaw templates rm old-small --yes'],
    options: (c) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'tty'),
    run: (ctx, o, args) => rmOrRestore(ctx, o, args[0]!, true),
  });
  verb<FieldOpts>(g, {
    name: 'restore', args: '<name>', summary: 'undo a template soft delete (refused if an alive template has the name)',
    examples: ['sayclaw templates restore old-small --yes'],
    options: (c) => writeFlags(c.option('--reason <TEXT>', 'why (recorded in the audit log)'), 'tty'),
    run: (ctx, o, args) => rmOrRestore(ctx, o, args[0]!, false),
  });
  return g;
}
