// The process entry: real streams, SIGINT handling, and the only process.exit.
// Bundled as CommonJS (dist/main.cjs, so bin/sayclaw can keep V8's code cache for it): no top-level await.
import { runCli } from '../commands/index.js';
import { isatty } from 'node:tty';

const controller = new AbortController();
let interrupted = false;
let firstSignalAt = 0;
const onSignal = () => {
  if (interrupted) {
    // timeout(1) sends its signal to the process and again to its process group: the two
    // arrive together. Only a second signal a moment later is someone insisting.
    if (Date.now() - firstSignalAt < 1000) return;
    process.stderr.write('forced exit\n');
    process.exit(130);
  }
  interrupted = true;
  firstSignalAt = Date.now();
  controller.abort(new Error('interrupted'));
  process.stderr.write('\ninterrupted; cleaning up (Ctrl-C again to force)\n');
};
// bin/sayclaw notes a signal that came while the bundle loaded (see there): taken over here.
// Ours are added before its are removed: a signal with no listener left would stop node's
// watcher and lose one still pending.
const early = (globalThis as Record<symbol, unknown>)[Symbol.for('sayclaw.earlySignal')] as { at: number; note: () => void } | undefined;
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
if (early) {
  process.off('SIGINT', early.note);
  process.off('SIGTERM', early.note);
}
if (early?.at) onSignal();
// A closed pipe (sayclaw ... | head) is not an error; any other write error is (exit 1).
let stdoutError: NodeJS.ErrnoException | null = null;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  stdoutError ??= err;
});

async function main(): Promise<void> {
  const code = await runCli(process.argv.slice(2), {
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      // process.stdin is built on first use (a stream, and the fs or net code behind it): only
      // the verbs that read stdin pay for it; whether it is a terminal is asked of fd 0 directly
      get stdin() { return process.stdin; },
      stdoutIsTTY: !!process.stdout.isTTY,
      stdinIsTTY: isatty(0),
      stderrIsTTY: !!process.stderr.isTTY,
      env: process.env,
      cwd: process.cwd(),
    },
    signal: controller.signal,
  });
  // a failed write to stdout reports itself on a later tick: let it, before choosing the exit code
  await new Promise((r) => setImmediate(r));
  let finalCode = interrupted ? 130 : code;
  if (stdoutError && finalCode === 0) {
    const e = stdoutError as NodeJS.ErrnoException;
    const why = (e.message ?? '').split('\n')[0]!.replace(/^[A-Z]+: /, '').replace(/, \w+$/, '');
    process.stderr.write(`error: cannot write stdout (${e.code ?? 'error'}): ${why}\n`);
    finalCode = 1;
  }
  // Let stdout drain before leaving (large -o json to a pipe).
  if (process.stdout.writableNeedDrain && !stdoutError) process.stdout.once('drain', () => process.exit(finalCode));
  else process.exit(finalCode);
}
void main();
