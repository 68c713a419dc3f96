// The thin terminal layer under `sayclaw top`: the alternate screen, a hidden cursor, raw
// keyboard input (node:readline's keypress parser), whole-frame redraws and resize events, over
// ansi-escapes (sindresorhus; ESM, no native code, Node >= 18; bundled into its own dist/vendor
// chunk, loaded only by top). restore() puts the terminal back exactly once, whatever ends the
// run (q, Ctrl-C, SIGTERM, an error): normal screen, cursor shown, raw mode off.
import { emitKeypressEvents } from 'node:readline';
import type { Readable } from 'node:stream';
import stringWidth from 'string-width';
import { escapeControl } from '../output/escape.js';

export interface Key { name?: string; ctrl?: boolean; meta?: boolean; shift?: boolean; sequence?: string }

export interface TtyOut {
  write(s: string): unknown;
  columns?: number;
  rows?: number;
  on?(e: 'resize', f: () => void): unknown;
  off?(e: 'resize', f: () => void): unknown;
}
type TtyIn = Readable & { setRawMode?(on: boolean): unknown; isRaw?: boolean };

export class Terminal {
  private restored = false;
  private started = false;
  private keyListener?: (s: string | undefined, k: Key | undefined) => void;
  private resizeListener?: () => void;
  private esc!: typeof import('ansi-escapes').default;

  constructor(private out: TtyOut, private input: TtyIn) {}

  get width(): number { return Math.max(20, this.out.columns ?? 80); }
  get height(): number { return Math.max(6, this.out.rows ?? 24); }

  async start(onKey: (s: string | undefined, k: Key) => void, onResize: () => void): Promise<void> {
    this.esc = (await import('ansi-escapes')).default;
    this.started = true;
    emitKeypressEvents(this.input);
    this.input.setRawMode?.(true);
    this.keyListener = (s, k) => onKey(s, k ?? { sequence: s });
    this.input.on('keypress', this.keyListener);
    this.input.resume();
    this.resizeListener = onResize;
    this.out.on?.('resize', onResize);
    this.out.write(this.esc.enterAlternativeScreen + this.esc.cursorHide + this.esc.clearScreen);
  }

  /** Draw a whole frame: each line cut to the width (callers pass safe, already-cut text). */
  draw(lines: string[]): void {
    if (this.restored || !this.started) return;
    const h = this.height;
    const body = lines.slice(0, h).map((l) => `${l}${this.esc.eraseEndLine}`).join('\r\n');
    this.out.write(`${this.esc.cursorTo(0, 0)}${body}${this.esc.eraseDown}`);
  }

  restore(): void {
    if (this.restored) return;
    this.restored = true;
    if (this.keyListener) this.input.off('keypress', this.keyListener);
    if (this.resizeListener) this.out.off?.('resize', this.resizeListener);
    try { this.input.setRawMode?.(false); } catch { /* the terminal went away */ }
    this.input.pause();
    if (this.started) this.out.write(this.esc.cursorShow + this.esc.exitAlternativeScreen);
  }
}

/** Terminal columns a string takes (CJK names are two each). */
export function width(s: string): number { return stringWidth(s); }

/**
 * A cell: control bytes escaped, cut to w columns (ending in an ellipsis when cut), padded to w.
 */
export function cell(v: string, w: number, alignRight = false): string {
  if (w <= 0) return '';
  let s = escapeControl(v);
  let n = stringWidth(s);
  if (n > w) {
    let out = '';
    let used = 0;
    for (const ch of s) {
      const cw = stringWidth(ch);
      if (used + cw > w - 1) break;
      out += ch;
      used += cw;
    }
    s = `${out}\u2026`;
    n = used + 1;
  }
  const pad = ' '.repeat(Math.max(0, w - n));
  return alignRight ? pad + s : s + pad;
}

/** A whole line cut to the width (plain text, already safe). */
export function fitLine(s: string, w: number): string {
  return stringWidth(s) <= w ? s : cell(s, w);
}
