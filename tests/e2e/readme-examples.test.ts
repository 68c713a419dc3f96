// Every README example the demo fleet supports, run as written (through bash, the built binary
// as `sayclaw` on PATH) against databases loaded with the demo fleet (scripts/demo-fleet.ts), in
// README order: the ```sh blocks' lines that start with `sayclaw`. The ones that need servers
// over SSH, a terminal to answer a prompt, or paths outside the test are listed below with why.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BIN } from '../support/bin.js';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { loadDemoFleet } from '../../scripts/demo-fleet.js';
import { tempDir } from '../support/tmp.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The `sayclaw ...` lines of the ```sh blocks, continuation lines joined, comments dropped. */
function examples(md: string): string[] {
  const out: string[] = [];
  for (const [, body] of md.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of body!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw.replace(/\s+#(?![^"]*"[^"]*$).*$/, '').trim();
      if (line.startsWith('sayclaw ')) out.push(line.replace(/\s+/g, ' '));
    }
  }
  return out;
}

const SSH = 'reaches servers over SSH and Docker (the lab: tests/integration/servers.test.ts, containers.test.ts)';
const PROMPT = 'asks on a terminal (tests/e2e/prompts-tty.test.ts drives prompts in tmux)';
const KEY_ID = 'names a master key by a placeholder id prefix (3f0c9a1e); the keys suite runs these verbs';
/** README examples not run here, and why. */
const UPGRADE = 'swaps containers over SSH and waits for real gateways (the lab: tests/e2e/upgrade.test.ts)';
const RECONCILE = 'starts and stops containers over SSH (the lab: tests/e2e/reconcile.test.ts)';
const SKIPPED: Record<string, string> = {
  'sayclaw instances upgrade --prefix oc-ai-jp-2- --image ghcr.io/openclaw/openclaw:2026.9.6 --dry-run': SSH,
  'sayclaw instances upgrade --prefix oc-ai-jp-2- --image ghcr.io/openclaw/openclaw:2026.9.6 --batch 4 --yes -o json': UPGRADE,
  'sayclaw instances upgrade oc-ai-jp-2-01 --image ghcr.io/openclaw/openclaw:2026.9.6 --pull --health-timeout 3m': UPGRADE,
  'sayclaw instances rollback oc-ai-jp-2-01': UPGRADE,
  'sayclaw instances rollback --prune oc-ai-jp-2-01 oc-ai-jp-2-02 --yes': UPGRADE,
  'sayclaw servers reconcile --all --dry-run': RECONCILE,
  'sayclaw servers reconcile jp-2-srv-01 --yes --reason "after the outage"': RECONCILE,
  'sayclaw servers reconcile --region jp-2 -o json --yes': RECONCILE,
  'sayclaw instances rm oc-ai-jp-2-07 --reason "left the company"': PROMPT,
  'sayclaw instances restore oc-ai-jp-2-07': PROMPT,
  'sayclaw servers check --all': SSH,
  'sayclaw servers check jp-2-srv-01 jp-2-srv-02 -o json': SSH,
  'sayclaw servers exec --all -- uptime': SSH,
  'sayclaw servers exec --region jp-2 --group -- \'docker ps --format "{{.Names}}"\'': SSH,
  'sayclaw servers exec jp-2-srv-01 --timeout 10 -o json -- df -h /': SSH,
  'sayclaw instances logs oc-ai-jp-2-01 --tail 100 --since 10m': SSH,
  'sayclaw instances logs oc-ai-jp-2-01 -f': SSH,
  'sayclaw instances restart oc-ai-jp-2-01': SSH,
  'sayclaw instances restart --prefix oc-ai-jp-2- --yes --reason "config rollout"': SSH,
  'sayclaw instances stop oc-ai-jp-2-03 --time 5 && sayclaw instances start oc-ai-jp-2-03': SSH,
  'sayclaw instances exec oc-ai-jp-2-01 -- cat /home/node/.openclaw/openclaw.json': SSH,
  'sayclaw instances health --all': 'probes the gateways at their gateway_url (the demo runs none; containers.test.ts probes real ones)',
  'sayclaw instances health --prefix oc-ai-jp-2- --via ssh --record': SSH,
  'sayclaw instances health oc-ai-jp-2-01 --set gateway.caFile=/etc/sayclaw/gateway-ca.pem': 'probes a gateway over https with a private CA file (tests/integration/gateway-health.test.ts)',
  'sayclaw users revoke li.na@sayclaw.test --reason "left the company"': PROMPT,
  'sayclaw users admins add --email oncall@sayclaw.test --name 运维值班 --role admin': PROMPT,
  'sayclaw users admins passwd ops@sayclaw.test': PROMPT,
  'sayclaw keys add --provider openai --name prod': PROMPT,
  'sayclaw keys verify --master-key-stdin < /media/usb/master.key': 'reads the master key from a USB stick path',
  'sayclaw keys rotate 3f0c9a1e': KEY_ID,
  'sayclaw keys revoke 3f0c9a1e --reason "leaked"': KEY_ID,
  'sayclaw keys reveal 3f0c9a1e': KEY_ID,
  'sayclaw keys reveal 3f0c9a1e --yes > /dev/shm/k': KEY_ID,
  'sayclaw instances create oc-ai-jp-2-12 --template standard --region jp-2 --user li.na@sayclaw.test': SSH,
  'sayclaw instances create --prefix oc-ai-jp-2- --count 3 --template standard --server jp-2-srv-01 --yes': SSH,
  'sayclaw instances create --prefix oc-ai-jp-2- --template standard --region jp-2 --dry-run': 'reads the free memory of the region\'s servers over SSH to plan (tests/e2e/lifecycle.test.ts)',
  'sayclaw instances decommission oc-ai-jp-2-07 --reason "left the company"': PROMPT,
  'sayclaw instances recommission oc-ai-jp-2-07 --yes': SSH,
  'sayclaw audit ls --run 05b97073-75df-49fc-b70e': 'names a run by a placeholder id (tests/integration/audit.test.ts lists the rows of a real run)',
  'sayclaw top': 'the live screen needs a terminal (tests/e2e/top-tty.test.ts drives it in tmux)',
  'sayclaw top --prefix oc-ai-jp-2- --interval 10s --remote-interval 1m': 'the live screen needs a terminal (tests/e2e/top-tty.test.ts drives it in tmux)',
  'sayclaw usage export --since today --format prometheus --out /var/lib/node_exporter/textfile/sayclaw_usage.prom': 'writes into node_exporter\'s textfile directory (the usage suite checks the file with promtool)',
};

/** Listings and timelines (not redirected, not quiet): their output must not be empty. */
const LISTING = /^sayclaw (?:[a-z]+ )+(?:ls|history)\b(?![^|]*(?:>|\s-q\b|--quiet))/;
/** Listings whose output may be empty on the demo fleet, and why. */
const EMPTY_OK: Record<string, string> = {
  // master keys are encrypted with the operator's own master key file, and keys add asks on a terminal (skipped above)
  'sayclaw keys ls': 'the demo holds no master keys (tests/integration/keys.test.ts lists real ones)',
  'sayclaw keys ls --all -o wide': 'the demo holds no master keys (tests/integration/keys.test.ts lists real ones)',
};

/** Examples whose documented outcome is not exit 0, and why. */
const EXIT: Record<string, number[]> = {
  // "exit 3 when any is over": the demo's users may or may not be over 80% today
  'sayclaw usage quota': [0, 3],
  'sayclaw usage quota --threshold 95% -o json': [0, 3],
  // "exit 3 when there are any": the region closed above (`instances rm --prefix oc-ai-sg-1-`) left its instances' keys active
  'sayclaw keys oc ls --problems -o json': [3],
};

let t: TestEnv;
let cwd: string;
let bin: string;
const all = examples(README);
const runnable = all.filter((l) => !(l in SKIPPED));

beforeAll(async () => {
  t = await createTestEnv();
  await loadDemoFleet(t.db, t.pg);
  cwd = tempDir('readme');
  bin = tempDir('readme-bin');
  writeFileSync(join(bin, 'sayclaw'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  // the README's keys block starts by making a master key and exporting its path; `new.key` is the one reencrypt moves to
  writeFileSync(join(cwd, 'master.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  writeFileSync(join(cwd, 'new.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
}, 120000);
afterAll(async () => { await t?.close(); });

test('the examples are found, and every skipped one is a README example with a reason', () => {
  expect(all.length).toBeGreaterThan(80);
  expect(Object.keys(SKIPPED).filter((l) => !all.includes(l))).toEqual([]);
  expect(Object.keys(EXIT).filter((l) => !all.includes(l))).toEqual([]);
  expect(Object.keys(EMPTY_OK).filter((l) => !all.includes(l))).toEqual([]);
  expect(runnable.length).toBeGreaterThan(60);
});

test.each(runnable.map((l, i) => [i + 1, l]))('README example %i: %s', (_i, line) => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', line as string], {
    cwd, encoding: 'utf8', timeout: 60000,
    env: { ...t.env, PATH: `${bin}:${t.env.PATH}`, SAYCLAW_MASTER_KEY_FILE: join(cwd, 'master.key'), NEW_PW: 'demo-password-1' },
  });
  const want = EXIT[line as string] ?? [0];
  expect({ line, code: r.status, stderr: want.includes(r.status ?? -1) ? '' : r.stderr }).toEqual({ line, code: want.includes(r.status ?? -1) ? r.status : want[0], stderr: '' });
  // a listing or a timeline shown in the README finds something in the demo fleet (the demo holds what the README shows)
  if (LISTING.test(line as string) && !(line as string in EMPTY_OK)) expect({ line, stdout: r.stdout.trim() !== '' }).toEqual({ line, stdout: true });
});

test('the master-key recipe works on a fresh machine (no ~/.config/sayclaw yet)', () => {
  const block = /```sh\n(mkdir -p ~\/\.config\/sayclaw[^\n]*)\nexport (SAYCLAW_MASTER_KEY_FILE=\S+)/.exec(README);
  expect(block).not.toBeNull();
  const home = tempDir('readme-home');
  {
    execFileSync('bash', ['-c', `${block![1]} && export ${block![2]} && sayclaw keys verify`], {
      env: { ...t.env, HOME: home, PATH: `${bin}:${t.env.PATH}` }, encoding: 'utf8' });
    const key = join(home, '.config', 'sayclaw', 'master.key');
    expect(existsSync(key)).toBe(true);
    expect(statSync(key).mode & 0o077).toBe(0);
    expect(readFileSync(key, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  }
});
