// Rows written cell by cell as bytes, exactly as Encoder.row() writes them (the same RowParts),
// for exports whose cells arrive as bytes (MySQL text-protocol rows): digits and ASCII text are
// copied or escaped byte by byte, no string per cell. A text cell with a byte above 0x7f is
// decoded and written through the string encoder's own text() (UTF-8 exactly as before,
// invalid bytes replaced just as a decode replaces them). Tested against Encoder.row().
import type { Cell, RowParts } from './sink.js';

const QUOTE = 0x22;
/** JSON.stringify's escape for each ASCII byte that needs one (the rest: null) */
const JSON_ESC: Array<Uint8Array | null> = Array.from({ length: 128 }, (_, b) => {
  const e = JSON.stringify(String.fromCharCode(b)).slice(1, -1);
  return e.length > 1 ? Buffer.from(e, 'latin1') : null;
});

const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

export class ByteRows {
  private readonly first: Uint8Array;
  private readonly next: Uint8Array;
  private readonly pre: Uint8Array[];
  private readonly close: Uint8Array;
  private readonly nul: Uint8Array;
  private readonly csv: boolean;
  /** bytes that end the copy-as-is run of a text cell: ones that need quoting/escaping, and any above 0x7f */
  private readonly special: Uint8Array;
  /** the most bytes a row can take beyond 6 per input byte: separators, keys, quotes */
  readonly fixed: number;

  constructor(private readonly parts: RowParts) {
    this.first = bytesOf(parts.openFirst);
    this.next = bytesOf(parts.openNext);
    this.pre = parts.pre.map(bytesOf);
    this.close = bytesOf(parts.close);
    this.nul = bytesOf(parts.nullCell);
    this.csv = parts.format === 'csv';
    this.special = new Uint8Array(256).map((_, b) => Number(b > 0x7f || (this.csv ? b === QUOTE || b === 0x2c || b === 0x0d || b === 0x0a : !!JSON_ESC[b])));
    this.fixed = Math.max(this.first.length, this.next.length) + this.close.length
      + this.pre.reduce((a, p) => a + p.length + 2 + this.nul.length, 0);
  }

  /** Bytes in the worst case for a row whose cells hold `input` bytes, plus `extra` (pre-encoded segments, times). */
  room(input: number, extra: number): number {
    // JSON writes a control byte as \u00XX (6 bytes); an invalid UTF-8 byte decodes to U+FFFD (3 bytes)
    return this.fixed + 6 * input + extra;
  }

  /** Start of a row (counts it). */
  open(out: Uint8Array, at: number): number {
    return copy(this.parts.rows++ ? this.next : this.first, out, at);
  }

  end(out: Uint8Array, at: number): number {
    return copy(this.close, out, at);
  }

  /** Cell i as NULL. */
  nullCell(i: number, out: Uint8Array, at: number): number {
    return copy(this.nul, out, copy(this.pre[i]!, out, at));
  }

  /**
   * The start of cell i whose bytes never need quoting (digits, ISO times, money): the caller
   * writes them, then plainEnd(). JSON puts them in quotes, as JSON.stringify does.
   */
  plainStart(i: number, out: Uint8Array, at: number): number {
    at = copy(this.pre[i]!, out, at);
    if (!this.csv) out[at++] = QUOTE;
    return at;
  }

  plainEnd(out: Uint8Array, at: number): number {
    if (!this.csv) out[at++] = QUOTE;
    return at;
  }

  /** Cell i from src[s, e) that never needs quoting; s < 0: NULL. */
  plain(i: number, src: Uint8Array, s: number, e: number, out: Uint8Array, at: number): number {
    if (s < 0) return this.nullCell(i, out, at);
    at = this.plainStart(i, out, at);
    for (let k = s; k < e; k++) out[at++] = src[k]!;
    return this.plainEnd(out, at);
  }

  /** Cell i from UTF-8 text in src[s, e), quoted or escaped as the format needs; s < 0: NULL. */
  text(i: number, src: Buffer, s: number, e: number, out: Buffer, at: number): number {
    if (s < 0) return this.nullCell(i, out, at);
    at = copy(this.pre[i]!, out, at);
    // the common case in one pass: copied while no byte needs care
    const special = this.special;
    const open = at;
    if (!this.csv) out[at++] = QUOTE;
    let k = s;
    for (; k < e; k++) {
      const b = src[k]!;
      if (special[b]) break;
      out[at++] = b;
    }
    if (k === e) {
      if (!this.csv) out[at++] = QUOTE;
      return at;
    }
    at = open;
    for (let j = k; j < e; j++) {
      if (src[j]! > 0x7f) return at + out.write(this.parts.text(src.toString('utf8', s, e)), at, 'utf8');
    }
    out[at++] = QUOTE;
    for (k = s; k < e; k++) {
      const b = src[k]!;
      if (this.csv) {
        if (b === QUOTE) out[at++] = QUOTE;
        out[at++] = b;
      } else {
        const esc = JSON_ESC[b];
        if (esc) at = copy(esc, out, at);
        else out[at++] = b;
      }
    }
    out[at++] = QUOTE;
    return at;
  }

  /**
   * Cells i, i+1, ... from strings, as row() writes them (separators included): built once,
   * written with copy() (the attribution columns, a constant source column).
   */
  segment(i: number, cells: Cell[]): Uint8Array {
    let s = '';
    cells.forEach((v, k) => { s += this.parts.pre[i + k]! + (v === null ? this.parts.nullCell : this.parts.plain[i + k] ? v : this.parts.text(v)); });
    return bytesOf(s);
  }
}

/** src into out at `at`; returns the end. A loop: these runs are short, a native copy costs more. */
export function copy(src: Uint8Array, out: Uint8Array, at: number): number {
  const n = src.length;
  if (n > 64) { out.set(src, at); return at + n; }
  for (let k = 0; k < n; k++) out[at + k] = src[k]!;
  return at + n;
}

/** An ASCII string into out at `at` (no encoder call for a few characters); returns the end. */
export function ascii(v: string, out: Uint8Array, at: number): number {
  for (let k = 0; k < v.length; k++) out[at++] = v.charCodeAt(k);
  return at;
}
