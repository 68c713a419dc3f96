// Startup: `sayclaw --version` and `sayclaw --help` against bare `node -e 0`, alternating runs.
import { fileURLToPath } from 'node:url';
import { compare, timeOnce } from './lib.mjs';

const bin = fileURLToPath(new URL('../bin/sayclaw', import.meta.url));
const node = process.execPath;
const runs = Number(process.env.BENCH_RUNS ?? 21);
console.log(`startup (${runs} runs each, medians; node ${process.version})`);
compare('sayclaw --version vs node -e 0', () => timeOnce(node, [bin, '--version']), () => timeOnce(node, ['-e', '0']), { runs });
compare('sayclaw --help vs node -e 0', () => timeOnce(node, [bin, '--help']), () => timeOnce(node, ['-e', '0']), { runs });
