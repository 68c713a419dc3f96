// Jest's own order (failed first, then slowest first by its cache, then largest), with the
// files that start real OpenClaw gateways moved to the front (the default: npm test) or, with
// SAYCLAW_TEST_HEAVY=last, to the back (scripts/node24-test.sh, which CI runs beside npm test).
// A real gateway needs ~10 s of CPU to start and gives up when starved (its 5 s state-lease
// heartbeat): two passes side by side should not start theirs at the same time.
// (CommonJS: jest loads it with require.)
const Sequencer = require('@jest/test-sequencer').default;

const HEAVY = /[/\\](upgrade|lifecycle|top-tty|gateway-health|lab-up)\.test\.ts$/;

class LabSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const heavy = sorted.filter((t) => HEAVY.test(t.path));
    const light = sorted.filter((t) => !HEAVY.test(t.path));
    return process.env.SAYCLAW_TEST_HEAVY === 'last' ? [...light, ...heavy] : [...heavy, ...light];
  }
}

module.exports = LabSequencer;
