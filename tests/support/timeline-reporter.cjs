// With SAYCLAW_TEST_TIMELINE=1 (set by .ci/run): one line per test file as it starts and ends,
// with the seconds since the run began, the machine's load and this pass's name, so a slow CI
// run shows what ran beside what. (CommonJS: jest loads reporters with require.)
const { loadavg } = require('node:os');

const t0 = Date.now();
const pass = `node${process.versions.node.split('.')[0]}`;
const rel = (p) => p.replace(/^.*?[/\\]tests[/\\]/, 'tests/');
const line = (what) => process.stderr.write(`timeline ${pass} +${Math.round((Date.now() - t0) / 1000)}s load ${loadavg()[0].toFixed(1)} ${what}\n`);

class TimelineReporter {
  onTestFileStart(test) { line(`start ${rel(test.path)}`); }
  onTestFileResult(test, result) {
    const s = ((result.perfStats.end - result.perfStats.start) / 1000).toFixed(0);
    line(`end ${rel(test.path)} ${result.numFailingTests ? 'FAIL' : 'ok'} ${s}s`);
  }
}

module.exports = TimelineReporter;
