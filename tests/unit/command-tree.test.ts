// A run names its group (`sayclaw instances ls`): only that subtree is built (commands/index.ts
// groupOf). What a user sees must not depend on it: every command's help is the same text as in
// the whole tree, and commander's errors and suggestions are the same.
import type { Command } from 'commander';
import { buildProgram, groupOf } from '../../commands/index.js';
import { runIn } from '../support/testenv.js';

test('groupOf: the first word that is not a root option, when it names a group and every word before it is known', () => {
  expect(groupOf(['instances', 'ls', '--prefix', 'oc-ai-jp-2-'])).toBe('instances');
  expect(groupOf(['-o', 'json', 'servers', 'check', '--all'])).toBe('servers');
  expect(groupOf(['--output=json', '--profile', 'prod', '-q', '--debug', 'usage', 'export'])).toBe('usage');
  expect(groupOf(['--set', 'mysql.port=3307', '--no-color', 'doctor'])).toBe('doctor');
  // the whole tree: no group, help and completion walk it, typos get commander's suggestions
  for (const argv of [[], ['--help'], ['-h'], ['-V'], ['help', 'instances', 'rm'], ['completion', 'bash'], ['instancs', 'ls'],
    // an option sayclaw does not know at the root, a cluster of short flags, `--`: left to commander
    ['--bogus', 'instances', 'ls'], ['-qo', 'json', 'instances', 'ls'], ['--', 'instances'], ['toString'], ['constructor']]) {
    expect({ argv, group: groupOf(argv) }).toEqual({ argv, group: null });
  }
  // a profile called like a group is the option's value, not the group
  expect(groupOf(['--profile', 'instances', 'servers', 'ls'])).toBe('servers');
});

/** every command path under `c` with its help text */
function helps(c: Command, path: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (x: Command, p: string[]) => {
    out.set(p.join(' '), x.helpInformation());
    for (const s of x.commands) walk(s, [...p, s.name()]);
  };
  for (const s of c.commands) walk(s, [...path, s.name()]);
  return out;
}

test('every group built alone has the same commands and the same help, command by command, as in the whole tree', () => {
  const whole = helps(buildProgram());
  const groups = buildProgram().commands.map((c) => c.name()).filter((n) => groupOf([n]) !== null);
  expect(groups.length).toBeGreaterThanOrEqual(12);
  let compared = 0;
  for (const g of groups) {
    const alone = buildProgram([g, 'x']);
    expect(alone.commands.map((c) => c.name())).toEqual([g]);
    const mine = helps(alone);
    const theirs = new Map([...whole].filter(([k]) => k === g || k.startsWith(`${g} `)));
    expect([...mine.keys()]).toEqual([...theirs.keys()]);
    for (const [k, v] of mine) { expect({ k, help: v }).toEqual({ k, help: theirs.get(k) }); compared++; }
  }
  expect(compared).toBeGreaterThan(60);
});

test('errors inside a group read as before: a misspelt verb gets its suggestion, an unknown option its line, exit 2', async () => {
  let r = await runIn(['instances', 'lss'], {});
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown command 'lss'/);
  expect(r.stderr).toMatch(/Did you mean ls\?/);
  r = await runIn(['-o', 'json', 'servers', 'check', '--bogus'], {});
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown option '--bogus'/);
  // a group run without a verb prints the group's help, as before
  r = await runIn(['users'], {});
  expect(r.code).toBe(2);
  expect(r.stderr + r.stdout).toContain(buildProgram().commands.find((c) => c.name() === 'users')!.helpInformation().split('\n')[0]!);
});
