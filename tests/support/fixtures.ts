// Fixture builder: realistic fleets of any size (regions, Chinese names, soft-deleted rows,
// ids 01..15 and beyond, assignments in all three places, One API tokens and logs).
// Deterministic for a given seed. Also used by scripts/seed-demo.ts for the demo fleet.
// All server addresses are loopback (127.x): nothing here points at another host.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB, LegacyPgDB } from '../../src/db/types.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

const SURNAMES = ['张', '王', '李', '赵', '陈', '刘', '杨', '黄', '周', '吴', '徐', '孙'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明', '超'];
const PINYIN_S = ['zhang', 'wang', 'li', 'zhao', 'chen', 'liu', 'yang', 'huang', 'zhou', 'wu', 'xu', 'sun'];
const PINYIN_G = ['wei', 'fang', 'na', 'min', 'jing', 'lei', 'yang', 'yan', 'yong', 'jun', 'jie', 'juan', 'tao', 'ming', 'chao'];
export const DEPARTMENTS = ['研发部', '市场部', '销售部', '人力资源部', 'Operations'];
export const MODELS = ['claude-sonnet-4', 'gpt-4o', 'deepseek-chat', 'qwen-max'];
export const REGIONS = ['jp-2', 'jp-1', 'us-west-1', 'sg-1'];

export interface FleetSpec {
  seed?: number;
  /** instances per id prefix, e.g. { 'oc-ai-jp-2-': 15, 'oc-ai-us-1-': 5 } */
  prefixes?: Record<string, number>;
  /** extra instances with arbitrary ids (for property tests) */
  extraIds?: string[];
  servers?: number;
  users?: number;
  /** fraction of instances soft-deleted */
  deletedRatio?: number;
  /** fraction of alive instances with no user */
  unassignedRatio?: number;
  /** One API consume logs per instance (MySQL oneapi.logs) */
  logsPerInstance?: number;
  /** unix seconds: logs are spread over the 7 days before this */
  logsUntil?: number;
  /** zero-padding width of the numeric suffix (2 gives 01..09, 10, ...) */
  pad?: number;
}

export interface FleetServer { id: string; name: string; ip: string; region: string; provider: string; deleted: boolean }
export interface FleetUser { id: string; email: string; name: string; department: string; status: string; quota_daily: number; telegram_username: string | null }
export interface FleetInstance {
  id: string; server_id: string; assigned_user_id: string | null; model: string; health_status: string;
  gateway_token: string; deleted: boolean; token_name: string; token_id: number;
  total_requests: string; total_tokens: string;
}
export interface FleetLog {
  created_at: number; type: number; token_name: string; model_name: string; quota: number; prompt_tokens: number; completion_tokens: number;
  channel_id: number; username: string;
  /** new-api logs.token_id (0 = not recorded); when undefined the loader looks the name up among the fleet's tokens */
  token_id?: number;
  /** new-api logs.other (JSON text) */
  other?: string;
}
export interface Fleet { servers: FleetServer[]; users: FleetUser[]; instances: FleetInstance[]; logs: FleetLog[] }

const uuid = (r: () => number): string => {
  const h = () => Math.floor(r() * 16).toString(16);
  const s = (n: number) => Array.from({ length: n }, h).join('');
  return `${s(8)}-${s(4)}-4${s(3)}-a${s(3)}-${s(12)}`;
};
const hex = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

async function insertChunked<T>(rows: T[], size: number, fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await fn(rows.slice(i, i + size));
}

export function generateFleet(spec: FleetSpec = {}): Fleet {
  const r = rng(spec.seed ?? 42);
  const pad = spec.pad ?? 2;
  const nServers = spec.servers ?? 6;
  const servers: FleetServer[] = Array.from({ length: nServers }, (_, i) => {
    const region = REGIONS[i % REGIONS.length]!;
    return {
      id: uuid(r), name: `${region}-srv-${String(Math.floor(i / REGIONS.length) + 1).padStart(2, '0')}`,
      ip: `127.0.${10 + (i % 200)}.${1 + Math.floor(i / 200)}`, region,
      provider: i % 3 === 2 ? 'aws' : 'gcp', deleted: i === nServers - 1 && nServers > 4,
    };
  });
  const nUsers = spec.users ?? 20;
  const users: FleetUser[] = Array.from({ length: nUsers }, (_, i) => {
    const s = i % SURNAMES.length;
    const g = Math.floor(i / SURNAMES.length) % GIVEN.length;
    return {
      id: uuid(r), email: `${PINYIN_S[s]}.${PINYIN_G[g]}${i >= SURNAMES.length * GIVEN.length ? i : ''}@sayclaw.test`,
      name: `${SURNAMES[s]}${GIVEN[g]}`, department: DEPARTMENTS[i % DEPARTMENTS.length]!,
      status: i % 9 === 8 ? 'revoked' : 'active', quota_daily: 100000 * (1 + (i % 3)),
      telegram_username: i % 4 === 0 ? null : `tg_${PINYIN_S[s]}_${i}`,
    };
  });
  const activeUsers = users.filter((u) => u.status === 'active');
  const aliveServers = servers.filter((s) => !s.deleted);
  const ids: string[] = [];
  for (const [prefix, n] of Object.entries(spec.prefixes ?? { 'oc-ai-jp-2-': 15, 'oc-ai-jp-1-': 4, 'oc-ai-us-1-': 5, 'oc-ai-sg-1-': 3 })) {
    for (let i = 1; i <= n; i++) ids.push(`${prefix}${String(i).padStart(pad, '0')}`);
  }
  ids.push(...(spec.extraIds ?? []));
  const deletedRatio = spec.deletedRatio ?? 0.15;
  const unassignedRatio = spec.unassignedRatio ?? 0.2;
  let userIdx = 0;
  const instances: FleetInstance[] = ids.map((id, i) => {
    const deleted = r() < deletedRatio;
    const region = /jp-2/.test(id) ? 'jp-2' : /jp-1/.test(id) ? 'jp-1' : /us/.test(id) ? 'us-west-1' : /sg/.test(id) ? 'sg-1' : null;
    const candidates = aliveServers.filter((s) => s.region === region);
    const pool = candidates.length ? candidates : aliveServers.length ? aliveServers : servers;
    const server = pool[i % pool.length]!;
    const assigned = !deleted && r() >= unassignedRatio && activeUsers.length ? activeUsers[userIdx++ % activeUsers.length]! : null;
    return {
      id, server_id: server.id, assigned_user_id: assigned?.id ?? null,
      model: MODELS[i % MODELS.length]!, health_status: ['healthy', 'healthy', 'healthy', 'unhealthy', 'unknown'][i % 5]!,
      gateway_token: `gwt_${hex(r, 40)}`, deleted, token_name: `oc-${id}`, token_id: i + 1,
      total_requests: String(Math.floor(r() * 5000)), total_tokens: String(Math.floor(r() * 9e12)),
    };
  });
  const logs: FleetLog[] = [];
  const until = spec.logsUntil ?? Math.floor(Date.UTC(2026, 10, 20) / 1000);
  const per = spec.logsPerInstance ?? 3;
  for (const inst of instances) {
    for (let k = 0; k < per; k++) {
      const pt = Math.floor(r() * 4000);
      const ct = Math.floor(r() * 2000);
      logs.push({
        created_at: until - Math.floor(r() * 7 * 86400), type: 2, token_name: inst.token_name, token_id: inst.token_id, model_name: inst.model,
        quota: pt + ct * 3, prompt_tokens: pt, completion_tokens: ct, channel_id: 1 + (k % 3), username: 'sayclaw',
      });
    }
  }
  return { servers, users, instances, logs };
}

/** Insert a generated fleet through a Kysely handle with the logical database names. */
export async function loadFleet(db: Kysely<MysqlDB>, fleet: Fleet, created = new Date(Date.UTC(2026, 9, 1)),
  opts: { logsTable?: 'oneapi.logs' | 'oneapi_logs.logs' } = {}): Promise<void> {
  const del = new Date(Date.UTC(2026, 10, 1));
  await insertChunked(fleet.servers, 500, (c) => db.insertInto('admin.servers').values(c.map((s) => ({
    id: s.id, name: s.name, ip: s.ip, region: s.region, provider: s.provider, cpu_cores: 8, memory_gb: 32, disk_gb: 200,
    status: 'active', ssh_user: 'root', ssh_port: 22, docker_port: 2376, notes: null, created_at: created,
    deleted_at: s.deleted ? del : null,
  }))).execute());
  await insertChunked(fleet.users, 500, (c) => db.insertInto('portal.users').values(c.map((u, i) => ({
    id: u.id, email: u.email, name: u.name, password_hash: hexHash(u.email), google_id: null, department: u.department,
    status: u.status, quota_daily: u.quota_daily, created_at: created, revoked_at: u.status === 'revoked' ? del : null,
    telegram_user_id: u.telegram_username ? String(7000000000 + i) : null, telegram_username: u.telegram_username,
    telegram_bound_at: u.telegram_username ? created : null,
  }))).execute());
  const userById = new Map(fleet.users.map((u) => [u.id, u]));
  await insertChunked(fleet.instances, 1000, (c) => db.insertInto('admin.oc_instances').values(c.map((x, i) => ({
    id: x.id, container_id: `c${hex(rng(i + 7), 11)}`, server_id: x.server_id, assigned_user_id: x.assigned_user_id,
    name: x.id, gateway_port: 18789 + (i % 1000), gateway_url: `http://127.0.0.1:${18789 + (i % 1000)}`,
    gateway_token: x.gateway_token, model: x.model, health_status: x.health_status, health_fail_count: x.health_status === 'unhealthy' ? 3 : 0,
    total_requests: x.total_requests, total_tokens: x.total_tokens,
    last_health_at: x.health_status === 'unknown' ? null : new Date(Date.UTC(2026, 10, 20, 3, 0, 0)),
    created_at: created, deleted_at: x.deleted ? del : null, notes: null,
    config_json: JSON.stringify({ agent: { model: x.model }, gateway: { port: 18789, token: x.gateway_token },
      channels: { telegram: { enabled: true, botToken: `12345:${x.gateway_token.slice(4, 30)}` } } }),
  }))).execute());
  const assigned = fleet.instances.filter((x) => x.assigned_user_id);
  await insertChunked(assigned, 1000, (c) => db.insertInto('admin.instance_users').values(c.map((x) => ({
    instance_id: x.id, user_email: userById.get(x.assigned_user_id!)!.email, assigned_at: created,
  }))).execute());
  await insertChunked(assigned, 1000, (c) => db.insertInto('portal.user_instances').values(c.map((x) => {
    const u = userById.get(x.assigned_user_id!)!;
    return {
      user_id: u.id, instance_id: x.id, tg_user_id: u.telegram_username ? '7100000001' : null, tg_username: u.telegram_username,
      tg_bound_at: u.telegram_username ? created : null, tg_bot_token: u.telegram_username ? `99999:${x.gateway_token.slice(5, 33)}` : null,
      tg_bot_username: u.telegram_username ? `${x.id.replace(/-/g, '_')}_bot` : null, profession_id: null, setup_status: 'ready' as const,
    };
  })).execute());
  const tokenCols = await mysqlColumns(db, 'oneapi.tokens');
  await insertChunked(fleet.instances, 1000, (c) => db.insertInto('oneapi.tokens').values(c.map((x) => onlyColumns(tokenCols, {
    id: String(x.token_id), user_id: '1', key: hex(rng(x.token_id), 48), status: '1', name: x.token_name,
    created_time: String(Math.floor(created.getTime() / 1000)), accessed_time: String(Math.floor(created.getTime() / 1000)),
    expired_time: '-1', remain_quota: '5000000', unlimited_quota: 0, used_quota: '12345', models: '', subnet: '',
  }))).execute());
  await insertChunked(fleet.instances, 1000, (c) => db.insertInto('admin.oc_api_keys').values(c.map((x) => ({
    id: `k-${x.token_id}-${x.id}`.slice(0, 36), instance_id: x.id, oneapi_token_id: String(x.token_id), oneapi_token_name: x.token_name,
    key_hint: null, status: 'active', last_used_at: null, created_at: created, deleted_at: null,
  }))).execute());
  await loadLogs(db, fleet.logs, fleet, opts.logsTable);
}

/**
 * Insert log rows into MySQL (`oneapi.logs`, or `oneapi_logs.logs` for a LOG_SQL_DSN database),
 * with the columns the live table has: new-api rows get token_id (the fleet token of that name
 * unless the row names one), use_time, other.
 */
export async function loadLogs(db: Kysely<MysqlDB>, logs: FleetLog[], fleet?: Pick<Fleet, 'instances'>, table: 'oneapi.logs' | 'oneapi_logs.logs' = 'oneapi.logs'): Promise<void> {
  const cols = await mysqlColumns(db, table);
  const ids = new Map((fleet?.instances ?? []).map((i) => [i.token_name, i.token_id]));
  await insertChunked(logs, 2000, (c) => db.insertInto(table as 'oneapi.logs').values(c.map((l) =>
    onlyColumns(cols, { ...logValues(l, ids), is_stream: 0, system_prompt_reset: 0 }))).execute());
}

function logValues(l: FleetLog, ids: Map<string, number>) {
  return {
    user_id: '1', created_at: String(l.created_at), type: String(l.type), content: '', username: l.username,
    token_name: l.token_name, model_name: l.model_name, quota: String(l.quota), prompt_tokens: String(l.prompt_tokens),
    completion_tokens: String(l.completion_tokens), channel_id: String(l.channel_id), request_id: '', elapsed_time: '100',
    token_id: String(l.token_id ?? ids.get(l.token_name) ?? 0), use_time: '1', other: l.other ?? '', group: 'default', ip: '',
  };
}

/** Insert log rows into the legacy PostgreSQL (the columns its vintage has). */
export async function loadLegacyLogs(db: Kysely<LegacyPgDB>, logs: FleetLog[], fleet?: Pick<Fleet, 'instances'>): Promise<void> {
  const r = await sql<{ column_name: string }>`SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'logs'`.execute(db);
  const cols = new Set(r.rows.map((x) => x.column_name));
  const ids = new Map((fleet?.instances ?? []).map((i) => [i.token_name, i.token_id]));
  await insertChunked(logs, 2000, (c) => db.insertInto('logs').values(c.map((l) =>
    onlyColumns(cols, { ...logValues(l, ids), is_stream: false, system_prompt_reset: false }))).execute());
}

/** The columns of a MySQL table (logical name, e.g. 'oneapi.tokens'). */
export async function mysqlColumns(db: Kysely<MysqlDB>, table: string): Promise<Set<string>> {
  const r = await sql<{ Field: string }>`SHOW COLUMNS FROM ${sql.table(table)}`.execute(db);
  return new Set(r.rows.map((x) => x.Field));
}

/** The row without the keys the table lacks (each flavour has its own columns). */
export function onlyColumns<T extends Record<string, unknown>>(cols: Set<string>, row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([k]) => cols.has(k))) as T;
}

function hexHash(s: string): string {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(8);
}

/**
 * Many one-api consume rows at once, made by MariaDB's sequence engine (seq_1_to_N): row seq is at
 * base + (seq * step) % spread, its token the (seq mod n)-th of `tokens` (plus an unmapped
 * 'stray' one with `stray`), gpt-4o or qwen-max, quota seq % 5000.
 */
export async function insertSequenceLogs(db: Kysely<MysqlDB>, oneapiDb: string,
  o: { base: number; count: number; tokens: string[]; step?: number; spread?: number; stray?: boolean }): Promise<void> {
  const names = [...o.tokens, ...(o.stray ? ['stray'] : [])].map((n) => `'${n.replace(/'/g, "''")}'`).join(',');
  const n = o.tokens.length + (o.stray ? 1 : 0);
  await sql.raw(`INSERT INTO \`${oneapiDb}\`.logs (user_id, created_at, type, content, username, token_name, model_name, quota,
      prompt_tokens, completion_tokens, channel_id, request_id, elapsed_time, is_stream, system_prompt_reset)
    SELECT 1, ${o.base} + (seq * ${o.step ?? 7}) % ${o.spread ?? 6 * 86400}, 2, '', 'u', ELT(1 + seq % ${n}, ${names}),
      IF(seq % 2 = 0, 'gpt-4o', 'qwen-max'), seq % 5000, seq % 300, seq % 100, 1, '', 1, 0, 0
    FROM \`${oneapiDb}\`.seq_1_to_${o.count}`).execute(db);
}

