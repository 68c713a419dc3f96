// Instance API keys (sayclaw_admin.oc_api_keys): which One API token each instance uses, joined
// with the instance and the token, and the mapping's problems. Read only. A token new-api
// soft-deleted is never the token of an instance (problem token_deleted); a key that names its
// token only by a name several alive tokens share maps to none of them (token_name_ambiguous).
import { sql, type Kysely } from 'kysely';
import type { OneApiSchema } from '../../db/oneapi-schema.js';
import type { MysqlDB } from '../../db/types.js';
import { inExact, likePrefix, naturalCompare } from '../../db/sql-helpers.js';
import { DELETED, effectiveStatus, tokenStatusName } from './oneapi-tokens.js';
import { plural } from '../../output/format.js';

export const OC_KEY_PROBLEMS = {
  no_key: 'alive instance without an active key',
  instance_deleted: 'key points at a soft-deleted instance',
  instance_missing: 'key points at an instance that does not exist',
  token_missing: 'the One API token does not exist',
  token_name_mismatch: 'oneapi_token_name differs from the token\'s name in One API',
  token_disabled: 'token is disabled in One API',
  token_expired: 'token is expired in One API',
  token_exhausted: 'token has no quota left in One API',
  token_deleted: 'the One API token was deleted (new-api keeps it as a soft-deleted row)',
  token_name_ambiguous: 'several alive One API tokens have this name; record oneapi_token_id',
  token_shared: 'the same token is used by more than one instance',
  duplicate_key: 'the instance has more than one active key',
  key_inactive: 'the key row is not active',
} as const;
export type OcKeyProblem = keyof typeof OC_KEY_PROBLEMS;

export interface OcKeyRow {
  instance_id: string;
  instance_deleted_at: Date | null;
  key_id: string | null;
  key_status: string | null;
  oneapi_token_id: string | null;
  oneapi_token_name: string | null;
  token_status: string | null;
  remain_quota: string | null;
  /** the later of One API's accessed_time and oc_api_keys.last_used_at */
  last_used_at: Date | null;
  problems: OcKeyProblem[];
}

interface TokenInfo { id: string; name: string | null; status: string | null; expired_time: string | null; remain_quota: string | null;
  unlimited_quota: number | boolean | null; accessed_time: string | null; deleted: boolean }

const CHUNK = 1000;
async function chunked<T, R>(items: T[], fn: (c: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(...await fn(items.slice(i, i + CHUNK)));
  return out;
}

export async function listOcKeys(db: Kysely<MysqlDB>, f: { prefix?: string; now: Date; problemsOnly?: boolean; schema: OneApiSchema }): Promise<OcKeyRow[]> {
  let iq = db.selectFrom('admin.oc_instances').select(['id', 'deleted_at']);
  if (f.prefix) iq = iq.where(likePrefix('id', f.prefix));
  let kq = db.selectFrom('admin.oc_api_keys').select(['id', 'instance_id', 'oneapi_token_id', 'oneapi_token_name', 'status', 'last_used_at'])
    .where('deleted_at', 'is', null);
  if (f.prefix) kq = kq.where(likePrefix('instance_id', f.prefix));
  const [instances, keys] = await Promise.all([iq.execute(), kq.execute()]);

  const tokenIds = [...new Set(keys.map((k) => k.oneapi_token_id).filter((x): x is string => x !== null))];
  const tokenNames = [...new Set(keys.filter((k) => k.oneapi_token_id === null && k.oneapi_token_name).map((k) => k.oneapi_token_name!))];
  const soft = f.schema.has('tokens', 'deleted_at');
  const cols = ['id', 'name', 'status', 'expired_time', 'remain_quota', 'unlimited_quota', 'accessed_time'] as const;
  const deletedCol = (soft ? sql<number>`deleted_at IS NOT NULL` : sql<number>`0`).as('deleted');
  const [byIdRows, byNameRows] = await Promise.all([
    chunked(tokenIds, (c) => db.selectFrom('oneapi.tokens').select([...cols, deletedCol]).where('id', 'in', c).execute()),
    chunked(tokenNames, (c) => db.selectFrom('oneapi.tokens').select([...cols, deletedCol]).where(inExact('name', c)).execute()),
  ]);
  const info = (t: (typeof byIdRows)[number]): TokenInfo => ({ ...t, id: String(t.id), deleted: !!Number(t.deleted) });
  const byId = new Map<string, TokenInfo>(byIdRows.map((t) => [String(t.id), info(t)]));
  // by name: the one alive token of that name; several alive ones are ambiguous; only deleted ones are deleted
  const byName = new Map<string, TokenInfo | 'ambiguous'>();
  for (const t of byNameRows) {
    if (t.name === null) continue;
    const cur = byName.get(t.name);
    const x = info(t);
    if (cur === undefined || (cur !== 'ambiguous' && cur.deleted && !x.deleted)) byName.set(t.name, x);
    else if (cur !== 'ambiguous' && !cur.deleted && !x.deleted) byName.set(t.name, 'ambiguous');
  }

  const inst = new Map(instances.map((i) => [i.id, i]));
  const keysPerInstance = new Map<string, number>();
  const instancesPerToken = new Map<string, Set<string>>();
  const resolved = keys.map((k) => {
    const found = k.oneapi_token_id !== null ? byId.get(String(k.oneapi_token_id)) : k.oneapi_token_name ? byName.get(k.oneapi_token_name) : undefined;
    const ambiguous = found === 'ambiguous';
    const tok = ambiguous ? undefined : found;
    keysPerInstance.set(k.instance_id, (keysPerInstance.get(k.instance_id) ?? 0) + 1);
    // a deleted token maps to no instance: it is not shared with anyone either
    if (tok && !tok.deleted) {
      const s = instancesPerToken.get(tok.id) ?? new Set<string>();
      s.add(k.instance_id);
      instancesPerToken.set(tok.id, s);
    }
    return { k, tok, ambiguous };
  });

  const rows: OcKeyRow[] = resolved.map(({ k, tok, ambiguous }) => {
    const i = inst.get(k.instance_id);
    const problems: OcKeyProblem[] = [];
    if (!i) problems.push('instance_missing');
    else if (i.deleted_at) problems.push('instance_deleted');
    if (k.status !== 'active') problems.push('key_inactive');
    if ((keysPerInstance.get(k.instance_id) ?? 0) > 1) problems.push('duplicate_key');
    let status: string | null = null;
    if (ambiguous) problems.push('token_name_ambiguous');
    else if (!tok) problems.push('token_missing');
    else if (tok.deleted) { problems.push('token_deleted'); status = DELETED; }
    else {
      if (k.oneapi_token_name && tok.name !== k.oneapi_token_name) problems.push('token_name_mismatch');
      const eff = effectiveStatus(tok, f.now);
      status = tokenStatusName(tok.status) === eff ? eff : `${eff} (status ${tokenStatusName(tok.status)})`;
      if (eff === 'disabled') problems.push('token_disabled');
      else if (eff === 'expired') problems.push('token_expired');
      else if (eff === 'exhausted') problems.push('token_exhausted');
      if ((instancesPerToken.get(tok.id)?.size ?? 0) > 1) problems.push('token_shared');
    }
    const accessed = tok?.accessed_time && tok.accessed_time !== '0' ? new Date(Number(tok.accessed_time) * 1000) : null;
    const last = [accessed, k.last_used_at].filter((d): d is Date => d instanceof Date).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    return {
      instance_id: k.instance_id, instance_deleted_at: i?.deleted_at ?? null, key_id: k.id, key_status: k.status,
      oneapi_token_id: k.oneapi_token_id !== null ? String(k.oneapi_token_id) : tok?.id ?? null,
      oneapi_token_name: k.oneapi_token_name ?? tok?.name ?? null, token_status: status,
      remain_quota: tok && !tok.deleted ? (tok.unlimited_quota && Number(tok.unlimited_quota) ? 'unlimited' : tok.remain_quota) : null,
      last_used_at: last, problems,
    };
  });
  const withKey = new Set(keys.filter((k) => k.status === 'active').map((k) => k.instance_id));
  for (const i of instances) {
    if (i.deleted_at === null && !withKey.has(i.id)) {
      rows.push({ instance_id: i.id, instance_deleted_at: null, key_id: null, key_status: null, oneapi_token_id: null, oneapi_token_name: null,
        token_status: null, remain_quota: null, last_used_at: null, problems: ['no_key'] });
    }
  }
  rows.sort((a, b) => naturalCompare(a.instance_id, b.instance_id) || naturalCompare(a.key_id ?? '', b.key_id ?? ''));
  return f.problemsOnly ? rows.filter((r) => r.problems.length) : rows;
}

/** "3 problem(s): 1 no_key, 2 token_disabled" */
export function summarizeProblems(rows: OcKeyRow[]): string | null {
  const counts = new Map<string, number>();
  for (const r of rows) for (const p of r.problems) counts.set(p, (counts.get(p) ?? 0) + 1);
  if (!counts.size) return null;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return `${plural(total, 'problem')}: ${[...counts.entries()].map(([k, n]) => `${n} ${k}`).join(', ')}`;
}
