// servers exec: one command on many servers at once through the pooled connections; output
// streamed line by line with the server name (or kept whole for grouped output), per-server
// exit codes and a summary.
import type { ServerRow } from './registry.js';
import type { RemoteSession } from './remote.js';
import type { Outcome } from '../../remote/fanout.js';
import { shellQuote } from '../../remote/ssh.js';

export interface ExecRow {
  server_name: string;
  ip: string | null;
  exit_code: number | null;
  status: 'ok' | 'failed' | 'unreachable' | 'timeout' | 'interrupted';
  ms: number;
  stdout: string;
  stderr: string;
  error: string | null;
}

/** Quote argv for the remote shell (one argument = the command line as typed). */
export function shellJoin(argv: string[]): string {
  if (argv.length === 1) return argv[0]!;
  return argv.map(shellQuote).join(' ');
}

/** Splits a stream of chunks into whole lines. */
class LineSplitter {
  private buf = '';
  constructor(private emit: (line: string) => void) {}
  push(s: string): void {
    this.buf += s;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) { this.emit(this.buf.slice(0, i)); this.buf = this.buf.slice(i + 1); }
  }
  flush(): void { if (this.buf) { this.emit(this.buf); this.buf = ''; } }
}

export async function execOnServers(remote: RemoteSession, servers: ServerRow[], command: string, opts: {
  timeoutMs?: number;
  onLine?: (server: string, stream: 'stdout' | 'stderr', line: string) => void;
  onDone?: (o: Outcome<ServerRow, unknown>, done: number, total: number) => void;
}): Promise<ExecRow[]> {
  const { fanOut } = await import('../../remote/fanout.js');
  const { RemoteError } = await import('../../remote/ssh.js');
  const results = await fanOut(servers, { concurrency: remote.concurrency, signal: remote.ctx.signal, onDone: opts.onDone }, async (s) => {
    const name = s.name ?? s.id;
    const conn = await remote.conn(s);
    const out = new LineSplitter((l) => opts.onLine?.(name, 'stdout', l));
    const err = new LineSplitter((l) => opts.onLine?.(name, 'stderr', l));
    try {
      return await conn.exec(command, {
        timeoutMs: opts.timeoutMs, signal: remote.ctx.signal,
        onStdout: opts.onLine ? (d) => out.push(d) : undefined,
        onStderr: opts.onLine ? (d) => err.push(d) : undefined,
      });
    } finally { out.flush(); err.flush(); }
  });
  return results.map((o) => {
    const s = o.item;
    const base = { server_name: s.name ?? s.id, ip: s.ip };
    if (o.ok) {
      const r = o.value;
      return { ...base, exit_code: r.code, status: r.code === 0 ? 'ok' : 'failed', ms: r.ms, stdout: r.stdout, stderr: r.stderr,
        error: r.code === 0 ? null : r.code === null ? `killed by signal ${r.signal ?? '?'}` : `exit ${r.code}` } as ExecRow;
    }
    const e = o.error;
    const kind = e instanceof RemoteError ? e.kind : 'exec';
    const status = kind === 'aborted' ? 'interrupted' : kind === 'timeout' ? 'timeout' : kind === 'exec' ? 'failed' : 'unreachable';
    return { ...base, exit_code: null, status, ms: o.ms, stdout: '', stderr: '', error: e.message } as ExecRow;
  });
}
