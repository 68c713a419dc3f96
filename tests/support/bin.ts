// Run the built bin/sayclaw as a user would (end-to-end tests).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/sayclaw', import.meta.url));

export interface BinResult { code: number; stdout: string; stderr: string }

export function runBin(argv: string[], env: Record<string, string | undefined>, input?: string,
  node = process.env.SAYCLAW_TEST_NODE ?? process.execPath): Promise<BinResult> {
  return spawnBin(argv, env, { input, node });
}

export interface SpawnOptions {
  input?: string;
  node?: string;
  /** run as this account (uid:gid) through setpriv, e.g. nobody: 65534 */
  as?: { uid: number; gid: number };
  /** a command put in front, e.g. ['timeout', '--preserve-status', '1'] */
  wrap?: string[];
  /** a hung run is killed (SIGKILL) after this long and reported as code -1 (default 30 s) */
  killAfterMs?: number;
  /** called once the process runs (e.g. to signal it later) */
  onSpawn?: (pid: number) => void;
}

/** The built binary with more control: another account, a wrapper like timeout(1), a hang limit. */
export function spawnBin(argv: string[], env: Record<string, string | undefined>, o: SpawnOptions = {}): Promise<BinResult> {
  const node = o.node ?? process.env.SAYCLAW_TEST_NODE ?? process.execPath;
  let cmd = [node, BIN, ...argv];
  if (o.wrap) cmd = [...o.wrap, ...cmd];
  if (o.as) cmd = ['setpriv', `--reuid=${o.as.uid}`, `--regid=${o.as.gid}`, '--clear-groups', ...cmd];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const timer = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, o.killAfterMs ?? 30000);
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('spawn', () => o.onSpawn?.(child.pid!));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: hung ? -1 : code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}
