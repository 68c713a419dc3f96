// MySQL text-protocol result rows as the bytes they arrived in, for a streaming export that
// writes cells straight to its output: mysql2 would otherwise decode every cell into a JS
// string or number (most of the client's CPU per row). Only for columns whose wire text is
// exactly what sayclaw writes for mysql2's value (integer digits, UTF-8 text); the caller
// checks the column definitions (rawIntegerColumn, rawTextColumn) and keeps mysql2's parsing otherwise.

/** What mysql2 tells of a result column (its ColumnDefinition). */
export interface RawColumn {
  name: string;
  columnType: number;
  flags: number;
  characterSet: number;
  encoding?: string;
  extendedFormat?: string;
}

// mysql2/lib/constants/types.js and field_flags.js
const INTEGER_TYPES = new Set([1, 2, 3, 8, 9]); // TINY, SHORT, LONG, LONGLONG, INT24
const TEXT_TYPES = new Set([15, 249, 250, 251, 252, 253, 254]); // VARCHAR, the BLOB/TEXT family, VAR_STRING, STRING
const ZEROFILL = 0x40;
const BINARY_CHARSET = 63;

/**
 * An integer column without ZEROFILL: its wire text is the canonical decimal, which is what
 * String() of mysql2's value (a number, or with bigNumberStrings the text itself) gives.
 */
export function rawIntegerColumn(c: RawColumn): boolean {
  return INTEGER_TYPES.has(c.columnType) && !(c.flags & ZEROFILL);
}

/** A text column sent as UTF-8 (or binary bytes, which sayclaw reads as UTF-8 too); not MariaDB's JSON alias, which mysql2 parses. */
export function rawTextColumn(c: RawColumn): boolean {
  return TEXT_TYPES.has(c.columnType) && (c.encoding === 'utf8' || c.characterSet === BINARY_CHARSET) && c.extendedFormat !== 'json';
}

/**
 * Split a text-protocol row, buf[at, end), into its cells: cells[2i], cells[2i+1] are the start
 * and end of cell i, -1 for NULL. False unless the row holds exactly cells.length / 2 cells.
 */
export function readCells(buf: Uint8Array, at: number, end: number, cells: Int32Array): boolean {
  for (let i = 0; i < cells.length; i += 2) {
    if (at >= end) return false;
    let len = buf[at++]!;
    if (len >= 0xfb) {
      if (len === 0xfb) { cells[i] = -1; cells[i + 1] = -1; continue; }
      if (len === 0xfc) { len = buf[at]! | (buf[at + 1]! << 8); at += 2; }
      else if (len === 0xfd) { len = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16); at += 3; }
      else if (len === 0xfe) {
        // 8 bytes; a packet never holds 2 GB
        if (buf[at + 3]! > 0x7f || buf[at + 4] || buf[at + 5] || buf[at + 6] || buf[at + 7]) return false;
        len = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
        at += 8;
      } else return false;
    }
    cells[i] = at;
    at += len;
    cells[i + 1] = at;
  }
  return at === end;
}

/** The parts of a mysql2 Query this relies on (mysql2 3.x lib/commands/query.js). */
interface QueryStates {
  on(event: 'fields', f: (fields: RawColumn[]) => void): unknown;
  row?: unknown;
}
interface Packet { buffer: Buffer; offset: number; end: number; isEOF(): boolean }
type State = (this: unknown, packet: Packet, connection: unknown) => unknown;

/**
 * Have mysql2 hand the rows of `query` over as bytes. When the column definitions arrive,
 * accept(columns) decides; if it says yes, every row packet goes to onRow(buf, start, end)
 * (valid during the call only) instead of being parsed and emitted as 'result'. mysql2's
 * Query is a state machine whose state for the next row is `this.row`; this replaces it on
 * this one query. If that is not how the installed mysql2 works, nothing is replaced and the
 * rows keep coming as 'result' arrays (returns false).
 */
export function takeRawRows(query: QueryStates, accept: (columns: RawColumn[]) => boolean,
  onRow: (buf: Buffer, start: number, end: number) => void): boolean {
  const parsed = (Object.getPrototypeOf(query) as { row?: unknown }).row;
  if (typeof parsed !== 'function') return false;
  const protoRow = parsed as State;
  let raw = false;
  query.on('fields', (columns) => { raw = accept(columns); });
  const row: State = function (this: unknown, packet, connection) {
    if (!raw || packet.isEOF()) return protoRow.call(this, packet, connection);
    onRow(packet.buffer, packet.offset, packet.end);
    return row;
  };
  query.row = row;
  return true;
}
