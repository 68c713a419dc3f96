// sayclaw servers ls | show | add | update | rm | restore: the server registry.
import type { Command } from 'commander';
import { verb, intArg } from '../kit.js';
import { UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import type { ServerInput } from '../../src/fleet/servers/registry.js';

export const SERVER_COLUMNS = [
  { key: 'name' }, { key: 'ip' }, { key: 'region' }, { key: 'provider' }, { key: 'status' },
  { key: 'alive_instances', header: 'INSTANCES' }, { key: 'cpu_cores', header: 'CPU' }, { key: 'memory_gb', header: 'MEM_GB' },
  { key: 'disk_gb', header: 'DISK_GB' }, { key: 'ssh_user', wide: true }, { key: 'ssh_port', wide: true }, { key: 'docker_port', wide: true },
  { key: 'ssh_key_path', wide: true }, { key: 'id', wide: true }, { key: 'created_at', wide: true }, { key: 'deleted_at', wide: true },
  { key: 'notes', wide: true },
];

interface LsOpts { region?: string; provider?: string; status?: string; deleted?: boolean; all?: boolean }
interface FieldOpts {
  name?: string; ip?: string; region?: string; provider?: string; cpuCores?: number; memoryGb?: number; diskGb?: number;
  status?: string; sshUser?: string; sshPort?: number; dockerPort?: number; sshKeyPath?: string; notes?: string; reason?: string;
}
interface RmOpts { reason?: string; dryRun?: boolean; yes?: boolean; force?: boolean }

function fieldOptions(c: Command): Command {
  return c.option('--name <NAME>', 'server name (unique among alive servers)')
    .option('--ip <IP>', 'IPv4 or IPv6 address')
    .option('--region <R>', 'region, e.g. jp-2')
    .option('--provider <P>', 'provider, e.g. gcp or aws')
    .option('--cpu-cores <N>', 'CPU cores', intArg(0, 100000))
    .option('--memory-gb <N>', 'memory in GB', intArg(0, 10000000))
    .option('--disk-gb <N>', 'disk in GB', intArg(0, 100000000))
    .option('--status <S>', 'active | maintenance | draining | retired')
    .option('--ssh-user <U>', 'SSH user (default root)')
    .option('--ssh-port <PORT>', 'SSH port (default 22)', intArg(1, 65535))
    .option('--docker-port <PORT>', 'Docker TLS port (default 2376)', intArg(1, 65535))
    .option('--ssh-key-path <PATH>', 'private key path on this machine')
    .option('--notes <TEXT>', 'free text')
    .option('--reason <TEXT>', 'why (recorded in the audit log)');
}

function inputFrom(o: FieldOpts): ServerInput {
  const v: ServerInput = {
    name: o.name, ip: o.ip, region: o.region, provider: o.provider, cpu_cores: o.cpuCores, memory_gb: o.memoryGb, disk_gb: o.diskGb,
    status: o.status, ssh_user: o.sshUser, ssh_port: o.sshPort, docker_port: o.dockerPort, ssh_key_path: o.sshKeyPath, notes: o.notes,
  };
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as ServerInput;
}

async function showOne(ctx: Context, ref: string): Promise<void> {
  const { showServer } = await import('../../src/fleet/servers/registry.js');
  const { renderObject } = await import('../../src/output/render.js');
  const { db } = await ctx.mysql();
  const d = await showServer(db, ref);
  await renderObject(ctx.out, { ...d.server, alive_instances: d.instances.length, instances: d.instances }, {
    format: ctx.outputFormat, nameKey: 'name',
    sections: [{ title: 'Server', data: { ...d.server } }, { title: `Alive instances (${d.instances.length})`, data: d.instances }],
  });
}

async function rmOrRestore(ctx: Context, o: RmOpts, refs: string[], del: boolean): Promise<void> {
  if (!refs.length) throw new UsageError(`name the servers to ${del ? 'remove' : 'restore'}`, { hint: `e.g. sayclaw servers ${del ? 'rm' : 'restore'} jp-2-srv-03` });
  const { findServer, listServers, setServersDeleted } = await import('../../src/fleet/servers/registry.js');
  const { renderList } = await import('../../src/output/render.js');
  const { previewAndConfirm } = await import('../../src/plan.js');
  const { db } = await ctx.mysql();
  const all = await listServers(db, { state: 'all' });
  const byId = new Map(all.map((s) => [s.id, s]));
  const targets: typeof all = [];
  for (const r of refs) {
    const s = byId.get((await findServer(db, r)).id)!;
    if (del ? s.deleted_at !== null : s.deleted_at === null) { ctx.info(`${s.name ?? s.id}: ${del ? 'already soft-deleted' : 'not deleted'}, skipped`); continue; }
    if (!targets.includes(s)) targets.push(s);
  }
  if (!targets.length) { ctx.info(`nothing to ${del ? 'soft-delete' : 'restore'}`); return; }
  const busy = targets.filter((s) => s.alive_instances > 0);
  if (del && busy.length && !o.force) {
    throw new UsageError(`${busy.map((s) => `${s.name} has ${s.alive_instances} alive instance${s.alive_instances === 1 ? '' : 's'}`).join('; ')}; nothing changed`, {
      hint: `move or remove them first (sayclaw instances ls --server ${busy[0]!.name}), or add --force` });
  }
  const verbText = del ? 'soft-delete' : 'restore';
  const go = await previewAndConfirm(ctx, { verb: verbText, noun: targets.length === 1 ? 'server' : 'servers', ids: targets.map((t) => t.name ?? t.id), yes: o.yes, dryRun: o.dryRun },
    { rows: targets, columns: [{ key: 'name' }, { key: 'ip' }, { key: 'region' }, { key: 'status' }, { key: 'alive_instances', header: 'INSTANCES' }, { key: 'id' }] });
  if (!go) return;
  const out = await setServersDeleted(db, ctx.who(), targets.map((t) => t.id), del, o.reason ?? null, { force: o.force, signal: ctx.signal });
  await renderList(ctx.out, out, { format: ctx.outputFormat, nameKey: 'name', columns: [{ key: 'name' }, { key: 'id' }, { key: 'result' }] });
  const changed = out.filter((x) => x.result === (del ? 'deleted' : 'restored'));
  ctx.info(`${del ? 'soft-deleted' : 'restored'} ${changed.length} server${changed.length === 1 ? '' : 's'}`);
  if (changed.length && del) ctx.info(`undo: sayclaw servers restore ${changed.map((c) => c.name ?? c.id).join(' ')}`);
}

export function registerServerRegistry(g: Command): void {
  verb<LsOpts>(g, {
    name: 'ls',
    summary: 'list servers with alive instance counts, size, status and region',
    examples: ['sayclaw servers ls', 'sayclaw servers ls --region jp-2 -o wide', 'sayclaw servers ls --deleted', 'sayclaw servers ls -o name | xargs -n1 sayclaw servers show'],
    options: (c) => c.option('--region <R>', 'only this region').option('--provider <P>', 'only this provider')
      .option('--status <S>', 'only this status').option('--deleted', 'only soft-deleted servers').option('--all', 'alive and soft-deleted servers'),
    run: async (ctx, o) => {
      if (o.deleted && o.all) throw new UsageError('--deleted and --all exclude each other');
      const { listServers } = await import('../../src/fleet/servers/registry.js');
      const { renderList } = await import('../../src/output/render.js');
      const { db } = await ctx.mysql();
      const rows = await listServers(db, { region: o.region, provider: o.provider, status: o.status, state: o.deleted ? 'deleted' : o.all ? 'all' : 'alive' });
      await renderList(ctx.out, rows, { format: ctx.outputFormat, columns: SERVER_COLUMNS, nameKey: 'name' });
      if (ctx.io.stderrIsTTY && ctx.io.stdoutIsTTY) ctx.info(`${rows.length} server${rows.length === 1 ? '' : 's'}`);
    },
  });
  verb(g, {
    name: 'show',
    args: '<server>',
    summary: 'one server (by name, IP or id) with its alive instances',
    examples: ['sayclaw servers show jp-2-srv-01', 'sayclaw servers show 10.0.0.5 -o json'],
    run: async (ctx, _o, args) => showOne(ctx, args[0]!),
  });
  verb<FieldOpts>(g, {
    name: 'add',
    summary: 'register a server (validates IP and ports; audited)',
    examples: ['sayclaw servers add --name jp-2-srv-04 --ip 10.0.2.4 --region jp-2 --provider gcp --cpu-cores 8 --memory-gb 32 --disk-gb 200'],
    options: fieldOptions,
    run: async (ctx, o) => {
      const { addServer } = await import('../../src/fleet/servers/registry.js');
      const { db } = await ctx.mysql();
      const row = await addServer(db, ctx.who(), inputFrom(o), o.reason ?? null);
      ctx.info(`added server ${row.name} (${row.id})`);
      await showOne(ctx, row.id);
    },
  });
  verb<FieldOpts>(g, {
    name: 'update',
    args: '<server>',
    summary: 'change a server\'s columns (only the flags given; audited with before/after)',
    examples: ['sayclaw servers update jp-2-srv-04 --status maintenance --reason "disk swap"', 'sayclaw servers update jp-2-srv-04 --ssh-port 2222'],
    options: fieldOptions,
    run: async (ctx, o, args) => {
      const { updateServer } = await import('../../src/fleet/servers/registry.js');
      const { db } = await ctx.mysql();
      const input = inputFrom(o);
      if (!Object.keys(input).length) throw new UsageError('nothing to update', { hint: 'give at least one of --name --ip --region --status ...' });
      const r = await updateServer(db, ctx.who(), args[0]!, input, o.reason ?? null);
      ctx.info(r.changed.length ? `updated ${r.server.name}: ${r.changed.join(', ')}` : `${r.server.name}: nothing changed`);
      await showOne(ctx, r.server.id);
    },
  });
  const rmOpts = (c: Command) => c.option('--reason <TEXT>', 'why (recorded in the audit log)')
    .option('-n, --dry-run', 'list what would change and stop').option('-y, --yes', 'do not ask (required without a TTY)');
  verb<RmOpts>(g, {
    name: 'rm',
    args: '<servers...>',
    summary: 'soft-delete servers (refused while alive instances live on them unless --force)',
    examples: ['sayclaw servers rm jp-2-srv-04 --reason "decommissioned" --dry-run', 'sayclaw servers rm jp-2-srv-04 --yes --force'],
    options: (c) => rmOpts(c).option('--force', 'soft-delete even with alive instances on it'),
    run: (ctx, o, args) => rmOrRestore(ctx, o, args, true),
  });
  verb<RmOpts>(g, {
    name: 'restore',
    args: '<servers...>',
    summary: 'undo a server soft delete',
    examples: ['sayclaw servers restore jp-2-srv-04 --yes'],
    options: rmOpts,
    run: (ctx, o, args) => rmOrRestore(ctx, o, args, false),
  });
}
