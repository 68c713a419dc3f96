// The plain text table of `-o table` / `-o wide` and of show verbs' sections: columns two spaces
// apart, each as wide as its widest cell, no borders, no wrapping, trailing spaces trimmed.
// Linear in the cells: a cell's display width is measured once when it is added (cli-table3,
// used before, laid out every cell against every other for row/col spans: quadratic, 15.7 s for
// 10,000 rows). Rows are kept as one string each until the widths are known.
import { eastAsianWidth } from 'get-east-asian-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const SGR = /\x1b\[[0-9;]*m/g;
/**
 * Text whose every code point is its own grapheme cluster, visible, no emoji, no combining mark,
 * no Hangul jamo: printable ASCII, Latin-1 letters and signs (not the soft hyphen, (c), (R)),
 * Greek, Cyrillic (not its combining marks), general punctuation U+2010-2027, CJK symbols and
 * punctuation (not the tone marks U+302A-302F, not the emoji U+3030 and U+303D), kana (not the
 * combining voiced marks), CJK ideographs, Hangul syllables, fullwidth forms. For such text
 * string-width's answer is the sum of each code point's East Asian Width (get-east-asian-width,
 * string-width's own table; ambiguous as narrow, as string-width counts by default), and a test
 * checks that for every code point of these ranges. Chinese names, departments and models are
 * measured this way without string-width, whose Intl.Segmenter and emoji tables cost ~20 ms to
 * set up (a table with one such cell paid it: `instances ls` of a fleet with CJK model names).
 */
export const SIMPLE_WIDE = /^[\x20-\x7e\u00a0-\u00a8\u00aa-\u00ac\u00af-\u00ff\u0370-\u03ff\u0400-\u0482\u048a-\u04ff\u2010-\u2027\u3000-\u3029\u3031-\u303c\u303e\u303f\u3041-\u3096\u309b-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uff01-\uff60\uffe0-\uffe6]*$/;
function simpleWidth(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x7f ? 1 : eastAsianWidth(c);
  }
  return n;
}

/**
 * string-width, for text beyond printable ASCII. Building its Unicode tables takes ~27 ms of
 * CPU, more than rendering most tables: it is loaded only for a table that has such a cell.
 */
let wideWidth: ((s: string) => number) | undefined;
export async function loadDisplayWidth(): Promise<void> {
  wideWidth ??= (await import('string-width')).default;
}

/** The width of printable ASCII or SIMPLE_WIDE text, with or without colour codes; null for anything else. */
function asciiWidth(s: string): number | null {
  if (PRINTABLE_ASCII.test(s)) return s.length;
  const t = s.includes('\x1b') ? s.replace(SGR, '') : s;
  if (PRINTABLE_ASCII.test(t)) return t.length;
  return SIMPLE_WIDE.test(t) ? simpleWidth(t) : null;
}

/** Columns a string takes on a terminal (CJK and most emoji two each); ANSI colour codes none. */
export function displayWidth(s: string): number {
  const n = asciiWidth(s);
  if (n !== null) return n;
  if (!wideWidth) throw new Error('displayWidth: await loadDisplayWidth() first (text beyond ASCII)');
  return wideWidth(s);
}

/** Separates the cells of a kept row; cells are escaped text (escapeControl), so it never occurs in one. */
const SEP = '\x1f';
/** Output is handed on in pieces of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

export class TextTable {
  private readonly widths: number[];
  private readonly rows: string[] = [];
  /** A cell beyond ASCII waits for ready() to be measured. */
  private unmeasured = false;

  /** head: header cells (may carry colour codes); every cell must already be escaped. */
  constructor(private readonly head: string[]) {
    this.widths = head.map((h) => this.measure(h));
  }

  get size(): number { return this.rows.length; }

  private measure(s: string): number {
    const n = asciiWidth(s);
    if (n !== null) return n;
    if (wideWidth) return wideWidth(s);
    this.unmeasured = true;
    return 0;
  }

  push(cells: string[]): void {
    const w = this.widths;
    for (let i = 0; i < cells.length; i++) {
      const n = this.measure(cells[i]!);
      if (n > w[i]!) w[i] = n;
    }
    this.rows.push(cells.join(SEP));
  }

  /** Before chunks()/toString(): loads string-width if a cell needs it and measures those cells. */
  async ready(): Promise<void> {
    if (!this.unmeasured) return;
    await loadDisplayWidth();
    const w = this.widths;
    const widen = (cells: string[]) => cells.forEach((c, i) => { if (asciiWidth(c) === null) w[i] = Math.max(w[i]!, wideWidth!(c)); });
    widen(this.head);
    for (const r of this.rows) widen(r.split(SEP));
    this.unmeasured = false;
  }

  private line(cells: string[]): string {
    let s = '';
    const last = cells.length - 1;
    for (let i = 0; i <= last; i++) {
      const c = cells[i]!;
      s += c;
      if (i < last) s += ' '.repeat(this.widths[i]! - displayWidth(c) + 2);
    }
    return s.trimEnd();
  }

  /** The table, header first, as pieces of text (each a run of whole lines); rows are released as they go. */
  *chunks(): Generator<string> {
    if (this.unmeasured) throw new Error('TextTable: await ready() before chunks()');
    let buf = `${this.line(this.head)}\n`;
    const rows = this.rows;
    for (let i = 0; i < rows.length; i++) {
      buf += `${this.line(rows[i]!.split(SEP))}\n`;
      rows[i] = '';
      if (buf.length >= CHUNK_CHARS) { yield buf; buf = ''; }
    }
    rows.length = 0;
    if (buf) yield buf;
  }

  toString(): string {
    return [...this.chunks()].join('');
  }
}
