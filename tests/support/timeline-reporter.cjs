// With SAYCLAW_TEST_TIMELINE=1 (set by .ci/run): one line per test file as it starts and ends,
// with the seconds since the run began, the machine's load and this pass's name, so a slow CI
// run shows what ran beside what, and the machine's CPU seconds (all processes, from
// /proc/stat) while the file ran: with --runInBand that is what the file costs, databases,
// engines and containers included. (CommonJS: jest loads reporters with require.)
const { loadavg } = require('node:os');
const { readFileSync } = require('node:fs');

/** busy CPU seconds of the whole machine so far (user+nice+system+irq+softirq), or NaN */
const machineCpu = () => {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / 100;
  } catch { return NaN; }
};
const cpuAtStart = new Map();

const t0 = Date.now();
const pass = `node${process.versions.node.split('.')[0]}`;
const rel = (p) => p.replace(/^.*?[/\\]tests[/\\]/, 'tests/');
const line = (what) => process.stderr.write(`timeline ${pass} +${Math.round((Date.now() - t0) / 1000)}s load ${loadavg()[0].toFixed(1)} ${what}\n`);

class TimelineReporter {
  onTestFileStart(test) { cpuAtStart.set(test.path, machineCpu()); line(`start ${rel(test.path)}`); }
  onTestFileResult(test, result) {
    const s = ((result.perfStats.end - result.perfStats.start) / 1000).toFixed(0);
    const cpu = (machineCpu() - (cpuAtStart.get(test.path) ?? NaN)).toFixed(0);
    line(`end ${rel(test.path)} ${result.numFailingTests ? 'FAIL' : 'ok'} ${s}s cpu ${cpu}s`);
  }
}

module.exports = TimelineReporter;
