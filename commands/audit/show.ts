// sayclaw audit show ID
import type { Command } from 'commander';
import { verb } from '../kit.js';

export function registerAuditShow(g: Command): void {
  verb(g, {
    name: 'show',
    args: '<id>',
    summary: 'one audit row with its before/after as a diff (the id, or a unique start of it)',
    examples: ['sayclaw audit show 3f0c9a1e-5b2d-4c1a-9e7f-0a1b2c3d4e5f', 'sayclaw audit ls --target oc-ai-jp-2-07 -o name | head -1 | xargs sayclaw audit show'],
    run: async (ctx, _o, args) => {
      const [{ showAudit, actorOf }, { renderObject }, { toCell }, { escapeControl }, { db }] = await Promise.all([
        import('../../src/fleet/audit/show.js'), import('../../src/output/render.js'), import('../../src/output/format.js'),
        import('../../src/output/escape.js'), ctx.mysql()]);
      const d = await showAudit(db, args[0]!);
      const paint = (code: number, off: number) => (s: string) => (ctx.color ? `\x1b[${code}m${s}\x1b[${off}m` : s);
      const [red, green, dim] = [paint(31, 39), paint(32, 39), paint(2, 22)];
      const diff = d.changes.map((c) => {
        // escaped here, before the colour codes go around it
        const v = (x: unknown) => escapeControl(x === null ? 'null' : toCell(x));
        const field = escapeControl(c.field);
        if (!c.changed) return dim(`  ${field}: ${v(c.before)}`);
        const lines: string[] = [];
        if (d.before !== null) lines.push(red(`- ${field}: ${v(c.before)}`));
        if (d.after !== null) lines.push(green(`+ ${field}: ${v(c.after)}`));
        return lines.join('\n');
      }).join('\n');
      const { before, after, changes, ...row } = d;
      const table = ctx.outputFormat === 'table' || ctx.outputFormat === 'wide';
      if (table && d.run_id && (d.run_rows ?? 0) > 1) ctx.info(`its run wrote ${d.run_rows} audit rows: sayclaw audit ls --run ${d.run_id}`);
      await renderObject(ctx.out, { ...row, before, after, changes }, {
        format: ctx.outputFormat,
        sections: [
          { title: 'Audit row', data: { ...row, actor: actorOf(d) } },
          { title: 'Change (- before, + after)', data: {}, text: diff || '(nothing recorded)', textIsSafe: true },
        ],
      });
    },
  });
}
