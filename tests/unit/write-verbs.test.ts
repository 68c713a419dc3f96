// Every write verb takes -n/--dry-run and -y/--yes, walked from the command tree itself: a new
// verb must either take both or be named below as one that changes nothing (or, for a reason
// given here, has no plan to preview).
import { buildProgram } from '../../commands/index.js';

/** Verbs that change nothing. */
const READ_ONLY = new Set([
  'instances ls', 'instances show', 'instances check-bindings', 'instances logs', 'instances history',
  'servers ls', 'servers show', 'servers check', 'servers inventory', 'servers history',
  'users ls', 'users show', 'users admins ls', 'users history', 'audit ls', 'audit show', 'jobs ls',
  'keys ls', 'keys verify', 'keys oc ls', 'keys oneapi ls',
  'usage summary', 'usage quota', 'templates ls', 'templates show',
  'doctor', 'schema diff', 'schema print', 'config show', 'config validate', 'completion', 'help',
]);

/** Verbs that act but have no change of their own to preview or confirm, and why. */
const NO_PLAN: Record<string, string> = {
  'instances exec': 'runs the operator\'s own command in one container; sayclaw cannot know what it changes',
  'servers exec': 'runs the operator\'s own command on servers; sayclaw cannot know what it changes',
  'instances health': 'probes; --record only stores the probe result',
  'keys reveal': 'prints a secret (audited); it changes no row, and asks unless --yes',
  'usage export': 'writes a report file or stdout, no database row',
  'jobs check': 'a check; --out writes a Prometheus textfile, no database row',
  'top': 'a live view; its one write, r (restart), asks for the id on the screen every time and is audited like instances restart',
};

function verbs(): Array<{ path: string; flags: Map<string, string | undefined> }> {
  const out: Array<{ path: string; flags: Map<string, string | undefined> }> = [];
  const walk = (c: ReturnType<typeof buildProgram>, path: string[]) => {
    for (const sub of c.commands) {
      if (sub.commands.length) { walk(sub, [...path, sub.name()]); continue; }
      out.push({ path: [...path, sub.name()].join(' '), flags: new Map(sub.options.map((o) => [o.long ?? '', o.short])) });
    }
  };
  walk(buildProgram(), []);
  return out;
}

test('every write verb takes -n/--dry-run and -y/--yes', () => {
  const all = verbs();
  expect(all.length).toBeGreaterThan(50);
  const writes = all.filter((v) => !READ_ONLY.has(v.path) && !(v.path in NO_PLAN));
  const missing = writes.filter((v) => v.flags.get('--dry-run') !== '-n' || v.flags.get('--yes') !== '-y').map((v) => v.path);
  expect(missing).toEqual([]);
  // the lists above name real verbs (a renamed verb must not hide here)
  const names = new Set(all.map((v) => v.path));
  expect([...READ_ONLY, ...Object.keys(NO_PLAN)].filter((p) => !names.has(p))).toEqual([]);
  // the ones the report named
  for (const p of ['users restore', 'users add', 'users quota', 'users admins enable', 'users admins add', 'users admins passwd',
    'servers add', 'servers update', 'keys add', 'usage rollup', 'schema init', 'templates add', 'templates rm', 'instances create']) expect(writes.map((v) => v.path)).toContain(p);
});

test('read-only verbs do not pretend: no --yes where nothing is asked or changed', () => {
  const ro = verbs().filter((v) => READ_ONLY.has(v.path) && v.flags.has('--yes')).map((v) => v.path);
  expect(ro).toEqual([]);
});

test('bulk writes take --max (the guards of src/plan.ts)', () => {
  const bulk = ['instances rm', 'instances restore', 'instances decommission', 'instances recommission', 'instances restart', 'instances stop', 'instances start', 'servers rm', 'servers restore'];
  const byPath = new Map(verbs().map((v) => [v.path, v.flags]));
  expect(bulk.filter((p) => !byPath.get(p)?.has('--max'))).toEqual([]);
});
