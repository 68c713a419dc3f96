// Reading admin_logs rows back: before/after parsed and masked again (rows written by other
// tools may hold secrets sayclaw's writer would have masked), a one-line summary of the change
// and the field-by-field changes `audit show` prints as a diff. Shared by audit ls/show and the
// history timelines.
import type { Kysely, Selectable } from 'kysely';
import type { AdminLogsTable, MysqlDB } from '../../db/types.js';
import { maskJsonText } from '../../output/mask.js';
import { runIdOfMarker } from '../../db/transaction.js';
import { eqEmail, eqExact } from '../../db/sql-helpers.js';

export type AdminLogRecord = Omit<Selectable<AdminLogsTable>, 'deleted_at'>;

export interface AuditEntryView {
  id: string;
  created_at: Date;
  os_user: string | null;
  operator: string | null;
  action: string;
  target_type: string;
  target_id: string;
  /** what the target is called: the instance id, the user's or admin's email, the server's name */
  target_name: string;
  reason: string | null;
  /** one line: the fields that changed (`deleted_at: null -> 2026-...`), or what was recorded */
  summary: string;
  tool: string;
  /** the sayclaw run that wrote the row (the first 23 characters of its id), when its id says so */
  run_id: string | null;
  before: unknown;
  after: unknown;
}

/** The columns every reader selects (deleted_at is only filtered on). */
export const AUDIT_SELECT = ['id', 'created_at', 'os_user', 'operator', 'action', 'target_type', 'target_id', 'reason', 'tool',
  'before_json', 'after_json'] as const;

export function auditView(r: AdminLogRecord): AuditEntryView {
  const before = maskJsonText(r.before_json);
  const after = maskJsonText(r.after_json);
  return {
    id: r.id, created_at: r.created_at, os_user: r.os_user, operator: r.operator, action: r.action, target_type: r.target_type,
    target_id: r.target_id, target_name: r.target_id, reason: r.reason, summary: changeSummary(before, after), tool: r.tool,
    run_id: r.tool === 'sayclaw' ? runIdOfMarker(r.id) : null, before, after,
  };
}

/** "os_user (operator)", or one of them. */
export function actorOf(r: { os_user: string | null; operator: string | null }): string | null {
  if (r.os_user && r.operator && r.operator !== r.os_user) return `${r.os_user} (${r.operator})`;
  return r.operator || r.os_user || null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Leaf values by dotted path (`server.name`, `tags.0`); empty objects and arrays are leaves. */
export function flatten(v: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (isRecord(v) || Array.isArray(v)) {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (!entries.length) { out.set(prefix || '(value)', v); return out; }
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  out.set(prefix || '(value)', v);
  return out;
}

export interface FieldChange { field: string; before: unknown; after: unknown; changed: boolean }

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every field of before and after (before's order, then fields only after has), marked changed or not. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const b = before === null || before === undefined ? new Map<string, unknown>() : flatten(before);
  const a = after === null || after === undefined ? new Map<string, unknown>() : flatten(after);
  const out: FieldChange[] = [];
  for (const [k, v] of b) out.push({ field: k, before: v, after: a.has(k) ? a.get(k) : null, changed: !a.has(k) || !same(v, a.get(k)) });
  for (const [k, v] of a) if (!b.has(k)) out.push({ field: k, before: null, after: v, changed: before === null || before === undefined ? true : v !== null });
  return out;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const opaque = (v: unknown) => typeof v === 'string' && UUID_RE.test(v);

function short(v: unknown, max = 40): string {
  const s = v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}\u2026` : s;
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}\u2026` : s;
}

/**
 * One line about the change: `field: old -> new; ...` when both sides were recorded, else the
 * recorded fields `k=v, ...` (a creation, or a row that records a result such as keys.reveal).
 */
export function changeSummary(before: unknown, after: unknown, max = 120): string {
  const hasB = before !== null && before !== undefined;
  const hasA = after !== null && after !== undefined;
  if (!hasB && !hasA) return '';
  if (hasB && hasA) {
    // readable values first: an email says more than the user id beside it
    const ch = fieldChanges(before, after).filter((c) => c.changed)
      .sort((x, y) => Number(opaque(x.before) || opaque(x.after)) - Number(opaque(y.before) || opaque(y.after)));
    if (!ch.length) return 'no field changed';
    return clip(ch.map((c) => `${c.field}: ${short(c.before)} \u2192 ${short(c.after)}`).join('; '), max);
  }
  const fields = [...flatten(hasA ? after : before)].filter(([, v]) => v !== null);
  return clip(`${hasA ? '' : 'was '}${fields.map(([k, v]) => `${k}=${short(v, 30)}`).join(', ')}`, max);
}

/** Fill target_name for users, admin accounts, servers and master keys (one query per type on the page). */
export async function nameTargets(db: Kysely<MysqlDB>, rows: AuditEntryView[]): Promise<AuditEntryView[]> {
  const idsOf = (type: string) => [...new Set(rows.filter((r) => r.target_type === type).map((r) => r.target_id))];
  const lookups: Array<[string, (ids: string[]) => Promise<Array<{ id: string; name: string | null }>>]> = [
    ['user', (ids) => db.selectFrom('portal.users').select(['id', 'email as name']).where('id', 'in', ids).execute()],
    ['admin_user', (ids) => db.selectFrom('admin.admin_users').select(['id', 'email as name']).where('id', 'in', ids).execute()],
    ['server', (ids) => db.selectFrom('admin.servers').select(['id', 'name']).where('id', 'in', ids).execute()],
    ['api_master_key', (ids) => db.selectFrom('admin.api_master_keys').select(['id', 'name']).where('id', 'in', ids).execute()],
  ];
  const names = new Map<string, string>();
  await Promise.all(lookups.map(async ([type, q]) => {
    const ids = idsOf(type);
    if (!ids.length) return;
    for (const r of await q(ids)) if (r.name) names.set(`${type}\0${r.id}`, r.name);
  }));
  for (const r of rows) r.target_name = names.get(`${r.target_type}\0${r.target_id}`) ?? r.target_id;
  return rows;
}

/** `--target X`: the id itself, plus the id of a user or admin with that email, or a server with that name or IP. */
export async function targetIdsFor(db: Kysely<MysqlDB>, ref: string): Promise<string[]> {
  const [u, a, s] = await Promise.all([
    ref.includes('@') ? db.selectFrom('portal.users').select('id').where(eqEmail('email', ref)).execute() : [],
    ref.includes('@') ? db.selectFrom('admin.admin_users').select('id').where(eqEmail('email', ref)).execute() : [],
    db.selectFrom('admin.servers').select('id').where((eb) => eb.or([eqExact('name', ref), eqExact('ip', ref)])).execute(),
  ]);
  return [...new Set([ref, ...u.map((r) => r.id), ...a.map((r) => r.id), ...s.map((r) => r.id)])];
}
