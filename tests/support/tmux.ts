// A real terminal for prompt tests: a private tmux server (its own socket) running a bare shell,
// driven with send-keys and read with capture-pane, so a prompt is seen exactly as an operator
// sees it (echo, redraws, the final tick or cross). tmux comes from `bash scripts/lab.sh install`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Terminal {
  /** Type text (literally) and, unless enter is false, press Enter. */
  type(text: string, enter?: boolean): void;
  /** Press keys by tmux name (Tab, Escape, Down, C-c, ...), not literally. */
  keys(...names: string[]): void;
  /** A tmux format about the pane, e.g. '#{alternate_on}' or '#{cursor_flag}'. */
  display(format: string): string;
  /** Resize the window (the program gets SIGWINCH). */
  resize(width: number, height: number): void;
  /** The pid of the pane's shell. */
  shellPid(): number;
  /** What the screen shows now with its colour and attribute sequences (capture-pane -e). */
  styled(): string;
  /** Only what the screen shows now (no scrollback), without colours. */
  visible(): string;
  /** The visible screen and its scrollback, without colours. */
  screen(): string;
  /** Wait until the screen matches (or fail with what it shows). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Start a shell command line; exit() waits for its exit code (printed by the shell after it). */
  start(line: string): { exit(timeoutMs?: number): Promise<number> };
  close(): void;
}

export function openTerminal(env: Record<string, string>, opts: { cwd?: string; width?: number; height?: number } = {}): Terminal {
  if (spawnSync('tmux', ['-V']).status !== 0) {
    throw new Error('tmux is not installed; install the lab packages: bash scripts/lab.sh install');
  }
  const sock = `sayclaw-test-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
  const envArgs = Object.entries({ TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env }).map(([k, v]) => `${k}=${v}`);
  // env -i: the shell sees only what the test gives it; PS1 empty keeps the screen to the program's output
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 't', '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 50),
    ...(opts.cwd ? ['-c', opts.cwd] : []), 'env', '-i', ...envArgs, 'PS1=', 'bash', '--norc', '--noprofile');
  tmux('set-option', '-t', 't', 'history-limit', '5000');
  let runs = 0;
  const term: Terminal = {
    type(text, enter = true) {
      tmux('send-keys', '-t', 't', '-l', text);
      if (enter) tmux('send-keys', '-t', 't', 'Enter');
    },
    keys(...names) {
      tmux('send-keys', '-t', 't', ...names);
    },
    display(format) {
      return tmux('display-message', '-p', '-t', 't', format).trim();
    },
    resize(width, height) {
      tmux('resize-window', '-t', 't', '-x', String(width), '-y', String(height));
    },
    shellPid() {
      return Number(tmux('display-message', '-p', '-t', 't', '#{pane_pid}').trim());
    },
    styled() {
      return tmux('capture-pane', '-p', '-e', '-t', 't');
    },
    visible() {
      return tmux('capture-pane', '-p', '-t', 't').replace(/\s+$/, '');
    },
    screen() {
      return tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', 't').replace(/\s+$/, '');
    },
    async waitFor(re, timeoutMs = 20000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = term.screen();
        if (re.test(s)) return s;
        if (Date.now() > end) throw new Error(`terminal never showed ${re}; it shows:\n${s}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    start(line) {
      const n = ++runs;
      term.type(`${line}; echo "[exit-${n}=$?]"`);
      const done = new RegExp(`^\\[exit-${n}=(\\d+)\\]$`, 'm');
      return { exit: async (timeoutMs) => Number(done.exec(await term.waitFor(done, timeoutMs))![1]) };
    },
    close() {
      try { tmux('kill-server'); } catch { /* already gone */ }
    },
  };
  return term;
}
