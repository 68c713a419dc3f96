// The `sayclaw top` screen: a header, two panes (instances, servers; Tab switches), a status
// line. Data: the database part every --interval and the remote part every --remote-interval,
// each its own loop that waits for its refresh to finish before sleeping again (a refresh never
// overlaps the previous one); rendering happens only when something changed (data, a key, a
// resize), so an idle screen costs no CPU between refreshes. Keys: arrows and j/k, PgUp/PgDn,
// g/G, Tab, / (filter), s (sort), Enter (detail: the output of `instances show` /
// `servers show`), h (probe now), r (restart with the CLI's type-the-id confirmation, audited),
// ? (help), q (quit, exit 0). Ctrl-C and SIGTERM end it with exit 130, an error with its own
// exit code; the terminal is restored in every case.
import type { Context } from '../context.js';
import type { TopSettings } from '../../commands/top/index.js';
import type { DbPart, RemotePart, Snapshot, TopInstanceRow, TopServerRow } from '../fleet/top/snapshot.js';
import { InterruptedError } from '../errors.js';
import { Terminal, cell, fitLine, type Key } from './terminal.js';
import { relativeTime } from '../output/format.js';
import { escapeControl, escapeMessage } from '../output/escape.js';
import { naturalCompare } from '../db/sql-helpers.js';

type Pane = 'instances' | 'servers';
type Mode = { kind: 'list' } | { kind: 'filter'; text: string } | { kind: 'help' }
  | { kind: 'detail'; title: string; lines: string[]; top: number }
  | { kind: 'confirm'; id: string; text: string };

interface Col<R> { header: string; get: (r: R, now: Date) => string; min: number; max: number; prio: number; right?: boolean; color?: (r: R) => string | null }

const GREEN = '\x1b[32m'; const RED = '\x1b[31m'; const YELLOW = '\x1b[33m'; const RESET = '\x1b[39m';
const BOLD = '\x1b[1m'; const NOBOLD = '\x1b[22m'; const INV = '\x1b[7m'; const NOINV = '\x1b[27m';

function healthColor(h: string): string | null {
  if (h === 'healthy') return GREEN;
  if (h === 'not_ready' || h === 'no_probe' || h === 'unknown') return YELLOW;
  return RED;
}
const ago = (d: Date | null, now: Date) => (d ? relativeTime(d, now) : '-');

/** Columns, by priority (0 stays longest): a narrow terminal drops the highest numbers first. */
const INSTANCE_COLS: Col<TopInstanceRow>[] = [
  { header: 'ID', get: (r) => r.id, min: 8, max: 28, prio: 0 },
  { header: 'HEALTH', get: (r) => r.health, min: 7, max: 11, prio: 1, color: (r) => healthColor(r.health) },
  { header: 'SERVER', get: (r) => r.server_name ?? '-', min: 6, max: 16, prio: 2 },
  { header: 'USER', get: (r) => r.user ?? '-', min: 6, max: 26, prio: 3 },
  { header: 'LAST PROBE', get: (r, now) => ago(r.last_probe, now), min: 8, max: 10, prio: 4 },
  { header: 'REQ TODAY', get: (r) => r.requests_today, min: 9, max: 10, prio: 6, right: true },
  { header: 'TOKENS TODAY', get: (r) => r.tokens_today, min: 12, max: 14, prio: 7, right: true },
  { header: 'MODEL', get: (r) => r.model ?? '-', min: 5, max: 16, prio: 8 },
  { header: 'REASON', get: (r) => r.reason ?? '', min: 6, max: 60, prio: 5 },
];
const SERVER_COLS: Col<TopServerRow>[] = [
  { header: 'NAME', get: (r) => r.name, min: 6, max: 20, prio: 0 },
  { header: 'REACHABLE', get: (r) => r.reachable, min: 9, max: 9, prio: 1, color: (r) => (r.reachable === 'up' ? GREEN : r.reachable === 'down' ? RED : YELLOW) },
  { header: 'REGION', get: (r) => r.region ?? '-', min: 6, max: 12, prio: 2 },
  { header: 'LATENCY', get: (r) => (r.latency_ms === null ? '-' : `${r.latency_ms} ms`), min: 7, max: 9, prio: 3, right: true },
  { header: 'INST', get: (r) => String(r.instances), min: 4, max: 6, prio: 4, right: true },
  { header: 'DRIFT', get: (r) => String(r.drift), min: 5, max: 5, prio: 5, right: true },
  { header: 'DOCKER', get: (r) => r.docker_version ?? '-', min: 6, max: 10, prio: 6 },
  { header: 'DISK FREE', get: (r) => (r.disk_free_gb === null ? '-' : `${r.disk_free_gb} GB`), min: 9, max: 10, prio: 7, right: true },
  { header: 'MEM FREE', get: (r) => (r.mem_free_mb === null ? '-' : `${r.mem_free_mb} MB`), min: 8, max: 10, prio: 8, right: true },
  { header: 'ERROR', get: (r) => r.error ?? '', min: 6, max: 60, prio: 9 },
];

const big = (s: string) => BigInt(s);
const desc = (a: bigint, b: bigint) => (a < b ? 1 : a > b ? -1 : 0);
const HEALTH_RANK = (h: string) => (h === 'healthy' ? 3 : h === 'unknown' ? 2 : h === 'not_ready' || h === 'no_probe' ? 1 : 0);
export const INSTANCE_SORTS: Array<[string, (a: TopInstanceRow, b: TopInstanceRow) => number]> = [
  ['id', (a, b) => naturalCompare(a.id, b.id)],
  ['health', (a, b) => HEALTH_RANK(a.health) - HEALTH_RANK(b.health) || naturalCompare(a.id, b.id)],
  ['server', (a, b) => naturalCompare(a.server_name ?? '~', b.server_name ?? '~') || naturalCompare(a.id, b.id)],
  ['user', (a, b) => naturalCompare(a.user ?? '~', b.user ?? '~') || naturalCompare(a.id, b.id)],
  ['requests', (a, b) => desc(big(a.requests_today), big(b.requests_today)) || naturalCompare(a.id, b.id)],
  ['tokens', (a, b) => desc(big(a.tokens_today), big(b.tokens_today)) || naturalCompare(a.id, b.id)],
];
export const SERVER_SORTS: Array<[string, (a: TopServerRow, b: TopServerRow) => number]> = [
  ['name', (a, b) => naturalCompare(a.name, b.name)],
  ['reachable', (a, b) => (a.reachable === b.reachable ? 0 : a.reachable === 'down' ? -1 : b.reachable === 'down' ? 1 : a.reachable === 'unknown' ? -1 : 1) || naturalCompare(a.name, b.name)],
  ['instances', (a, b) => b.instances - a.instances || naturalCompare(a.name, b.name)],
  ['drift', (a, b) => b.drift - a.drift || naturalCompare(a.name, b.name)],
];

/** The filter: a prefix or a substring of id, user or server (case-insensitive). */
export function matchesInstance(r: TopInstanceRow, f: string): boolean {
  if (!f) return true;
  const q = f.toLowerCase();
  return [r.id, r.user ?? '', r.server_name ?? ''].some((v) => v.toLowerCase().includes(q));
}
export function matchesServer(r: TopServerRow, f: string): boolean {
  if (!f) return true;
  const q = f.toLowerCase();
  return [r.name, r.region ?? ''].some((v) => v.toLowerCase().includes(q));
}

/** Which columns fit in w (by priority), and their widths: the last one takes what is left. */
export function layout<R>(cols: Col<R>[], rows: R[], w: number, now: Date): Array<{ col: Col<R>; w: number }> {
  const natural = cols.map((c) => Math.min(c.max, Math.max(c.min, c.header.length, ...rows.slice(0, 500).map((r) => c.get(r, now).length))));
  const byPrio = cols.map((c, i) => ({ c, i })).sort((a, b) => a.c.prio - b.c.prio);
  const keep = new Set<number>();
  let used = 2; // the selection marker
  for (const { c, i } of byPrio) {
    const need = (keep.size ? 2 : 0) + Math.max(c.min, Math.min(natural[i]!, c.header.length));
    if (used + need > w) continue;
    keep.add(i);
    used += (keep.size > 1 ? 2 : 0) + natural[i]!;
    if (used > w) { used -= natural[i]! - Math.max(c.min, c.header.length); }
  }
  const out = cols.map((col, i) => ({ col, w: natural[i]!, i })).filter((x) => keep.has(x.i));
  // shrink from the lowest priority until it fits, then give the rest to the last column
  let total = 2 + out.reduce((a, x) => a + x.w, 0) + 2 * (out.length - 1);
  for (const x of [...out].sort((a, b) => b.col.prio - a.col.prio)) {
    if (total <= w) break;
    const cut = Math.min(x.w - Math.max(x.col.min, x.col.header.length), total - w);
    x.w -= cut; total -= cut;
  }
  if (out.length && total < w) out[out.length - 1]!.w += w - total;
  return out.map(({ col, w: cw }) => ({ col, w: cw }));
}

export interface ScreenState {
  pane: Pane;
  sel: Record<Pane, number>;
  scroll: Record<Pane, number>;
  sort: Record<Pane, number>;
  filter: Record<Pane, string>;
  mode: Mode;
  message: string | null;
  busy: string | null;
}

export async function runTopScreen(ctx: Context, s: TopSettings): Promise<void> {
  const [{ readDbPart, emptyRemote, assembleSnapshot }, { headerLines }, { TopRemote }] = await Promise.all([
    import('../fleet/top/snapshot.js'), import('../fleet/top/text.js'), import('../fleet/top/remote.js')]);
  // a database that cannot be reached is one clear line (exit 5) before the screen opens
  const { db } = await ctx.mysql();
  const remote = new TopRemote(ctx, { via: s.via, probeTimeoutMs: s.probeTimeoutMs, filter: s.filter });
  const term = new Terminal(ctx.io.stdout as never, ctx.io.stdin as never);
  const color = ctx.color;
  const paint = (c: string | null, t: string) => (color && c ? `${c}${t}${RESET}` : t);
  const bold = (t: string) => (color ? `${BOLD}${t}${NOBOLD}` : t);

  let dbPart: DbPart | null = null;
  const rem: RemotePart = emptyRemote();
  let dbError: string | null = null;
  let remoteError: string | null = null;
  let snap: Snapshot | null = null;
  const st: ScreenState = {
    pane: 'instances', sel: { instances: 0, servers: 0 }, scroll: { instances: 0, servers: 0 }, sort: { instances: 0, servers: 0 },
    filter: { instances: '', servers: '' }, mode: { kind: 'list' }, message: null, busy: null,
  };
  let stopped = false;
  let restarting: { id: string; p: Promise<unknown> } | null = null;
  /** Ctrl-C / SIGTERM: exit 130; never a claim about a restart still under way. */
  const interrupted = () => (restarting
    ? new InterruptedError(`interrupted during the restart of ${restarting.id}: its outcome is unknown`, {
      hint: `check with: sayclaw instances health ${restarting.id}; sayclaw audit ls --target ${restarting.id}` })
    : new InterruptedError('interrupted; nothing changed'));
  let finish!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => { finish = (err) => { if (stopped) return; stopped = true; if (err) reject(err); else resolve(); }; });
  ctx.onClose(() => term.restore());

  const rebuild = () => {
    if (!dbPart) return;
    const errors = [dbError ? `database: ${dbError}` : null, remoteError ? `remote: ${remoteError}` : null].filter((x): x is string => !!x);
    snap = assembleSnapshot(dbPart, rem, errors);
  };
  const visibleInstances = (): TopInstanceRow[] => {
    if (!snap) return [];
    const rows = snap.instances.filter((r) => matchesInstance(r, st.filter.instances));
    return rows.sort(INSTANCE_SORTS[st.sort.instances]![1]);
  };
  const visibleServers = (): TopServerRow[] => {
    if (!snap) return [];
    const rows = snap.servers.filter((r) => matchesServer(r, st.filter.servers));
    return rows.sort(SERVER_SORTS[st.sort.servers]![1]);
  };
  const selected = () => (st.pane === 'instances' ? visibleInstances()[st.sel.instances] : visibleServers()[st.sel.servers]);

  let pending = false;
  const render = () => {
    if (pending || stopped) return;
    pending = true;
    setImmediate(() => { pending = false; try { draw(); } catch (err) { finish(err); } });
  };

  const draw = () => {
    if (stopped) return;
    const W = term.width;
    const H = term.height;
    const now = ctx.clock();
    const lines: string[] = [];
    if (!snap) {
      lines.push(fitLine(`sayclaw top: reading the fleet...${dbError ? ` error: ${escapeMessage(dbError)}` : ''}`, W));
    } else {
      for (const l of headerLines(snap, now)) lines.push(fitLine(l, W));
    }
    if (st.mode.kind === 'detail') {
      const m = st.mode;
      lines.push(bold(fitLine(`${m.title}   (arrows/j/k scroll, Esc or q back)`, W)));
      const room = H - lines.length - 1;
      for (const l of m.lines.slice(m.top, m.top + room)) lines.push(fitLine(l, W));
      while (lines.length < H - 1) lines.push('');
      lines.push(statusLine(W));
      term.draw(lines);
      return;
    }
    if (st.mode.kind === 'help') {
      for (const l of HELP) lines.push(fitLine(l, W));
      while (lines.length < H - 1) lines.push('');
      lines.push(statusLine(W));
      term.draw(lines);
      return;
    }
    const sorts = st.pane === 'instances' ? INSTANCE_SORTS : SERVER_SORTS;
    const vi = visibleInstances();
    const vs = visibleServers();
    const info = `sort ${sorts[st.sort[st.pane]]![0]}${st.filter[st.pane] ? `  filter "${escapeControl(st.filter[st.pane])}"` : ''}`;
    const labels: Array<[Pane, string]> = [['instances', `Instances ${vi.length}`], ['servers', `Servers ${vs.length}`]];
    const plain = `${labels.map(([p, l]) => (st.pane === p ? `[${l}]` : ` ${l} `)).join('  ')}    ${info}`;
    const fancy = `${labels.map(([p, l]) => (st.pane === p ? (color ? `${INV}[${l}]${NOINV}` : `[${l}]`) : ` ${l} `)).join('  ')}    ${info}`;
    lines.push(fitLine(plain, W) === plain ? fancy : fitLine(plain, W));
    const room = Math.max(1, H - lines.length - 2);
    if (st.pane === 'instances') table(lines, INSTANCE_COLS, vi, 'instances', room, W, now);
    else table(lines, SERVER_COLS, vs, 'servers', room, W, now);
    while (lines.length < H - 1) lines.push('');
    lines.push(statusLine(W));
    term.draw(lines);
  };

  function table<R>(lines: string[], cols: Col<R>[], rows: R[], pane: Pane, room: number, W: number, now: Date) {
    const lay = layout(cols, rows, W, now);
    lines.push(bold(`  ${lay.map((x) => cell(x.col.header, x.w, x.col.right)).join('  ')}`));
    const n = rows.length;
    st.sel[pane] = Math.max(0, Math.min(st.sel[pane], n - 1));
    if (st.sel[pane] < st.scroll[pane]) st.scroll[pane] = st.sel[pane];
    if (st.sel[pane] >= st.scroll[pane] + room) st.scroll[pane] = st.sel[pane] - room + 1;
    st.scroll[pane] = Math.max(0, Math.min(st.scroll[pane], Math.max(0, n - room)));
    if (!n) lines.push(snap ? '  (nothing matches)' : '');
    for (let i = st.scroll[pane]; i < Math.min(n, st.scroll[pane] + room); i++) {
      const r = rows[i]!;
      const cur = i === st.sel[pane];
      const cells = lay.map((x) => paint(x.col.color?.(r) ?? null, cell(x.col.get(r, now), x.w, x.col.right)));
      const line = `${cur ? '>' : ' '} ${cells.join('  ')}`;
      lines.push(cur && color ? `${INV}${line}${NOINV}` : line);
    }
  }

  const statusLine = (W: number): string => {
    const m = st.mode;
    if (m.kind === 'filter') return fitLine(`/${escapeControl(m.text)}_   (Enter keep, Esc clear)`, W);
    if (m.kind === 'confirm') return fitLine(`Type the id "${escapeControl(m.id)}" to restart it: ${escapeControl(m.text)}_   (Esc cancel)`, W);
    if (st.busy) return fitLine(st.busy, W);
    if (st.message) return fitLine(st.message, W);
    return fitLine('q quit  ? help  Tab pane  / filter  s sort  Enter detail  h probe  r restart', W);
  };

  // ---- refresh loops: each waits for its refresh, then for its interval ----
  const sleeps = new Set<() => void>();
  const sleep = (ms: number) => new Promise<void>((res) => {
    const wake = () => { clearTimeout(t); sleeps.delete(wake); res(); };
    const t = setTimeout(wake, ms);
    sleeps.add(wake);
  });
  const brief = (e: unknown) => escapeMessage(((e as Error)?.message ?? String(e)).split('\n')[0]!);
  let firstDb!: () => void;
  const firstDbDone = new Promise<void>((r) => { firstDb = r; });
  const dbLoop = async () => {
    while (!stopped) {
      try {
        dbPart = await readDbPart(ctx, s.filter);
        dbError = null;
      } catch (err) {
        if (stopped || ctx.signal.aborted) return;
        dbError = brief(err);
      }
      firstDb();
      rebuild();
      render();
      await sleep(s.intervalMs);
    }
  };
  const remoteLoop = async () => {
    await firstDbDone;
    while (!stopped && s.remote) {
      if (dbPart) {
        try {
          await remote.refresh(db, dbPart, rem);
          remoteError = null;
        } catch (err) {
          if (stopped || ctx.signal.aborted) return;
          remoteError = brief(err);
        }
        rebuild();
        render();
      }
      await sleep(s.remoteIntervalMs);
    }
  };

  // ---- actions ----
  const showDetail = async (argv: string[], title: string, extra: string[]) => {
    st.busy = `loading ${title}...`;
    render();
    const lines = await captureVerb(ctx, argv);
    st.busy = null;
    st.mode = { kind: 'detail', title, lines: [...extra, ...lines], top: 0 };
    render();
  };
  const act = (p: Promise<unknown>) => { p.catch((err) => { st.busy = null; st.message = `error: ${brief(err)}`; render(); }); };

  const onKey = (str: string | undefined, k: Key) => {
    try {
      if (k.ctrl && k.name === 'c') { finish(interrupted()); return; }
      const m = st.mode;
      if (m.kind === 'filter') {
        if (k.name === 'return' || k.name === 'enter') { st.filter[st.pane] = m.text; st.mode = { kind: 'list' }; }
        else if (k.name === 'escape') { st.filter[st.pane] = ''; st.mode = { kind: 'list' }; }
        else if (k.name === 'backspace') { m.text = m.text.slice(0, -1); st.filter[st.pane] = m.text; }
        else if (str && !k.ctrl && !k.meta && str.length === 1 && str >= ' ') { m.text += str; st.filter[st.pane] = m.text; }
        st.sel[st.pane] = 0;
        render();
        return;
      }
      if (m.kind === 'confirm') {
        if (k.name === 'escape') { st.mode = { kind: 'list' }; st.message = `restart of ${m.id} cancelled; nothing changed`; }
        else if (k.name === 'backspace') m.text = m.text.slice(0, -1);
        else if (k.name === 'return' || k.name === 'enter') {
          st.mode = { kind: 'list' };
          if (m.text.trim() !== m.id) st.message = `confirmation did not match (expected "${m.id}"); nothing changed`;
          else {
            st.busy = `restarting ${m.id}...`;
            const p = remote.restart(db, m.id, 'restarted from sayclaw top');
            restarting = { id: m.id, p };
            void p.then(() => { restarting = null; }, () => { restarting = null; });
            act(p.then((row) => {
              st.busy = null;
              st.message = row.result === 'ok' ? `restarted ${row.id} (container ${row.container ?? '?'} ${row.state ?? ''}); audited`
                : `restart of ${row.id} failed: ${row.error ?? 'unknown'}`;
              render();
            }));
          }
        } else if (str && !k.ctrl && !k.meta && str.length === 1 && str >= ' ') m.text += str;
        render();
        return;
      }
      if (m.kind === 'detail') {
        const room = Math.max(1, term.height - 5);
        if (k.name === 'escape' || str === 'q' || k.name === 'return') st.mode = { kind: 'list' };
        else if (k.name === 'down' || str === 'j') m.top = Math.min(Math.max(0, m.lines.length - room), m.top + 1);
        else if (k.name === 'up' || str === 'k') m.top = Math.max(0, m.top - 1);
        else if (k.name === 'pagedown' || str === ' ') m.top = Math.min(Math.max(0, m.lines.length - room), m.top + room);
        else if (k.name === 'pageup') m.top = Math.max(0, m.top - room);
        render();
        return;
      }
      if (m.kind === 'help') { st.mode = { kind: 'list' }; render(); return; }
      st.message = null;
      const page = Math.max(1, term.height - 7);
      if (str === 'q') {
        // a restart under way is let finish (its result and audit row), unless Ctrl-C says leave now
        if (restarting) {
          st.busy = `waiting for the restart of ${restarting.id} to finish (Ctrl-C leaves now; its outcome is then unknown)`;
          void restarting.p.finally(() => finish());
          render();
        } else finish();
        return;
      }
      if (k.name === 'tab') st.pane = st.pane === 'instances' ? 'servers' : 'instances';
      else if (k.name === 'down' || str === 'j') st.sel[st.pane]++;
      else if (k.name === 'up' || str === 'k') st.sel[st.pane] = Math.max(0, st.sel[st.pane] - 1);
      else if (k.name === 'pagedown') st.sel[st.pane] += page;
      else if (k.name === 'pageup') st.sel[st.pane] = Math.max(0, st.sel[st.pane] - page);
      else if (str === 'g' || k.name === 'home') st.sel[st.pane] = 0;
      else if (str === 'G' || k.name === 'end') st.sel[st.pane] = Number.MAX_SAFE_INTEGER;
      else if (str === '/') st.mode = { kind: 'filter', text: st.filter[st.pane] };
      else if (str === 's') { const n = (st.pane === 'instances' ? INSTANCE_SORTS : SERVER_SORTS).length; st.sort[st.pane] = (st.sort[st.pane] + 1) % n; }
      else if (str === '?') st.mode = { kind: 'help' };
      else if (k.name === 'return' || k.name === 'enter') {
        const row = selected();
        if (row && st.pane === 'instances') {
          const r = row as TopInstanceRow;
          const h = rem.health.get(r.id);
          const extra = h ? [`top's last probe ${ago(h.at, ctx.clock())}: ${h.state}${h.reason ? ` (${escapeMessage(h.reason)})` : ''}${h.latency_ms !== null ? `, ${h.latency_ms} ms` : ''}`, ''] : [];
          act(showDetail(['instances', 'show', r.id], `instance ${escapeControl(r.id)}`, extra));
        } else if (row) {
          const r = row as TopServerRow;
          const drift = (snap?.drift ?? []).filter((x) => x.server_name === r.name)
            .map((x) => `  ${x.kind}  ${x.instance_id ?? '-'}  ${x.container ?? '-'}  ${x.detail}`);
          const extra = [...(r.error ? [`last check: ${r.error}`] : []), ...(drift.length ? ['drift (last remote refresh):', ...drift] : [])].map(escapeMessage);
          act(showDetail(['servers', 'show', r.id], `server ${escapeControl(r.name)}`, extra.length ? [...extra, ''] : []));
        }
      } else if (str === 'h') {
        const row = selected();
        if (row && st.pane === 'instances') {
          const id = (row as TopInstanceRow).id;
          st.busy = `probing ${id}...`;
          act(remote.probe(db, [id], rem).then((rows) => {
            st.busy = null;
            const h = rows[0];
            st.message = h ? `${h.id}: ${h.state}${h.reason ? ` (${escapeMessage(h.reason)})` : ''}${h.latency_ms !== null ? `, ${h.latency_ms} ms` : ''}` : `${id}: not found`;
            rebuild();
            render();
          }));
        } else st.message = 'h probes an instance: switch to the instances pane (Tab)';
      } else if (str === 'r') {
        const row = selected();
        if (row && st.pane === 'instances') st.mode = { kind: 'confirm', id: (row as TopInstanceRow).id, text: '' };
        else st.message = 'r restarts an instance: switch to the instances pane (Tab)';
      }
      render();
    } catch (err) { finish(err); }
  };

  // while the screen is up, messages meant for stderr (warnings of the library, e.g. the usage
  // source note) would land on top of it: they are kept, the last one shown on the status line,
  // and written out once the terminal is restored
  const io = ctx.io as { stderr: { write(s: string): unknown } };
  const realStderr = io.stderr;
  const held: string[] = [];
  io.stderr = { write: (x: string) => {
    for (const l of String(x).split('\n').filter(Boolean)) if (!held.includes(l)) { held.push(l); st.message = l; }
    render();
    return true;
  } };
  const onAbort = () => finish(interrupted());
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await term.start(onKey, render);
    render();
    void dbLoop().catch((err) => finish(err));
    void remoteLoop().catch((err) => finish(err));
    await done;
  } finally {
    stopped = true;
    for (const w of [...sleeps]) w();
    ctx.signal.removeEventListener('abort', onAbort);
    term.restore();
    io.stderr = realStderr;
    for (const l of held) realStderr.write(`${l}\n`);
  }
}

const HELP = [
  'Keys',
  '  up/down, j/k     move the selection        PgUp/PgDn, g/G   page, first/last',
  '  Tab              instances <-> servers pane',
  '  /                filter: a prefix or part of the id, user or server (Enter keeps it, Esc clears)',
  '  s                next sort (instances: id, health, server, user, requests, tokens; servers: name, reachable, instances, drift)',
  '  Enter            the row\'s detail (what instances show / servers show print)',
  '  h                probe the selected instance\'s gateway now (/healthz and /readyz)',
  '  r                restart the selected instance\'s container: type its id to confirm (audited, as instances restart)',
  '  ?                this help (any key closes it)',
  '  q                quit (exit 0); Ctrl-C exits 130',
];

/** Run a read verb in-process (its own Context, same config flags) and keep its output lines. */
async function captureVerb(ctx: Context, argv: string[]): Promise<string[]> {
  const { runCli } = await import('../../commands/index.js');
  const { Readable } = await import('node:stream');
  let out = '';
  let err = '';
  const g = ctx.opts;
  const globals = [...(g.config ? ['--config', g.config] : []), ...(g.profile ? ['--profile', g.profile] : []),
    ...(g.set ?? []).flatMap((kv) => ['--set', kv]), '--no-color'];
  const code = await runCli([...globals, ...argv], {
    io: { stdout: { write: (s: string | Uint8Array) => { out += String(s); return true; } }, stderr: { write: (s: string) => { err += s; return true; } },
      stdin: Readable.from([]), stdoutIsTTY: false, stdinIsTTY: false, stderrIsTTY: false, env: ctx.io.env, cwd: ctx.io.cwd },
    signal: ctx.signal, clock: ctx.clock,
  });
  const lines = escapeMessage(out).split('\n');
  if (err.trim()) lines.push('', ...escapeMessage(err.trim()).split('\n'));
  if (code !== 0) lines.push(`(exit ${code})`);
  return lines;
}
