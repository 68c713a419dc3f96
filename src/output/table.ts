// The plain text table of `-o table` / `-o wide` and of show verbs' sections: columns two spaces
// apart, each as wide as its widest cell, no borders, no wrapping, trailing spaces trimmed.
// Linear in the cells: a cell's display width is measured once when it is added (cli-table3,
// used before, laid out every cell against every other for row/col spans: quadratic, 15.7 s for
// 10,000 rows). Rows are kept as one string each until the widths are known.
import stringWidth from 'string-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Columns a string takes on a terminal (CJK and most emoji two each); ANSI colour codes none. */
export function displayWidth(s: string): number {
  return PRINTABLE_ASCII.test(s) ? s.length : stringWidth(s);
}

/** Separates the cells of a kept row; cells are escaped text (escapeControl), so it never occurs in one. */
const SEP = '\x1f';
/** Output is handed on in pieces of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

export class TextTable {
  private readonly widths: number[];
  private readonly rows: string[] = [];

  /** head: header cells (may carry colour codes); every cell must already be escaped. */
  constructor(private readonly head: string[]) {
    this.widths = head.map(displayWidth);
  }

  get size(): number { return this.rows.length; }

  push(cells: string[]): void {
    const w = this.widths;
    for (let i = 0; i < cells.length; i++) {
      const n = displayWidth(cells[i]!);
      if (n > w[i]!) w[i] = n;
    }
    this.rows.push(cells.join(SEP));
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
