// The process entry: real streams, SIGINT handling, and the only process.exit.
// Bundled as CommonJS (dist/main.cjs, so bin/sayclaw can keep V8's code cache for it): no top-level await.
import { runCli } from '../commands/index.js';

const controller = new AbortController();
let interrupted = false;
const onSigint = () => {
  if (interrupted) process.exit(130); // second Ctrl-C: leave now
  interrupted = true;
  controller.abort(new Error('interrupted'));
  process.stderr.write('\ninterrupted; cleaning up (Ctrl-C again to force)\n');
};
process.on('SIGINT', onSigint);
process.on('SIGTERM', onSigint);
// A closed pipe (sayclaw ... | head) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); });

async function main(): Promise<void> {
  const code = await runCli(process.argv.slice(2), {
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      stdoutIsTTY: !!process.stdout.isTTY,
      stdinIsTTY: !!process.stdin.isTTY,
      stderrIsTTY: !!process.stderr.isTTY,
      env: process.env,
      cwd: process.cwd(),
    },
    signal: controller.signal,
  });
  const finalCode = interrupted ? 130 : code;
  // Let stdout drain before leaving (large -o json to a pipe).
  if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => process.exit(finalCode));
  else process.exit(finalCode);
}
void main();
