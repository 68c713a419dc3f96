// Streaming byte output: a buffered writer that honours backpressure, to a stream (stdout) or
// to a temporary file that is renamed over the final name only on success (the atomic file
// writer: a killed or failed export never leaves a truncated file under the final name), and
// the row encoders. Knows nothing of the Context: callers hand it plain streams and a signal.
import { lstatSync, readlinkSync, realpathSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExitCode, firstLine, InterruptedError, SayclawError, UsageError } from '../errors.js';

export interface Sink {
  /** Append; resolves once the destination can take more (backpressure). */
  write(s: string): Promise<void>;
  /** Append without waiting; false means "wait for drained() before pushing much more". */
  push(s: string): boolean;
  /**
   * Append what fill writes into buf from offset at (at most n bytes; it returns where it
   * stopped), without a string in between; false as for push().
   */
  pushBytes(n: number, fill: (buf: Buffer, at: number) => number): boolean;
  drained(): Promise<void>;
  /** flush and, for files, rename into place */
  commit(): Promise<void>;
  /** drop everything (removes the temporary file) */
  abort(): Promise<void>;
  readonly path: string | null;
  readonly tmpPath: string | null;
}

/** What a sink writes to: a stream for "-", the directory --out is relative to, Ctrl-C, cleanup. */
export interface SinkTarget {
  stdout: { write(s: string | Uint8Array): unknown };
  cwd: string;
  signal: AbortSignal;
  /** run at exit, success or not (removes a temporary file left by a failure) */
  onClose(fn: () => Promise<void> | void): void;
}

/** Bytes gathered before they are handed to the destination. */
const CHUNK = 256 * 1024;

/**
 * Rows are UTF-8 encoded straight into a byte chunk (Buffer#write): concatenating row
 * strings and encoding the result cost ~4x more CPU on a 200,000-row export. A string never
 * spans two chunks, so every chunk holds whole characters.
 */
abstract class Buffered implements Sink {
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  /**
   * Chunks the destination is done with, for reuse: a fast export allocates little else, so
   * without this the chunks (external memory) would pile up until a GC notices them.
   */
  private readonly spare: Buffer[] = [];
  abstract readonly path: string | null;
  abstract readonly tmpPath: string | null;
  constructor(protected readonly signal: AbortSignal) {}
  /** hand bytes to the destination (which keeps them); false when it wants a drain */
  protected abstract emit(b: Buffer): boolean;
  abstract drained(): Promise<void>;
  push(s: string): boolean {
    // a UTF-16 code unit is at most 3 UTF-8 bytes
    if (this.used + s.length * 3 <= CHUNK) {
      this.used += this.chunk.write(s, this.used, 'utf8');
      return true;
    }
    let ok = this.emitChunk();
    if (s.length * 3 > CHUNK) ok = this.emit(Buffer.from(s, 'utf8')) && ok;
    else this.used = this.chunk.write(s, 0, 'utf8');
    return ok;
  }
  pushBytes(n: number, fill: (buf: Buffer, at: number) => number): boolean {
    if (this.used + n <= CHUNK) {
      this.used = checkedEnd(fill(this.chunk, this.used), this.used, n);
      return true;
    }
    let ok = this.emitChunk();
    if (n > CHUNK) {
      const big = Buffer.allocUnsafe(n);
      ok = this.emit(big.subarray(0, checkedEnd(fill(big, 0), 0, n))) && ok;
    } else this.used = checkedEnd(fill(this.chunk, 0), 0, n);
    return ok;
  }
  private emitChunk(): boolean {
    if (!this.used) return true;
    const full = this.chunk.subarray(0, this.used);
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
    this.used = 0;
    return this.emit(full);
  }
  /** b, handed to emit(), is written and no longer held by the destination: a whole chunk is reused */
  protected reuse(b: Buffer): void {
    if (b.byteOffset === 0 && b.buffer.byteLength === CHUNK && this.spare.length < 4) this.spare.push(Buffer.from(b.buffer, 0, CHUNK));
  }
  async write(s: string): Promise<void> {
    if (!this.push(s)) await this.drained();
    if (this.signal.aborted) throw new InterruptedError();
  }
  protected async flush(): Promise<void> {
    if (this.signal.aborted) throw new InterruptedError();
    if (!this.emitChunk()) await this.drained();
  }
  abstract commit(): Promise<void>;
  abstract abort(): Promise<void>;
}

/** A byte writer that ran past the room it asked for would have overwritten the next chunk's bytes. */
function checkedEnd(end: number, at: number, n: number): number {
  if (!(end >= at && end <= at + n)) throw new Error(`byte row writer overran its room: wrote ${end - at} of ${n} bytes`);
  return end;
}

/** Wait for p, but give up with InterruptedError on Ctrl-C (a stuck reader must not hang us). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new InterruptedError());
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(new InterruptedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); res(v); }, (e) => { signal.removeEventListener('abort', onAbort); rej(e); });
  });
}

type Emitterish = { once?: (e: string, f: (...a: unknown[]) => void) => void; on?: (e: string, f: (...a: unknown[]) => void) => void;
  off?: (e: string, f: (...a: unknown[]) => void) => void; writableNeedDrain?: boolean };

class StdoutSink extends Buffered {
  readonly path = null;
  readonly tmpPath = null;
  private needDrain = false;
  private failed: OutputError | null = null;
  private wakeDrain: ((e?: unknown) => void) | null = null;
  constructor(private readonly out: SinkTarget['stdout'], signal: AbortSignal) {
    super(signal);
    // a write error (a full disk behind "> file") ends the export at once instead of a wait
    // for a 'drain' that never comes (EPIPE is handled by the process: a closed pipe is fine)
    const em = out as unknown as Emitterish;
    em.on?.('error', (e: unknown) => {
      if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return;
      this.failed ??= new OutputError('stdout', 'writing failed', e);
      this.wakeDrain?.(this.failed);
    });
  }
  protected emit(b: Buffer): boolean {
    if (this.failed) throw this.failed;
    const ok = this.out.write(b) !== false;
    if (!ok) this.needDrain = true;
    return ok;
  }
  async drained(): Promise<void> {
    if (this.failed) throw this.failed;
    const em = this.out as unknown as Emitterish;
    if (this.needDrain && typeof em.once === 'function' && em.writableNeedDrain !== false) {
      await untilAborted(new Promise<void>((res, rej) => {
        this.wakeDrain = (e) => { this.wakeDrain = null; if (e) rej(e); else res(); };
        em.once!('drain', () => this.wakeDrain?.());
      }), this.signal);
    }
    this.needDrain = false;
  }
  async commit(): Promise<void> {
    await this.flush();
    if (this.failed) throw this.failed;
  }
  async abort(): Promise<void> { /* what was written to stdout stays written */ }
}

/**
 * Temporary files not yet renamed or removed. Even a forced exit (a second Ctrl-C, an
 * exception) runs 'exit' listeners: they are removed there, synchronously.
 */
const liveTemps = new Set<string>();
let exitHook = false;
function trackTemp(path: string): void {
  liveTemps.add(path);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => { for (const p of liveTemps) { try { unlinkSync(p); } catch { /* gone already */ } } });
}

/** Bytes queued for the file before the writer is asked to wait (backpressure). */
const FILE_HIGH_WATER = 512 * 1024;

/** An output error: exit 1, one line naming the path and the cause. */
export class OutputError extends SayclawError {
  constructor(path: string, what: string, err: unknown) {
    const e = err as NodeJS.ErrnoException;
    super(`cannot write ${path}: ${what}${e?.code ? ` (${e.code})` : ''}: ${firstLine(e?.message).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*$/, '')}`,
      ExitCode.RUNTIME, { hint: 'nothing was written under that name', cause: err });
  }
}

/**
 * The temporary file, written through one FileHandle with one write in flight at a time. An
 * error fails the next call and every waiter at once (no event that can be missed, so no
 * hang); abort never waits on the stream. Created with the mode and owner of the file it will
 * replace, so a renamed export keeps them.
 */
class FileSink extends Buffered {
  private queue: Buffer[] = [];
  private queued = 0;
  private writing: Promise<void> | null = null;
  private failed: OutputError | null = null;
  private waiters: Array<{ res: () => void; rej: (e: unknown) => void }> = [];
  private done = false;
  constructor(readonly path: string, readonly tmpPath: string, private readonly fh: FileHandle, signal: AbortSignal) {
    super(signal);
  }
  protected emit(b: Buffer): boolean {
    if (this.failed) throw this.failed;
    this.queue.push(b);
    this.queued += b.length;
    this.pump();
    return this.queued < FILE_HIGH_WATER;
  }
  private pump(): void {
    if (this.writing) return;
    this.writing = (async () => {
      try {
        while (this.queue.length && !this.failed) {
          const b = this.queue.shift()!;
          for (let off = 0; off < b.length;) off += (await this.fh.write(b, off, b.length - off)).bytesWritten;
          this.queued -= b.length;
          this.reuse(b);
          if (this.queued < FILE_HIGH_WATER) this.wake(null);
        }
      } catch (e) {
        this.failed = new OutputError(this.path, 'writing the temporary file failed', e);
        this.wake(this.failed);
      } finally {
        this.writing = null;
      }
    })();
  }
  private wake(err: unknown): void {
    for (const w of this.waiters.splice(0)) (err ? w.rej(err) : w.res());
  }
  async drained(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.queued < FILE_HIGH_WATER) return;
    await untilAborted(new Promise<void>((res, rej) => this.waiters.push({ res, rej })), this.signal);
  }
  async commit(): Promise<void> {
    await this.flush();
    while (this.writing) await this.writing;
    if (this.failed) throw this.failed;
    try {
      await this.fh.sync();
      await this.fh.close();
    } catch (e) {
      throw new OutputError(this.path, 'writing the temporary file failed', e);
    }
    try {
      await rename(this.tmpPath, this.path);
    } catch (e) {
      throw new OutputError(this.path, `renaming the temporary file over it was refused`, e);
    }
    liveTemps.delete(this.tmpPath);
    this.done = true;
  }
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.failed ??= new OutputError(this.path, 'aborted', new Error('the export stopped'));
    this.wake(this.failed);
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
    liveTemps.delete(this.tmpPath);
  }
}

/** What --out names, after the checks: the file to replace (symlinks followed) and its owner. */
interface OutTarget { path: string; existing: { mode: number; uid: number; gid: number } | null }

/**
 * Fail fast (exit 2) on an --out that cannot be a file we replace, before any lock or query:
 * a name ending in "/", a missing directory, a directory, FIFO, socket or device, a symlink
 * to nothing. A symlink to a file is followed (the link stays, its file is replaced). Not
 * root and the file belongs to someone else: refused, the rename would change its owner.
 */
export function checkOut(cwd: string, out: string | undefined): OutTarget | null {
  if (!out || out === '-') return null;
  if (/\/\.{0,2}$/.test(out)) throw new UsageError(`--out must name a file, got "${out}"`, { hint: 'drop the trailing /' });
  let path = resolve(cwd, out);
  let st: Stats | null = null;
  try { st = lstatSync(path); } catch { /* a new file */ }
  if (st?.isSymbolicLink()) {
    try { path = realpathSync(path); } catch {
      throw new UsageError(`--out ${out} is a symlink to a missing file (${readlinkSafe(path)}); refused`, { hint: 'name the file itself, or create it first' });
    }
    st = statSync(path);
  }
  let dir;
  try { dir = statSync(dirname(path)); } catch { throw new UsageError(`--out ${out}: the directory ${dirname(path)} does not exist`); }
  if (!dir.isDirectory()) throw new UsageError(`--out ${out}: ${dirname(path)} is not a directory`);
  if (!st) return { path, existing: null };
  if (st.isDirectory()) throw new UsageError(`--out ${out} is a directory; name a file`);
  if (!st.isFile()) {
    const kind = st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'a device';
    throw new UsageError(`--out ${out} is ${kind}, not a regular file; refused: an export replaces its file by renaming a temporary one`, {
      hint: 'write to stdout instead: sayclaw usage export ... > FILE',
    });
  }
  const euid = process.geteuid?.() ?? 0;
  if (euid !== 0 && st.uid !== euid) {
    throw new UsageError(`--out ${out} belongs to uid ${st.uid}: replacing it would make it yours (uid ${euid}); refused`, {
      hint: 'run as its owner, or remove it first',
    });
  }
  return { path, existing: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } };
}

function readlinkSafe(p: string): string {
  try { return readlinkSync(p); } catch { return '?'; }
}

/**
 * stdout, or a temporary file next to the file `out` names (created at once, so an output
 * that cannot be written fails before any query: exit 1), removed on any failure (also via
 * t.onClose).
 */
export async function openSink(t: SinkTarget, out: string | undefined): Promise<Sink> {
  const target = checkOut(t.cwd, out);
  if (!target) return new StdoutSink(t.stdout, t.signal);
  const { path, existing } = target;
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', existing?.mode ?? 0o640);
  } catch (e) {
    throw new OutputError(path, `creating a temporary file in ${dirname(path)} failed`, e);
  }
  trackTemp(tmp);
  const s = new FileSink(path, tmp, fh, t.signal);
  t.onClose(() => s.abort());
  try {
    if (existing) {
      // the mode given to open() is cut by the umask; the owner is ours unless set
      await fh.chmod(existing.mode);
      if (existing.uid !== (process.geteuid?.() ?? existing.uid) || existing.gid !== (process.getegid?.() ?? existing.gid)) {
        await fh.chown(existing.uid, existing.gid);
      }
    }
  } catch (e) {
    await s.abort();
    throw new OutputError(path, 'keeping its mode and owner failed', e);
  }
  return s;
}

// ---- encoders ---------------------------------------------------------------------------

export type Cell = string | null;
export type DataFormat = 'csv' | 'json' | 'ndjson';

/** RFC 4180 field: quoted when it holds a quote, comma, CR or LF. */
export function csvField(v: Cell): string {
  if (v === null) return '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export interface Encoder { head(): string; row(values: Cell[]): string; tail(): string; readonly parts: RowParts }

/**
 * What row() writes, piece by piece: writers that build rows from bytes (the raw export's MySQL
 * path, src/output/byte-rows.ts) use the same pieces, and row() itself is made of them, so the
 * two cannot drift apart.
 */
export interface RowParts {
  readonly format: DataFormat;
  /** start of the first row, and of every later one (JSON's array separator) */
  readonly openFirst: string;
  readonly openNext: string;
  /** before cell i: the separator (and the key, for JSON) */
  readonly pre: readonly string[];
  readonly close: string;
  /** what a NULL cell is written as */
  readonly nullCell: string;
  readonly plain: readonly boolean[];
  /** a non-NULL cell that may need quoting or escaping */
  text(v: string): string;
  /** rows written so far (by row() or a byte writer): decides openFirst/openNext and the tail */
  rows: number;
}

function rowParts(format: DataFormat, columns: string[], plain: boolean[]): RowParts {
  const csv = format === 'csv';
  const open = format === 'json' ? ['\n  {', ',\n  {'] : format === 'ndjson' ? ['{', '{'] : ['', ''];
  return {
    format,
    openFirst: open[0]!,
    openNext: open[1]!,
    pre: columns.map((c, i) => `${i ? ',' : ''}${csv ? '' : `${JSON.stringify(c)}:`}`),
    close: format === 'csv' ? '\r\n' : format === 'ndjson' ? '}\n' : '}',
    nullCell: csv ? '' : 'null',
    // plain cells skip the CSV check; JSON writes every cell through JSON.stringify
    plain: columns.map((_, i) => csv && !!plain[i]),
    text: csv ? csvField : (v) => JSON.stringify(v),
    rows: 0,
  };
}

/** plain[i]: column i never needs CSV quoting (numbers, ISO times), so it skips the check. */
export function encoder(format: DataFormat, columns: string[], plain: boolean[] = []): Encoder {
  const p = rowParts(format, columns, plain);
  return {
    parts: p,
    head: () => (format === 'csv' ? `${columns.map(csvField).join(',')}\r\n` : format === 'json' ? '[' : ''),
    row: (v) => {
      let s = p.rows++ ? p.openNext : p.openFirst;
      for (let i = 0; i < p.pre.length; i++) {
        const x = v[i] ?? null;
        s += p.pre[i];
        s += x === null ? p.nullCell : p.plain[i] ? x : p.text(x);
      }
      return s + p.close;
    },
    tail: () => (format !== 'json' ? '' : p.rows ? '\n]\n' : ']\n'),
  };
}
