// sayclaw doctor: config, connections, versions, charset, time zone, schema drift.
import type { Command } from 'commander';
import { verb } from './kit.js';
import { ExitSignal } from '../src/errors.js';

export function registerDoctor(program: Command): void {
  verb(program, {
    name: 'doctor',
    summary: 'check config, database connections, charset, time zone and schema drift',
    examples: ['sayclaw doctor', 'sayclaw doctor -o json'],
    run: async (ctx) => {
      const { runDoctor } = await import('../src/fleet/doctor.js');
      const { renderList, renderObject } = await import('../src/output/render.js');
      const rep = await runDoctor(ctx);
      const f = ctx.outputFormat;
      if (f === 'table' || f === 'wide') {
        await renderList(ctx.out, rep.checks, { format: f, columns: [
          { key: 'check' }, { key: 'status', color: (v, t) => `\x1b[${v === 'ok' ? 32 : v === 'warn' ? 33 : 31}m${t}\x1b[39m` }, { key: 'detail' }] });
        // notes (extra columns, One API columns sayclaw does not read) only in -o wide
        const problems = rep.drift.filter((d) => d.failing || f === 'wide');
        if (problems.length) {
          ctx.print('\nSchema drift:\n');
          await renderList(ctx.out, problems, { format: f, columns: [
            { key: 'database' }, { key: 'table' }, { key: 'column' }, { key: 'kind' }, { key: 'expected' }, { key: 'actual' }] });
        }
      } else {
        await renderObject(ctx.out, { healthy: !rep.unreachable && !rep.drifted, checks: rep.checks, drift: rep.drift }, { format: f, sections: [] });
      }
      if (rep.unreachable) throw new ExitSignal(5, 'a database cannot be reached');
      if (rep.drifted) throw new ExitSignal(1, 'the live schema drifts from the expected schema (see above)');
    },
  });
}
