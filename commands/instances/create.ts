// sayclaw instances create: a new instance from a template, end to end (plan, container,
// readiness gate, one transaction); --count N in parallel. Logic in src/fleet/instances/create.ts.
import type { Command } from 'commander';
import { intArg, verb, writeFlags } from '../kit.js';
import { ExitCode, ExitSignal, InterruptedError, UsageError } from '../../src/errors.js';
import type { Context } from '../../src/context.js';
import { escapeMessage } from '../../src/output/escape.js';
import { plural } from '../../src/output/format.js';
import type { CreateResult, PlannedInstance } from '../../src/fleet/instances/create.js';

interface CreateOpts {
  template?: string; server?: string; region?: string; user?: string; prefix?: string; count?: number; wait?: string;
  parallel?: number; reason?: string; dryRun?: boolean; yes?: boolean;
}

/** --wait D: seconds, or 120s / 3m (shared with recommission). */
export function waitMs(v: string | undefined): number {
  if (v === undefined) return 120_000;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+)\s*(s|m)$/.exec(v.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`--wait expects a duration like 120s or 3m, got "${v}"`);
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
}

const RESULT_COLUMNS = [
  { key: 'id' }, { key: 'server_name', header: 'SERVER' }, { key: 'gateway_port', header: 'PORT' }, { key: 'result' }, { key: 'step' },
  { key: 'error' }, { key: 'gateway_url', header: 'GATEWAY URL', wide: true }, { key: 'container_id', header: 'CONTAINER', wide: true }, { key: 'ms', wide: true },
];

async function run(ctx: Context, o: CreateOpts, args: string[]): Promise<void> {
  if (!o.template) throw new UsageError('--template is required', { hint: 'list them with: sayclaw templates ls' });
  if (args.length > 1) throw new UsageError('give one instance id (or --prefix P --count N)');
  const wait = waitMs(o.wait);
  const count = o.count ?? 1;
  const c = await import('../../src/fleet/instances/create.js');
  const { openLifecycleRemote } = await import('../../src/fleet/instances/lifecycle-remote.js');
  const { previewAndConfirm } = await import('../../src/plan.js');
  const { renderList } = await import('../../src/output/render.js');
  const { db } = await ctx.mysql();
  const remote = await openLifecycleRemote(ctx);
  const cfg = ctx.config();
  const plan = await c.planCreate(db, remote, { id: args[0], template: o.template, server: o.server, region: o.region, user: o.user, prefix: o.prefix, count }, cfg.gateway.oneApiBaseUrl);
  const tpl = plan.template;
  const preview = plan.items.map((i) => ({
    id: i.id, server_name: i.server_name, port: i.port_hint === null ? 'none free' : `${i.port_hint} (checked again at create)`,
    alive_on_server: i.alive_on_server, free_mem_mb: i.free_mem_mb, template: tpl.name, image: tpl.image, model: tpl.model, quota: tpl.quota,
    memory_mb: tpl.memory_mb, user: plan.user?.email ?? null,
  }));
  const previewCols = ['id', 'server_name', 'port', 'alive_on_server', 'free_mem_mb', 'template', 'image', 'model', 'quota', 'memory_mb', 'user']
    .map((key) => ({ key, header: key === 'server_name' ? 'SERVER' : key === 'alive_on_server' ? 'INSTANCES' : undefined }));
  const noun = count === 1 ? 'instance' : 'instances';
  if (o.dryRun || count > 1) {
    // --count asks like every bulk write; one create takes nothing away and goes ahead after the plan
    if (!await previewAndConfirm(ctx, { verb: 'create', noun, ids: plan.items.map((i) => i.id), yes: o.yes, dryRun: o.dryRun }, { rows: preview, columns: previewCols })) return;
  } else {
    const i = plan.items[0]!;
    ctx.info(`will create ${i.id} on ${i.server_name} from template ${tpl.name} (${tpl.image}), port ${i.port_hint ?? '?'}${plan.user ? `, for ${plan.user.email}` : ''}`);
  }

  // a progress line on a terminal: what each gateway is waiting for
  const tty = ctx.io.stderrIsTTY && !ctx.opts.quiet;
  const waiting = new Map<string, string>();
  const draw = () => {
    if (!tty) return;
    const line = [...waiting.entries()].map(([id, s]) => `${id}: ${s}`).join(' | ');
    ctx.io.stderr.write(`\r\x1b[K${escapeMessage(line ? `waiting for ready: ${line}` : '').slice(0, 160)}`);
  };
  const deps = {
    db, remote, actor: ctx.who(), adminDb: cfg.mysql.databases.admin, signal: ctx.signal, waitMs: wait, reason: o.reason ?? null,
    onWait: (id: string, h: { state: string; reason: string | null }, ms: number) => {
      waiting.set(id, `${h.state === 'healthy' ? 'ready' : h.reason ?? h.state} ${Math.round(ms / 1000)}s`);
      draw();
    },
  };
  const parallel = Math.max(1, Math.min(o.parallel ?? 4, count));
  const { fanOut } = await import('../../src/remote/fanout.js');
  const results: CreateResult[] = [];
  let firstError: unknown = null;
  const outcomes = await fanOut(plan.items, { concurrency: parallel }, async (item: PlannedInstance) => {
    if (ctx.signal.aborted) throw new InterruptedError();
    try { return await c.createInstance(deps, plan, item); } finally { waiting.delete(item.id); draw(); }
  });
  if (tty) ctx.io.stderr.write('\r\x1b[K');
  for (const out of outcomes) {
    if (out.ok) results.push(out.value);
    else {
      firstError ??= out.error;
      results.push(c.failedRow(out.item, out.error, out.ms));
    }
  }
  if (count === 1 && firstError) throw firstError;
  await renderList(ctx.out, results, { format: ctx.outputFormat, columns: RESULT_COLUMNS, nameKey: 'id' });
  const made = results.filter((r) => r.result === 'created');
  const failed = results.length - made.length;
  ctx.info(`created ${plural(made.length, 'instance')}${failed ? `, ${failed} failed (undone: nothing of them committed)` : ''}`);
  if (made.length) ctx.info(`undo: sayclaw instances decommission ${made.map((r) => r.id).join(' ')}`);
  if (ctx.signal.aborted) throw new InterruptedError();
  if (failed) throw new ExitSignal(ExitCode.PARTIAL, `${plural(failed, 'instance')} of ${results.length} failed`);
}

export function registerCreate(g: Command): void {
  verb<CreateOpts>(g, {
    name: 'create', args: '[id]',
    summary: 'create instances from a template: container, readiness gate, then one transaction (undone on any failure)',
    examples: [
      'sayclaw instances create oc-ai-jp-2-12 --template standard --region jp-2 --user li.na@sayclaw.test',
      'sayclaw instances create --prefix oc-ai-jp-2- --count 3 --template standard --server jp-2-srv-01 --yes',
      'sayclaw instances create --prefix oc-ai-jp-2- --template standard --region jp-2 --dry-run',
    ],
    options: (cmd) => writeFlags(cmd.option('--template <NAME>', 'the template (sayclaw templates ls)')
      .option('--server <S>', 'on this server (name, IP or id)')
      .option('--region <R>', 'on the alive active server of this region with the fewest instances per GB')
      .option('--user <EMAIL>', 'assign the new instance to this portal user')
      .option('--prefix <P>', 'number the ids after the highest under P (two digits: 01, ..., 10 and up)')
      .option('--count <N>', 'how many (with --prefix; in parallel)', intArg(1, 100))
      .option('--parallel <N>', 'instances created at once (default 4)', intArg(1, 32))
      .option('--wait <D>', 'how long the gateway may take to be ready (default 120s)')
      .option('--reason <TEXT>', 'why (recorded in the audit log)'), 'tty', 'print the plan and stop'),
    run,
  });
}
