// sayclaw servers check: SSH, Docker, disk/memory and container drift per server.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { ExitSignal, InterruptedError } from '../../src/errors.js';
import { progressFor, selectServers, statusColor, type SelOpts } from './shared.js';
import { plural } from '../../src/output/format.js';

interface CheckOpts extends SelOpts { namePattern?: string }

export function registerServersCheck(g: Command): void {
  verb<CheckOpts>(g, {
    name: 'check',
    args: '[servers...]',
    summary: 'SSH reachability and latency, Docker version, disk/memory free and container drift per server (exit 3 on failure or drift)',
    examples: ['sayclaw servers check --all', 'sayclaw servers check jp-2-srv-01 jp-2-srv-02', 'sayclaw servers check --region jp-2 -o json'],
    options: (c) => c.option('--all', 'every alive server (retired ones excluded)').option('--region <R>', 'alive servers of one region')
      .option('--name-pattern <REGEX>', 'container names that count as instances for drift (default ^oc-)'),
    run: async (ctx, o, names) => {
      const { servers, db } = await selectServers(ctx, names, o);
      const { openRemote } = await import('../../src/fleet/servers/remote.js');
      const { checkServers } = await import('../../src/fleet/servers/check.js');
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
          { key: 'drift' }, { key: 'docker_via', header: 'DOCKER_VIA', wide: true }, { key: 'ip', wide: true }, { key: 'error' }] });
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
      ctx.info(`${plural(rep.servers.length, 'server')}: ${ok} ok, ${rep.drifted} drifted, ${rep.failed} failed`);
      if (rep.failed || rep.drifted) throw new ExitSignal(3);
    },
  });
}
