// sayclaw servers check | exec | inventory: the verbs that reach servers over SSH.
import type { Command } from 'commander';
import { verb, splitAtDoubleDash } from '../kit.js';
import { ExitSignal, InterruptedError, UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';

interface SelOpts { all?: boolean; region?: string }
interface CheckOpts extends SelOpts { namePattern?: string }
interface ExecOpts extends SelOpts { group?: boolean; timeout?: string; commandArgv?: string[] }

interface InvOpts { list?: boolean; host?: string }

async function selectServers(ctx: Context, names: string[], o: SelOpts) {
  const { resolveServerTargets } = await import('../../src/fleet/servers.js');
  const { db } = await ctx.mysql();
  return { db, servers: await resolveServerTargets(db, { names, all: o.all, region: o.region }) };
}

async function progressFor(ctx: Context, total: number, label: string) {
  const { Progress } = await import('../../src/remote/progress.js');
  const p = new Progress(ctx.io.stderr, ctx.io.stderrIsTTY && !ctx.opts.quiet, total, label);
  return p;
}

const green = (t: string) => `\x1b[32m${t}\x1b[39m`;
const red = (t: string) => `\x1b[31m${t}\x1b[39m`;
const yellow = (t: string) => `\x1b[33m${t}\x1b[39m`;
const statusColor = (v: unknown, t: string) => (v === 'ok' ? green(t) : v === 'drift' ? yellow(t) : red(t));

export function registerServerRemote(g: Command): void {
  verb<CheckOpts>(g, {
    name: 'check',
    args: '[servers...]',
    summary: 'SSH reachability and latency, Docker version, disk/memory free and container drift per server (exit 3 on failure or drift)',
    examples: ['sayclaw servers check --all', 'sayclaw servers check jp-2-srv-01 jp-2-srv-02', 'sayclaw servers check --region jp-2 -o json'],
    options: (c) => c.option('--all', 'every alive server (retired ones excluded)').option('--region <R>', 'alive servers of one region')
      .option('--name-pattern <REGEX>', 'container names that count as instances for drift (default ^oc-)'),
    run: async (ctx, o, names) => {
      const { servers, db } = await selectServers(ctx, names, o);
      const { openRemote } = await import('../../src/fleet/servers-remote.js');
      const { checkServers } = await import('../../src/fleet/servers-check.js');
      const { renderList, renderObject } = await import('../../src/output/render.js');
      const remote = await openRemote(ctx);
      const progress = await progressFor(ctx, servers.length, 'checking');
      const rep = await checkServers(db, remote, servers, { namePattern: o.namePattern, debug: (m) => ctx.debug(m), onDone: (x, done) => progress.tick(done, x.ok) });
      progress.end();
      if (ctx.signal.aborted) throw new InterruptedError('interrupted; connections closed');
      const f = ctx.outputFormat;
      if (f === 'table' || f === 'wide') {
        await renderList(ctx.out, rep.servers, { format: f, nameKey: 'server_name', columns: [
          { key: 'server_name', header: 'SERVER' }, { key: 'status', color: statusColor }, { key: 'ssh_ms', header: 'SSH_MS' },
          { key: 'docker_version', header: 'DOCKER' }, { key: 'containers_running', header: 'RUNNING' }, { key: 'containers_total', header: 'CONTAINERS', wide: true },
          { key: 'disk_free_gb', header: 'DISK_FREE_GB' }, { key: 'disk_used_pct', header: 'DISK_USED%', wide: true },
          { key: 'mem_free_mb', header: 'MEM_FREE_MB' }, { key: 'mem_total_mb', header: 'MEM_TOTAL_MB', wide: true },
          { key: 'drift' }, { key: 'ip', wide: true }, { key: 'error' }] });
        if (rep.drift.length) {
          ctx.print('\nDrift:\n');
          await renderList(ctx.out, rep.drift, { format: f, columns: [{ key: 'server_name', header: 'SERVER' }, { key: 'kind' },
            { key: 'instance_id', header: 'INSTANCE' }, { key: 'container' }, { key: 'state' }, { key: 'detail' }] });
        }
      } else if (f === 'name') {
        for (const s of rep.servers) if (s.status !== 'ok') ctx.print(`${s.server_name}\n`);
      } else {
        await renderObject(ctx.out, { healthy: !rep.failed && !rep.drifted, failed: rep.failed, drifted: rep.drifted, servers: rep.servers, drift: rep.drift }, { format: f, sections: [] });
      }
      const ok = rep.servers.length - rep.failed - rep.drifted;
      ctx.info(`${rep.servers.length} server${rep.servers.length === 1 ? '' : 's'}: ${ok} ok, ${rep.drifted} drifted, ${rep.failed} failed`);
      if (rep.failed || rep.drifted) throw new ExitSignal(3);
    },
  });

  verb<ExecOpts>(g, {
    name: 'exec',
    args: '[servers...]',
    summary: 'run a command on many servers at once (-- COMMAND); output prefixed by server, summary, exit 3 if any failed',
    examples: ['sayclaw servers exec --all -- uptime', 'sayclaw servers exec --region jp-2 --group -- docker ps --format "{{.Names}}"',
      'sayclaw servers exec jp-2-srv-01 jp-2-srv-02 -- df -h /', 'sayclaw servers exec --all -o json -- cat /etc/os-release'],
    options: (c) => c.option('--all', 'every alive server (retired ones excluded)').option('--region <R>', 'alive servers of one region')
      .option('--group', 'print each server\'s output as one block when it finishes (instead of prefixed lines)')
      .option('--timeout <SECONDS>', 'per-server command timeout (default ssh.commandTimeoutMs)').allowExcessArguments(true)
      && splitAtDoubleDash(c, 'serverNames'),
    run: async (ctx, o) => {
      const cmdv = o.commandArgv ?? [];
      const names = (o as { serverNames?: string[] }).serverNames ?? [];
      if (!cmdv.length) throw new UsageError('give the command after --', { hint: 'e.g. sayclaw servers exec --all -- uptime' });
      let timeoutMs: number | undefined;
      if (o.timeout !== undefined) {
        const n = Number(o.timeout);
        if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout expects seconds > 0, got "${o.timeout}"`);
        timeoutMs = Math.round(n * 1000);
      }
      const { servers } = await selectServers(ctx, names, o);
      const { openRemote } = await import('../../src/fleet/servers-remote.js');
      const { execOnServers, shellJoin } = await import('../../src/fleet/servers-exec.js');
      const remote = await openRemote(ctx);
      const f = ctx.outputFormat;
      const stream = (f === 'table' || f === 'wide') && !o.group;
      const width = Math.max(...servers.map((s) => (s.name ?? s.id).length), 1);
      const progress = await progressFor(ctx, servers.length, 'running');
      const rows = await execOnServers(remote, servers, shellJoin(cmdv), {
        timeoutMs,
        onLine: stream ? (srv, which, line) => {
          const p = `${srv.padEnd(width)} | `;
          if (which === 'stdout') ctx.print(`${p}${line}\n`); else ctx.io.stderr.write(`${p}${line}\n`);
        } : undefined,
        onDone: (x, done) => { if (!stream) progress.tick(done, x.ok); },
      });
      progress.end();
      if (ctx.signal.aborted) throw new InterruptedError('interrupted; connections closed');
      if (stream) {
        for (const r of rows) if (r.status !== 'ok') ctx.io.stderr.write(`${(r.server_name).padEnd(width)} ! ${r.status}: ${r.error}\n`);
      } else if (f === 'table' || f === 'wide') {
        for (const r of rows) {
          ctx.print(`=== ${r.server_name} (${r.status}${r.exit_code !== null ? `, exit ${r.exit_code}` : ''}, ${r.ms} ms)${r.error && r.exit_code === null ? `: ${r.error}` : ''}\n`);
          if (r.stdout) ctx.print(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`);
          if (r.stderr) ctx.io.stderr.write(r.stderr.split('\n').filter(Boolean).map((l) => `${r.server_name} | ${l}\n`).join(''));
        }
      } else {
        const { renderList } = await import('../../src/output/render.js');
        await renderList(ctx.out, rows, { format: f, nameKey: 'server_name', columns: [{ key: 'server_name' }, { key: 'ip' }, { key: 'status' },
          { key: 'exit_code' }, { key: 'ms' }, { key: 'stdout' }, { key: 'stderr' }, { key: 'error' }] });
      }
      const bad = rows.filter((r) => r.status !== 'ok');
      const codes = bad.filter((r) => r.exit_code !== null).map((r) => `${r.server_name}=${r.exit_code}`);
      const unreach = bad.filter((r) => r.exit_code === null).map((r) => `${r.server_name} (${r.status})`);
      ctx.info(`${rows.length} server${rows.length === 1 ? '' : 's'}: ${rows.length - bad.length} ok, ${bad.length} failed`
        + `${codes.length ? `; non-zero exit: ${codes.join(', ')}` : ''}${unreach.length ? `; no exit code: ${unreach.join(', ')}` : ''}`);
      if (bad.length) throw new ExitSignal(3);
    },
  });

  verb<InvOpts>(g, {
    name: 'inventory',
    summary: 'Ansible dynamic inventory of alive servers (--list, --host NAME), grouped by region and provider',
    examples: ['sayclaw servers inventory --list', 'ansible-inventory -i inventory.sh --graph   # inventory.sh: exec sayclaw servers inventory "$@"',
      'sayclaw servers inventory --host jp-2-srv-01'],
    options: (c) => c.option('--list', 'the whole inventory (default)').option('--host <NAME>', 'hostvars of one host'),
    run: async (ctx, o) => {
      const { buildInventory } = await import('../../src/fleet/servers-inventory.js');
      const { listServers } = await import('../../src/fleet/servers.js');
      const { db } = await ctx.mysql();
      const rows = (await listServers(db, { state: 'alive' })).filter((s) => s.status !== 'retired');
      const inv = buildInventory(rows, ctx.config(), ctx.io.env.HOME);
      if (o.host !== undefined) {
        const hv = Object.hasOwn(inv._meta.hostvars, o.host) ? inv._meta.hostvars[o.host] : undefined;
        if (!hv) {
          const { NotFoundError } = await import('../../src/errors.js');
          throw new NotFoundError(`no such host in the inventory: ${o.host}`);
        }
        ctx.print(`${JSON.stringify(hv, null, 2)}\n`);
        return;
      }
      ctx.print(`${JSON.stringify(inv, null, 2)}\n`);
    },
  });
}
