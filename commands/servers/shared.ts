// What several servers verbs share: the list columns, the field flags of add/update, showing one
// server, selecting the servers a remote verb reaches, its progress line and status colours.
import type { Command } from 'commander';
import { intArg } from '../kit.js';
import type { Context } from '../../src/context.js';
import type { ServerInput } from '../../src/fleet/servers/registry.js';

export const SERVER_COLUMNS = [
  { key: 'name' }, { key: 'ip' }, { key: 'region' }, { key: 'provider' }, { key: 'status' },
  { key: 'alive_instances', header: 'INSTANCES' }, { key: 'cpu_cores', header: 'CPU' }, { key: 'memory_gb', header: 'MEM_GB' },
  { key: 'disk_gb', header: 'DISK_GB' }, { key: 'ssh_user', wide: true }, { key: 'ssh_port', wide: true }, { key: 'docker_port', wide: true },
  { key: 'ssh_key_path', wide: true }, { key: 'id', wide: true }, { key: 'created_at', wide: true }, { key: 'deleted_at', wide: true },
  { key: 'notes', wide: true },
];

export interface FieldOpts {
  name?: string; ip?: string; region?: string; provider?: string; cpuCores?: number; memoryGb?: number; diskGb?: number;
  status?: string; sshUser?: string; sshPort?: number; dockerPort?: number; sshKeyPath?: string; notes?: string; reason?: string;
  dryRun?: boolean; yes?: boolean;
}
export function fieldOptions(c: Command): Command {
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

export function inputFrom(o: FieldOpts): ServerInput {
  const v: ServerInput = {
    name: o.name, ip: o.ip, region: o.region, provider: o.provider, cpu_cores: o.cpuCores, memory_gb: o.memoryGb, disk_gb: o.diskGb,
    status: o.status, ssh_user: o.sshUser, ssh_port: o.sshPort, docker_port: o.dockerPort, ssh_key_path: o.sshKeyPath, notes: o.notes,
  };
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as ServerInput;
}

export async function showOne(ctx: Context, ref: string): Promise<void> {
  const { showServer } = await import('../../src/fleet/servers/registry.js');
  const { renderObject } = await import('../../src/output/render.js');
  const { db } = await ctx.mysql();
  const d = await showServer(db, ref);
  await renderObject(ctx.out, { ...d.server, alive_instances: d.instances.length, instances: d.instances }, {
    format: ctx.outputFormat, nameKey: 'name',
    sections: [{ title: 'Server', data: { ...d.server } }, { title: `Alive instances (${d.instances.length})`, data: d.instances }],
  });
}

export interface SelOpts { all?: boolean; region?: string }

export async function selectServers(ctx: Context, names: string[], o: SelOpts) {
  const { resolveServerTargets } = await import('../../src/fleet/servers/registry.js');
  const { db } = await ctx.mysql();
  return { db, servers: await resolveServerTargets(db, { names, all: o.all, region: o.region }) };
}

export async function progressFor(ctx: Context, total: number, label: string) {
  const { Progress } = await import('../../src/remote/progress.js');
  const p = new Progress(ctx.io.stderr, ctx.io.stderrIsTTY && !ctx.opts.quiet, total, label);
  return p;
}

const green = (t: string) => `\x1b[32m${t}\x1b[39m`;
const red = (t: string) => `\x1b[31m${t}\x1b[39m`;
const yellow = (t: string) => `\x1b[33m${t}\x1b[39m`;
export const statusColor = (v: unknown, t: string) => (v === 'ok' ? green(t) : v === 'drift' ? yellow(t) : red(t));

