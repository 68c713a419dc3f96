// A TCP fault proxy for the tests: it sits between sayclaw and MariaDB on a loopback port and
// breaks connections the way networks and servers do, without ever stopping the shared server.
//
// It reads the MySQL client protocol just enough to see the SQL of each command: packets are
// 3 bytes length + 1 byte sequence id; a client packet with sequence id 0 starts a command;
// COM_QUERY (0x03) and COM_STMT_PREPARE (0x16) carry the SQL text, COM_STMT_EXECUTE (0x17)
// carries a statement id, mapped to its SQL from the PREPARE reply (0x00, then the id).
//
// Faults (each rule fires `times` times, once by default):
//   cut          the statement is never forwarded; both sides are closed at once
//   drop-reply   the statement is forwarded, its reply never reaches the client: once the server
//                has answered, both sides are closed (so the statement did run: a COMMIT whose OK
//                was lost. Closing the client side at once raced with sayclaw's KILL of the old
//                session: on a loaded machine the KILL could land before the server had read the
//                COMMIT, which then never ran; CI saw the test wait forever for the reply)
//   replyBytes N the statement is forwarded and the connection is cut after N bytes of its reply
//   error        the statement is not forwarded; the client gets this MySQL error instead (e.g. a
//                1213 deadlock or 1205 lock wait timeout; the connection stays usable)
// plus cutAfterBytes (any connection, N bytes from the server), slow() (a slow link), refuse()
// (stop listening: ECONNREFUSED) and accept() (listen again on the same port).
import { createServer, connect, type Server, type Socket } from 'node:net';

export type FaultAction = 'cut' | 'drop-reply' | { replyBytes: number } | { error: { errno: number; sqlState: string; message: string } };

export interface FaultRule {
  match: RegExp;
  action: FaultAction;
  /** how many matching statements it fires on (default 1) */
  times?: number;
  /** when it fires, the database becomes unreachable: new connections are refused and every
   * other open connection is cut */
  thenRefuse?: boolean;
  /** drop-reply only: close the client side as soon as the statement is forwarded, not once the
   * server has answered (sayclaw's KILL of the old session then races with the statement) */
  clientGoesAtOnce?: boolean;
}

interface ArmedRule extends FaultRule { left: number; fired: number; resolve: () => void; done: Promise<void> }

const COM_QUERY = 0x03;
const COM_STMT_PREPARE = 0x16;
const COM_STMT_EXECUTE = 0x17;

/** Split whole packets off a buffer; returns [packets, rest]. */
function packets(buf: Buffer): [Array<{ seq: number; payload: Buffer; raw: Buffer }>, Buffer] {
  const out: Array<{ seq: number; payload: Buffer; raw: Buffer }> = [];
  let off = 0;
  while (buf.length - off >= 4) {
    const len = buf.readUIntLE(off, 3);
    if (buf.length - off < 4 + len) break;
    out.push({ seq: buf[off + 3]!, payload: buf.subarray(off + 4, off + 4 + len), raw: buf.subarray(off, off + 4 + len) });
    off += 4 + len;
  }
  return [out, buf.subarray(off)];
}

export class FaultProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** every statement seen, in order, per connection number */
  readonly statements: Array<{ conn: number; sql: string }> = [];
  private server: Server;
  private rules: ArmedRule[] = [];
  private conns = new Set<Socket>();
  private pairs = new Map<number, { client: Socket; server: Socket }>();
  private byteLimit: number | null = null;
  private delayMs: number | null = null;
  private next = 0;

  private constructor(private readonly target: { host: string; port: number }, private readonly raw: boolean) {
    this.server = this.makeServer();
  }

  /** raw: any TCP protocol (PostgreSQL): bytes pass unparsed; only cutAfterBytes, slow, refuse apply */
  static async start(target: { host: string; port: number }, opts: { raw?: boolean } = {}): Promise<FaultProxy> {
    const p = new FaultProxy(target, !!opts.raw);
    await p.listen(0);
    return p;
  }

  /** mysql://user:pw@host:port for the CLI, pointed at the proxy instead of the server */
  url(base: string): string {
    const u = new URL(base);
    u.hostname = this.host;
    u.port = String(this.port);
    return u.toString().replace(/\/$/, '');
  }

  /** Arm a rule; the promise resolves when it has fired `times` times. */
  add(rule: FaultRule): Promise<void> {
    let resolve!: () => void;
    const done = new Promise<void>((r) => { resolve = r; });
    this.rules.push({ ...rule, left: rule.times ?? 1, fired: 0, resolve, done });
    return done;
  }

  /** A slow link: every chunk from the server is held this long (null: off). */
  slow(ms: number | null): void { this.delayMs = ms; }

  /** Cut every connection once it has received N bytes from the server in total (null: off). */
  cutAfterBytes(n: number | null): void { this.byteLimit = n; }

  clear(): void { this.rules = []; this.byteLimit = null; this.delayMs = null; }

  /** Close every open connection now. */
  cutAll(): void { for (const s of this.conns) s.destroy(); }

  /** Stop listening: new connections are refused (ECONNREFUSED); open ones keep working. */
  async refuse(): Promise<void> {
    if (!this.server.listening) return;
    // close() stops listening at once; its callback would wait for the open connections to end
    const s = this.server;
    s.close();
    await new Promise<void>((r) => setImmediate(r));
  }

  /** The database becomes unreachable: new connections refused, every open one cut but `keep`. */
  private unreachable(keep: number): void {
    void this.refuse();
    for (const [id, p] of this.pairs) if (id !== keep) { p.client.destroy(); p.server.destroy(); }
  }

  /** Listen again on the same port. */
  async accept(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    this.clear();
    this.cutAll();
    await this.refuse();
  }

  private listen(port: number): Promise<void> {
    return new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(port, this.host, () => {
        this.server.off('error', rej);
        this.port = (this.server.address() as { port: number }).port;
        res();
      });
    });
  }

  private makeServer(): Server {
    // connections accepted before refuse() outlive the listener (server.close keeps them)
    return createServer((client) => this.pipe(client));
  }

  private match(sql: string): ArmedRule | undefined {
    const r = this.rules.find((x) => x.left > 0 && x.match.test(sql));
    if (!r) return undefined;
    r.left--;
    r.fired++;
    return r;
  }

  private fired(r: ArmedRule): void {
    if (r.left === 0) r.resolve();
  }

  private pipe(client: Socket): void {
    const id = ++this.next;
    const server = connect(this.target.port, this.target.host);
    this.conns.add(client);
    this.conns.add(server);
    this.pairs.set(id, { client, server });
    let fromClient: Buffer = Buffer.alloc(0);
    let fromServer: Buffer = Buffer.alloc(0);
    let serverBytes = 0;
    /** the statement whose reply is being read, for PREPARE replies */
    let pendingPrepare: string | null = null;
    const prepared = new Map<number, string>();
    /** reply handling for the statement in flight */
    let reply: { drop: boolean; cutAfter: number | null; seen: number; rule: ArmedRule | null } | null = null;
    const kill = () => { client.destroy(); server.destroy(); };
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.on('close', () => { this.conns.delete(client); server.destroy(); });
    server.on('close', () => {
      this.conns.delete(server); this.pairs.delete(id); client.destroy();
      // the server went before it answered a dropped reply: the rule has fired all the same
      if (reply?.drop) { const r = reply.rule!; reply = null; this.fired(r); }
    });

    client.on('data', (chunk: Buffer) => {
      if (this.raw) { server.write(chunk); return; }
      fromClient = Buffer.concat([fromClient, chunk]);
      const [pk, rest] = packets(fromClient);
      fromClient = Buffer.from(rest);
      for (const p of pk) {
        let sql: string | null = null;
        if (p.seq === 0 && p.payload.length) {
          const cmd = p.payload[0]!;
          if (cmd === COM_QUERY || cmd === COM_STMT_PREPARE) sql = p.payload.subarray(1).toString('utf8');
          else if (cmd === COM_STMT_EXECUTE && p.payload.length >= 5) sql = prepared.get(p.payload.readUInt32LE(1)) ?? null;
          pendingPrepare = cmd === COM_STMT_PREPARE ? sql : null;
        }
        if (sql !== null) {
          this.statements.push({ conn: id, sql });
          const rule = this.match(sql);
          if (rule?.thenRefuse) this.unreachable(id);
          if (rule) {
            if (rule.action === 'cut') { kill(); this.fired(rule); return; }
            if (rule.action === 'drop-reply') {
              reply = { drop: true, cutAfter: null, seen: 0, rule };
              server.write(p.raw);
              // the client never hears back; both sides go once the server has answered
              // (fromServerData), or when the server closes first (its 'close' below)
              if (rule.clientGoesAtOnce) { client.removeAllListeners('close'); client.on('close', () => this.conns.delete(client)); client.destroy(); }
              return;
            }
            if ('error' in rule.action) {
              const { errno, sqlState, message } = rule.action.error;
              const body = Buffer.concat([Buffer.from([0xff, errno & 0xff, errno >> 8]), Buffer.from(`#${sqlState.slice(0, 5)}${message}`, 'utf8')]);
              const head = Buffer.alloc(4);
              head.writeUIntLE(body.length, 0, 3);
              head[3] = 1;
              client.write(Buffer.concat([head, body]));
              this.fired(rule);
              continue;
            }
            reply = { drop: false, cutAfter: rule.action.replyBytes, seen: 0, rule };
          } else if (!reply?.drop) {
            reply = null;
          }
        }
        if (!client.destroyed) server.write(p.raw);
      }
    });

    const fromServerData = (chunk: Buffer) => {
      serverBytes += chunk.length;
      if (reply?.drop) {
        // the server answered the statement whose reply is dropped: the client never sees it
        const r = reply.rule!;
        reply = null;
        kill();
        this.fired(r);
        return;
      }
      if (pendingPrepare !== null) {
        fromServer = Buffer.concat([fromServer, chunk]);
        const [pk] = packets(fromServer);
        const first = pk[0];
        if (first) {
          if (first.payload[0] === 0x00 && first.payload.length >= 5) prepared.set(first.payload.readUInt32LE(1), pendingPrepare);
          pendingPrepare = null;
          fromServer = Buffer.alloc(0);
        }
      }
      if (reply && reply.cutAfter !== null) {
        const room = reply.cutAfter - reply.seen;
        if (chunk.length >= room) {
          if (room > 0) client.write(chunk.subarray(0, room));
          const r = reply.rule!;
          reply = null;
          // let the partial reply reach the client before the connection goes
          client.end(() => kill());
          setTimeout(kill, 50).unref();
          this.fired(r);
          return;
        }
        reply.seen += chunk.length;
      }
      if (this.byteLimit !== null && serverBytes >= this.byteLimit) {
        client.write(chunk.subarray(0, Math.max(0, chunk.length - (serverBytes - this.byteLimit))));
        client.end(() => kill());
        setTimeout(kill, 50).unref();
        return;
      }
      client.write(chunk);
    };
    server.on('data', (chunk: Buffer) => {
      if (!this.delayMs) { fromServerData(chunk); return; }
      // slow link: each chunk from the server waits before it is passed on, in order
      server.pause();
      setTimeout(() => { fromServerData(chunk); if (!server.destroyed) server.resume(); }, this.delayMs).unref();
    });
  }
}
