// Streaming output for exports: a buffered writer that honours backpressure, to stdout or to a
// temporary file that is renamed over the final name only on success (a killed or failed
// export never leaves a truncated file under the final name), and the row encoders.
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Context } from '../../context.js';
import { InterruptedError, UsageError } from '../../errors.js';

export interface Sink {
  write(s: string): Promise<void>;
  /** flush and, for files, rename into place */
  commit(): Promise<void>;
  /** drop everything (removes the temporary file) */
  abort(): Promise<void>;
  readonly path: string | null;
  readonly tmpPath: string | null;
}

const HIGH_WATER = 64 * 1024;

abstract class Buffered implements Sink {
  private buf: string[] = [];
  private size = 0;
  abstract readonly path: string | null;
  abstract readonly tmpPath: string | null;
  constructor(protected readonly signal: AbortSignal) {}
  protected abstract flushChunk(s: string): Promise<void>;
  async write(s: string): Promise<void> {
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= HIGH_WATER) await this.flush();
  }
  protected async flush(): Promise<void> {
    if (this.signal.aborted) throw new InterruptedError();
    if (!this.size) return;
    const s = this.buf.join('');
    this.buf = [];
    this.size = 0;
    await this.flushChunk(s);
  }
  abstract commit(): Promise<void>;
  abstract abort(): Promise<void>;
}

class StdoutSink extends Buffered {
  readonly path = null;
  readonly tmpPath = null;
  constructor(private readonly out: Context['io']['stdout'], signal: AbortSignal) { super(signal); }
  protected async flushChunk(s: string): Promise<void> {
    const ok = this.out.write(s);
    const em = this.out as unknown as { once?: (e: string, f: () => void) => void };
    if (ok === false && typeof em.once === 'function') await new Promise<void>((r) => em.once!('drain', r));
  }
  async commit(): Promise<void> { await this.flush(); }
  async abort(): Promise<void> { /* what was written to stdout stays written */ }
}

class FileSink extends Buffered {
  private ws: WriteStream;
  private done = false;
  private failed: Error | null = null;
  constructor(readonly path: string, readonly tmpPath: string, signal: AbortSignal) {
    super(signal);
    this.ws = createWriteStream(tmpPath, { flags: 'wx', mode: 0o640 });
    this.ws.on('error', (e) => { this.failed = e; });
  }
  protected async flushChunk(s: string): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.ws.write(s)) {
      const ws = this.ws;
      await new Promise<void>((res, rej) => {
        const onDrain = () => { ws.off('error', onErr); res(); };
        const onErr = (e: Error) => { ws.off('drain', onDrain); rej(e); };
        ws.once('drain', onDrain);
        ws.once('error', onErr);
      });
    }
  }
  async commit(): Promise<void> {
    await this.flush();
    if (this.failed) throw this.failed;
    const ws = this.ws;
    await new Promise<void>((res, rej) => { ws.once('error', rej); ws.end(() => res()); });
    await rename(this.tmpPath, this.path);
    this.done = true;
  }
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.ws.destroy();
    await once(this.ws, 'close').catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}

/** stdout, or a temp file next to `out` that is removed on any failure (also via ctx.onClose). */
export function openSink(ctx: Context, out: string | undefined): Sink {
  if (!out || out === '-') return new StdoutSink(ctx.io.stdout, ctx.signal);
  const path = resolve(ctx.io.cwd, out);
  if (path.endsWith('/')) throw new UsageError(`--out must name a file, got "${out}"`);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const s = new FileSink(path, tmp, ctx.signal);
  ctx.onClose(() => s.abort());
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

export interface Encoder { head(): string; row(values: Cell[]): string; tail(): string }

export function encoder(format: DataFormat, columns: string[]): Encoder {
  if (format === 'csv') {
    return { head: () => `${columns.map(csvField).join(',')}\r\n`, row: (v) => `${v.map(csvField).join(',')}\r\n`, tail: () => '' };
  }
  const keys = columns.map((c) => `${JSON.stringify(c)}:`);
  const obj = (v: Cell[]) => {
    let s = '{';
    for (let i = 0; i < keys.length; i++) s += `${i ? ',' : ''}${keys[i]}${v[i] === null ? 'null' : JSON.stringify(v[i])}`;
    return `${s}}`;
  };
  if (format === 'ndjson') return { head: () => '', row: (v) => `${obj(v)}\n`, tail: () => '' };
  let first = true;
  return {
    head: () => '[',
    row: (v) => { const s = `${first ? '\n' : ',\n'}  ${obj(v)}`; first = false; return s; },
    tail: () => (first ? ']\n' : '\n]\n'),
  };
}
