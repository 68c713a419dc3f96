// Jest's own order (failed first, then slowest first by its cache, then largest), with the
// files that start real OpenClaw gateways moved to the front (the default: npm test) or, with
// SAYCLAW_TEST_HEAVY=middle, after the first half of the others (scripts/node24-test.sh, which
// CI runs beside npm test). A real gateway needs ~16 s of CPU to start and gives up when starved
// (its 5 s state-lease heartbeat): those files take a machine-wide lock (realGatewayLock in
// lab.ts), so only one runs at a time across workers and passes. They are the critical path:
// while npm test runs its own, the Node 24 pass runs light files; when npm test's are done (about
// when half of the Node 24 pass's light files are), the Node 24 pass's take the lock, and the
// rest of both passes' light files run beside them. (At the back, as before, they started only
// after all of that pass's light files, minutes after the lock was free: measured in CI.)
// (CommonJS: jest loads it with require.)
const Sequencer = require('@jest/test-sequencer').default;

const HEAVY = /[/\\](upgrade|lifecycle|top-tty|gateway-health|lab-up)\.test\.ts$/;

class LabSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const heavy = sorted.filter((t) => HEAVY.test(t.path));
    const light = sorted.filter((t) => !HEAVY.test(t.path));
    const mode = process.env.SAYCLAW_TEST_HEAVY;
    if (mode === 'middle') {
      const half = Math.ceil(light.length / 2);
      return [...light.slice(0, half), ...heavy, ...light.slice(half)];
    }
    return mode === 'last' ? [...light, ...heavy] : [...heavy, ...light];
  }
}

module.exports = LabSequencer;
