// sayclaw servers exec: one command on many servers at once, output prefixed by server.
import type { Command } from 'commander';
import { verb, splitAtDoubleDash } from '../kit.js';
import { ExitSignal, InterruptedError, UsageError } from '../../src/errors.js';
import { progressFor, selectServers, type SelOpts } from './shared.js';
import { plural } from '../../src/output/format.js';
import { escapeMessage } from '../../src/output/escape.js';

interface ExecOpts extends SelOpts { group?: boolean; timeout?: string; commandArgv?: string[] }

export function registerServersExec(g: Command): void {
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
      const { openRemote } = await import('../../src/fleet/servers/remote.js');
      const { execOnServers, shellJoin } = await import('../../src/fleet/servers/exec.js');
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
        for (const r of rows) if (r.status !== 'ok') ctx.io.stderr.write(`${escapeMessage(`${(r.server_name).padEnd(width)} ! ${r.status}: ${r.error}`)}\n`);
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
      ctx.info(`${plural(rows.length, 'server')}: ${rows.length - bad.length} ok, ${bad.length} failed`
        + `${codes.length ? `; non-zero exit: ${codes.join(', ')}` : ''}${unreach.length ? `; no exit code: ${unreach.join(', ')}` : ''}`);
      if (bad.length) throw new ExitSignal(3);
    },
  });
}
