// Instance templates (sayclaw_admin.instance_templates): what `instances create` starts a new
// instance from. Validation of every field (bad input is exit 2, nothing written), list, show,
// add, update, soft delete and restore; names unique among alive templates; each write is one
// transaction with its audit row. Template env never holds secrets: the gateway token and the
// One API key are made per instance by `instances create`.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { eqExact, naturalCompare } from '../../db/sql-helpers.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { writeAudit, type Actor } from '../audit/write.js';
import { inTransaction } from '../../db/transaction.js';
import { closestHint, closestNames, shownName } from '../suggest.js';

type Db = Kysely<MysqlDB> | Transaction<MysqlDB>;

export const DEFAULT_CONTAINER_PORT = 18789;
export const DEFAULT_PORT_RANGE: [number, number] = [18789, 19788];
export const NETWORKS = ['host', 'bridge'] as const;
export type Network = (typeof NETWORKS)[number];

/** A template as sayclaw works with it (JSON columns parsed, quota as a string or 'unlimited'). */
export interface Template {
  id: string;
  name: string;
  image: string;
  command: string[] | null;
  env: Record<string, string>;
  network: Network;
  container_port: number;
  model: string | null;
  /** tokens of One API quota per instance token, exact (BIGINT), or 'unlimited' */
  quota: string;
  memory_mb: number | null;
  port_range: string;
  port_min: number;
  port_max: number;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** What add/update may set; undefined = not given. null clears an optional field. */
export interface TemplateInput {
  image?: string;
  command?: string[] | null;
  env?: Record<string, string>;
  network?: string;
  container_port?: number;
  model?: string | null;
  quota?: string;
  memory_mb?: number | null;
  port_min?: number;
  port_max?: number;
  notes?: string | null;
}

/** Variables sayclaw sets per instance itself: a template may not set them. */
export const RESERVED_ENV = ['OPENCLAW_GATEWAY_PORT', 'OPENCLAW_GATEWAY_TOKEN', 'OPENAI_API_KEY', 'OPENAI_BASE_URL'];
/** Names that say "secret": templates are shared and shown, secrets are per instance. */
const SECRET_ENV_RE = /(TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|API_?KEY|PRIVATE_?KEY|CREDENTIAL|_KEY$|^KEY$)/i;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function validateTemplateName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new UsageError(`invalid template name "${name}"`, { hint: 'letters, digits, dot, dash and underscore, starting with a letter or digit; at most 100' });
  }
}

/** --command JSON: a non-empty JSON array of strings. */
export function parseCommand(text: string): string[] {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) {
    throw new UsageError(`--command is not valid JSON: ${(e as Error).message}`, { hint: 'give a JSON array, e.g. --command \'["node","/app/openclaw.mjs","gateway","run"]\'' });
  }
  if (!Array.isArray(v) || !v.length || !v.every((x) => typeof x === 'string')) {
    throw new UsageError('--command must be a non-empty JSON array of strings', { hint: 'e.g. --command \'["node","/app/openclaw.mjs","gateway","run"]\'' });
  }
  return v as string[];
}

/** --env K=V (repeatable) into an object; names checked, secrets refused. */
export function parseEnv(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--env expects NAME=VALUE, got "${p}"`, { hint: 'e.g. --env TZ=Asia/Tokyo' });
    const k = p.slice(0, i);
    const v = p.slice(i + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError(`--env: invalid variable name "${k}"`, { hint: 'letters, digits and underscore, not starting with a digit' });
    if (RESERVED_ENV.includes(k.toUpperCase())) {
      throw new UsageError(`--env ${k}: sayclaw sets this per instance (gateway port and token, One API base URL and key)`, { hint: 'leave it out of the template' });
    }
    if (SECRET_ENV_RE.test(k)) {
      throw new UsageError(`--env ${k}: looks like a secret; templates hold no secrets`, { hint: 'the gateway token and One API key are made per instance by instances create' });
    }
    if (/[\0\n\r]/.test(v)) throw new UsageError(`--env ${k}: the value holds a NUL or line break`);
    out[k] = v;
  }
  return out;
}

/** --quota N|unlimited */
export function parseQuota(text: string): string {
  const t = text.trim().toLowerCase();
  if (t === 'unlimited') return 'unlimited';
  if (!/^\d+$/.test(t) || BigInt(t) <= 0n || BigInt(t) > 9223372036854775807n) {
    throw new UsageError(`--quota expects a whole number of quota above 0 or "unlimited", got "${text}"`, { hint: 'e.g. --quota 5000000 or --quota unlimited' });
  }
  return BigInt(t).toString();
}

/** --port-range A-B */
export function parsePortRange(text: string): [number, number] {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2]) : NaN;
  if (!m || a < 1024 || b > 65535 || a > b) {
    throw new UsageError(`--port-range expects A-B with 1024 <= A <= B <= 65535, got "${text}"`, { hint: `e.g. --port-range ${DEFAULT_PORT_RANGE.join('-')}` });
  }
  return [a, b];
}

export function validateTemplateInput(v: TemplateInput, creating: boolean): void {
  if (creating && !v.image) throw new UsageError('--image is required', { hint: 'e.g. --image ghcr.io/openclaw/openclaw:2026.9.6' });
  if (v.image !== undefined && (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(v.image) || v.image.length > 255)) {
    throw new UsageError(`invalid image reference "${v.image}"`, { hint: 'e.g. ghcr.io/openclaw/openclaw:2026.9.6 (no spaces; at most 255)' });
  }
  if (v.network !== undefined && !(NETWORKS as readonly string[]).includes(v.network)) {
    throw new UsageError(`invalid --network "${v.network}"`, { hint: 'use host or bridge' });
  }
  if (v.container_port !== undefined && (!Number.isInteger(v.container_port) || v.container_port < 1 || v.container_port > 65535)) {
    throw new UsageError(`--container-port must be between 1 and 65535, got ${v.container_port}`);
  }
  if (v.model !== undefined && v.model !== null && (!v.model.trim() || v.model.length > 100 || /[\0-\x1f\x7f]/.test(v.model))) {
    throw new UsageError('--model must be 1 to 100 printable characters');
  }
  if (v.memory_mb !== undefined && v.memory_mb !== null && (!Number.isInteger(v.memory_mb) || v.memory_mb < 64 || v.memory_mb > 1048576)) {
    throw new UsageError(`--memory-mb must be between 64 and 1048576, got ${v.memory_mb}`);
  }
  if (v.port_min !== undefined && v.port_max !== undefined && v.port_min > v.port_max) {
    throw new UsageError(`--port-range: ${v.port_min} is above ${v.port_max}`);
  }
}

const COLS = ['id', 'name', 'image', 'command_json', 'env_json', 'network', 'container_port', 'model', 'token_quota', 'memory_mb',
  'port_min', 'port_max', 'notes', 'created_at', 'updated_at', 'deleted_at'] as const;
type RawRow = { id: string; name: string; image: string; command_json: string | null; env_json: string | null; network: string; container_port: number;
  model: string | null; token_quota: string | null; memory_mb: number | null; port_min: number; port_max: number; notes: string | null;
  created_at: Date; updated_at: Date; deleted_at: Date | null };

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  try { return JSON.parse(text) as T; } catch { return fallback; }
}

function toTemplate(r: RawRow): Template {
  return {
    id: r.id, name: r.name, image: r.image, command: parseJson<string[] | null>(r.command_json, null), env: parseJson<Record<string, string>>(r.env_json, {}),
    network: (r.network === 'bridge' ? 'bridge' : 'host'), container_port: Number(r.container_port), model: r.model,
    quota: r.token_quota === null ? 'unlimited' : String(r.token_quota), memory_mb: r.memory_mb === null ? null : Number(r.memory_mb),
    port_range: `${r.port_min}-${r.port_max}`, port_min: Number(r.port_min), port_max: Number(r.port_max), notes: r.notes,
    created_at: r.created_at, updated_at: r.updated_at, deleted_at: r.deleted_at,
  };
}

export async function listTemplates(db: Db, state: 'alive' | 'deleted' | 'all' = 'alive'): Promise<Template[]> {
  let q = db.selectFrom('admin.instance_templates').select([...COLS]);
  if (state === 'alive') q = q.where('deleted_at', 'is', null);
  if (state === 'deleted') q = q.where('deleted_at', 'is not', null);
  const rows = (await q.execute()) as RawRow[];
  return rows.map(toTemplate).sort((a, b) => naturalCompare(a.name, b.name) || (a.deleted_at ? 1 : 0) - (b.deleted_at ? 1 : 0));
}

/**
 * A template by exact name (or id). The alive one; with want 'deleted' the most recently deleted
 * one of that name (restore); exit 4 with the closest names otherwise.
 */
export async function findTemplate(db: Db, ref: string, want: 'alive' | 'deleted' | 'any' = 'alive', lock = false): Promise<Template> {
  let q = db.selectFrom('admin.instance_templates').select([...COLS]).where((eb) => eb.or([eqExact('name', ref), eqExact('id', ref)]));
  if (want === 'alive') q = q.where('deleted_at', 'is', null);
  if (want === 'deleted') q = q.where('deleted_at', 'is not', null);
  const rows = (await (lock ? q.forUpdate() : q).execute()) as RawRow[];
  rows.sort((a, b) => (a.deleted_at === null ? -1 : b.deleted_at === null ? 1 : b.deleted_at.getTime() - a.deleted_at.getTime()));
  if (!rows.length) {
    const where = want === 'alive' ? sql`deleted_at IS NULL` : want === 'deleted' ? sql`deleted_at IS NOT NULL` : undefined;
    const close = await closestNames(db as Kysely<MysqlDB>, { table: 'admin.instance_templates', columns: ['name'], scanAll: true, where }, ref);
    const what = want === 'deleted' ? 'soft-deleted template' : 'template';
    throw new NotFoundError(`no ${what} named ${shownName(ref)}`, { hint: closestHint(close, want === 'deleted' ? 'sayclaw templates ls --deleted' : 'sayclaw templates ls') });
  }
  return toTemplate(rows[0]!);
}

/** Columns to write for an input (only what was given). */
function columnsOf(v: TemplateInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v.image !== undefined) out.image = v.image;
  if (v.command !== undefined) out.command_json = v.command === null ? null : JSON.stringify(v.command);
  if (v.env !== undefined) out.env_json = Object.keys(v.env).length ? JSON.stringify(v.env) : null;
  if (v.network !== undefined) out.network = v.network;
  if (v.container_port !== undefined) out.container_port = v.container_port;
  if (v.model !== undefined) out.model = v.model;
  if (v.quota !== undefined) out.token_quota = v.quota === 'unlimited' ? null : v.quota;
  if (v.memory_mb !== undefined) out.memory_mb = v.memory_mb;
  if (v.port_min !== undefined) out.port_min = v.port_min;
  if (v.port_max !== undefined) out.port_max = v.port_max;
  if (v.notes !== undefined) out.notes = v.notes;
  return out;
}

/** Audit view: the template without timestamps. */
function auditView(t: Template): Record<string, unknown> {
  const { created_at: _c, updated_at: _u, deleted_at: _d, ...rest } = t;
  return rest;
}

/**
 * Refuse a name an alive template has. The read locks the name's index range (FOR UPDATE), so two
 * concurrent adds of one name serialize: the second waits, or deadlocks and is retried by
 * inTransaction, then sees the first.
 */
async function assertNameFree(trx: Transaction<MysqlDB>, name: string, exceptId?: string): Promise<void> {
  let q = trx.selectFrom('admin.instance_templates').select(['id']).where(eqExact('name', name)).where('deleted_at', 'is', null);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.forUpdate().executeTakeFirst()) {
    throw new UsageError(`a template named ${name} already exists; nothing changed`, { hint: `change it with: sayclaw templates update ${name} ...` });
  }
}

export async function checkNewTemplate(db: Kysely<MysqlDB>, name: string, v: TemplateInput): Promise<void> {
  validateTemplateName(name);
  validateTemplateInput(v, true);
  const clash = await db.selectFrom('admin.instance_templates').select('id').where(eqExact('name', name)).where('deleted_at', 'is', null).executeTakeFirst();
  if (clash) throw new UsageError(`a template named ${name} already exists; nothing changed`, { hint: `change it with: sayclaw templates update ${name} ...` });
}

export async function addTemplate(db: Kysely<MysqlDB>, actor: Actor, name: string, v: TemplateInput, reason: string | null = null): Promise<Template> {
  validateTemplateName(name);
  validateTemplateInput(v, true);
  return inTransaction(db, async (trx) => {
    await assertNameFree(trx, name);
    const id = crypto.randomUUID();
    await trx.insertInto('admin.instance_templates').values({ id, name, ...columnsOf(v) } as never).execute();
    const t = await findTemplate(trx, id, 'alive');
    await writeAudit(trx, actor, { action: 'templates.add', target_type: 'template', target_id: id, after: auditView(t), reason });
    return t;
  });
}

export interface TemplateChange { column: string; before: unknown; after: unknown }

function changesOf(cur: Template, v: TemplateInput): TemplateChange[] {
  const next: Record<string, unknown> = {
    image: v.image, command: v.command, env: v.env, network: v.network, container_port: v.container_port, model: v.model,
    quota: v.quota, memory_mb: v.memory_mb, notes: v.notes,
    port_range: v.port_min !== undefined || v.port_max !== undefined ? `${v.port_min ?? cur.port_min}-${v.port_max ?? cur.port_max}` : undefined,
  };
  const c = cur as unknown as Record<string, unknown>;
  return Object.entries(next).filter(([k, x]) => x !== undefined && JSON.stringify(c[k]) !== JSON.stringify(x))
    .map(([column, after]) => ({ column, before: c[column], after }));
}

/** What `templates update --dry-run` shows. */
export async function templateChanges(db: Kysely<MysqlDB>, ref: string, v: TemplateInput): Promise<{ template: Template; changes: TemplateChange[] }> {
  const template = await findTemplate(db, ref);
  const merged = { ...v, port_min: v.port_min ?? template.port_min, port_max: v.port_max ?? template.port_max };
  validateTemplateInput(merged, false);
  return { template, changes: changesOf(template, v) };
}

export async function updateTemplate(db: Kysely<MysqlDB>, actor: Actor, ref: string, v: TemplateInput, reason: string | null = null):
  Promise<{ template: Template; changes: TemplateChange[] }> {
  const first = await findTemplate(db, ref);
  return inTransaction(db, async (trx) => {
    const cur = await findTemplate(trx, first.id, 'alive', true);
    validateTemplateInput({ ...v, port_min: v.port_min ?? cur.port_min, port_max: v.port_max ?? cur.port_max }, false);
    const changes = changesOf(cur, v);
    if (!changes.length) return { template: cur, changes };
    await trx.updateTable('admin.instance_templates').set({ ...columnsOf(v), updated_at: sql<Date>`NOW(3)` } as never)
      .where('id', '=', cur.id).where('deleted_at', 'is', null).execute();
    const after = await findTemplate(trx, cur.id, 'alive');
    await writeAudit(trx, actor, { action: 'templates.update', target_type: 'template', target_id: cur.id, reason,
      before: { name: cur.name, ...Object.fromEntries(changes.map((x) => [x.column, x.before])) },
      after: { name: cur.name, ...Object.fromEntries(changes.map((x) => [x.column, x.after])) } });
    return { template: after, changes };
  });
}

/**
 * Soft delete (deleted_at = NOW(3)) or restore one template. Race-safe: the UPDATE names the
 * state it expects; a restore is refused when an alive template took the name meanwhile.
 */
export async function setTemplateDeleted(db: Kysely<MysqlDB>, actor: Actor, id: string, del: boolean, reason: string | null):
  Promise<{ id: string; name: string; result: string }> {
  return inTransaction(db, async (trx) => {
    const before = await findTemplate(trx, id, 'any', true);
    if (!del) await assertNameFree(trx, before.name, id);
    const res = await trx.updateTable('admin.instance_templates').set({ deleted_at: del ? sql<Date>`NOW(3)` as never : null })
      .where('id', '=', id).where('deleted_at', del ? 'is' : 'is not', null).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return { id, name: before.name, result: del ? 'already-deleted' : 'not-deleted' };
    const after = await findTemplate(trx, id, 'any');
    await writeAudit(trx, actor, { action: del ? 'templates.rm' : 'templates.restore', target_type: 'template', target_id: id, reason,
      before: { name: before.name, deleted_at: before.deleted_at }, after: { name: after.name, deleted_at: after.deleted_at } });
    return { id, name: before.name, result: del ? 'deleted' : 'restored' };
  });
}
