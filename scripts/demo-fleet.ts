// The demo fleet: a generated fleet (the builder the tests use) plus every person, instance and
// server the README's examples name, in the state those examples expect, so each README example
// runs as written against it (tests/e2e/readme-examples.test.ts runs them). Loaded by
// scripts/seed-demo.ts (scripts/demo.sh) and by that test.
import { sql, type Kysely } from 'kysely';
import type { MysqlDB, LegacyPgDB } from '../src/db/types.js';
import { writeAudit } from '../src/fleet/audit/write.js';
import { generateFleet, loadFleet, loadLegacyLogs, type Fleet } from '../tests/support/fixtures.js';

/** The admin_logs action that marks databases holding the demo fleet (scripts/demo.sh --reset checks it). */
export const DEMO_MARKER = 'demo.load';

const PREFIXES = { 'oc-ai-jp-2-': 12, 'oc-ai-jp-1-': 6, 'oc-ai-us-1-': 5, 'oc-ai-sg-1-': 4 };

export interface DemoSummary { servers: number; users: number; instances: number; admins: number; mysqlLogs: number; legacyLogs: number }

/** The fleet with the README's cast put in place (pure: no database). */
export function demoFleet(now: Date): Fleet {
  const until = Math.floor(now.getTime() / 1000);
  const fleet = generateFleet({ seed: 2026, servers: 8, users: 24, logsPerInstance: 20, logsUntil: until, prefixes: PREFIXES });
  const inst = (id: string) => {
    const i = fleet.instances.find((x) => x.id === id);
    if (!i) throw new Error(`demo: no instance ${id}`);
    return i;
  };
  // li.na: the README's example user, active, with an instance and a Telegram binding
  const liNa = { id: '6c1a1f0e-4b7d-4e2a-a1d3-000000000001', email: 'li.na@sayclaw.test', name: '李娜', department: '研发部',
    status: 'active', quota_daily: 200000, telegram_username: 'tg_li_na' };
  fleet.users.push(liNa);
  for (const id of ['oc-ai-jp-2-01', 'oc-ai-jp-2-03', 'oc-ai-jp-2-04', 'oc-ai-jp-2-05', 'oc-ai-jp-2-07', 'oc-ai-jp-2-11', 'oc-ai-sg-1-04']) inst(id).deleted = false;
  inst('oc-ai-jp-2-05').assigned_user_id = liNa.id;
  // assigned in one example, reassigned and unassigned in the next ones
  inst('oc-ai-jp-2-11').assigned_user_id = null;
  // sg-1 is the region the README closes (`instances rm --prefix oc-ai-sg-1- ...`): nobody is on it
  for (const i of fleet.instances) if (i.id.startsWith('oc-ai-sg-1-')) i.assigned_user_id = null;
  // `instances ls --region jp-2 --health unhealthy`
  inst('oc-ai-jp-2-04').health_status = 'unhealthy';
  for (const name of ['jp-2-srv-01', 'jp-2-srv-02']) {
    const s = fleet.servers.find((x) => x.name === name);
    if (!s || s.deleted) throw new Error(`demo: server ${name} must be alive`);
  }
  if (fleet.servers.some((s) => s.name === 'jp-2-srv-04')) throw new Error('demo: jp-2-srv-04 is the one the README adds');
  return fleet;
}

/** Admin accounts the README names (ops is disabled and enabled again; old is removed in a dry run). */
const ADMINS = [
  { email: 'root@sayclaw.test', name: '系统管理员', role: 'root' },
  { email: 'ops@sayclaw.test', name: '运维', role: 'admin' },
  { email: 'old@sayclaw.test', name: '旧账号', role: 'admin' },
];

/** Load the demo fleet into empty databases; writes the DEMO_MARKER audit row last. */
export async function loadDemoFleet(db: Kysely<MysqlDB>, pg: Kysely<LegacyPgDB> | null, now = new Date()): Promise<DemoSummary> {
  const fleet = demoFleet(now);
  await loadFleet(db, fleet);
  // a key of a soft-deleted instance was retired with it (keys oc ls --problems is for real breakage)
  const dead = fleet.instances.filter((i) => i.deleted).map((i) => i.id);
  if (dead.length) await db.updateTable('admin.oc_api_keys').set({ deleted_at: sql`NOW(3)` as never, status: 'revoked' }).where('instance_id', 'in', dead).execute();
  const { default: bcrypt } = await import('bcryptjs');
  for (const a of ADMINS) {
    // nobody logs in to the demo's admin backend: a random password nobody knows
    const hash = await bcrypt.hash(crypto.randomUUID(), 10);
    await db.insertInto('admin.admin_users').values({ id: crypto.randomUUID(), email: a.email, name: a.name, role: a.role, status: 'active', password_hash: hash }).execute();
  }
  await demoHistory(db, fleet, now);
  let legacyLogs = 0;
  if (pg) {
    const legacy = generateFleet({ seed: 2025, servers: 8, users: 24, logsPerInstance: 10, logsUntil: Math.floor(now.getTime() / 1000) - 30 * 86400,
      prefixes: PREFIXES }).logs;
    await loadLegacyLogs(pg, legacy);
    legacyLogs = legacy.length;
  }
  const summary = { servers: fleet.servers.length, users: fleet.users.length, instances: fleet.instances.length, admins: ADMINS.length,
    mysqlLogs: fleet.logs.length, legacyLogs };
  await writeAudit(db, { os_user: 'demo', operator: null }, { action: DEMO_MARKER, target_type: 'demo', target_id: 'demo', after: summary });
  return summary;
}

/**
 * What the README's investigation examples look at: oc-ai-jp-2-07 probed over three days
 * (healthy, then unhealthy with a reason, then healthy again) and soft-deleted by mistake last
 * night and restored (two audit rows with a Chinese reason); and One API tokens in the states
 * `keys oneapi ls --exhausted` and `--status disabled` list (jp-1-06 used up, us-1-05 disabled).
 */
async function demoHistory(db: Kysely<MysqlDB>, fleet: Fleet, now: Date): Promise<void> {
  const ago = (h: number) => new Date(now.getTime() - h * 3600_000);
  const id = 'oc-ai-jp-2-07';
  const probes: Array<[number, string, number, string | null]> = [[72, 'healthy', 200, null], [60, 'healthy', 200, null],
    [48, 'unhealthy', 503, 'readyz: HTTP 503'], [36, 'unhealthy', 503, 'readyz: HTTP 503'], [24, 'healthy', 200, null], [12, 'healthy', 200, null]];
  await db.insertInto('admin.oc_health_logs').values(probes.map(([h, status, http, error]) => ({ id: crypto.randomUUID(), instance_id: id, status,
    live: 1, ready: status === 'healthy' ? 1 : 0, latency_ms: 40, http_status: http, error, via: 'http', checked_at: ago(h) }))).execute();
  const row = fleet.instances.find((i) => i.id === id)!;
  const deletedAt = ago(9).toISOString();
  const base = { id, assigned_user_id: row.assigned_user_id, server_id: row.server_id };
  const entries: Array<[number, string, unknown, unknown, string | null]> = [
    [9, 'instances.rm', { ...base, deleted_at: null }, { ...base, deleted_at: deletedAt }, '离职 (误操作)'],
    [8.5, 'instances.restore', { ...base, deleted_at: deletedAt }, { ...base, deleted_at: null }, '误删, 恢复'],
  ];
  for (const [h, action, before, after, reason] of entries) {
    const logId = crypto.randomUUID();
    await db.insertInto('admin.admin_logs').values({ id: logId, os_user: 'root', operator: '王芳', action, target_type: 'instance', target_id: id,
      before_json: JSON.stringify(before), after_json: JSON.stringify(after), reason, tool: 'sayclaw', created_at: ago(h) } as never).execute();
  }
  const token = (inst: string) => fleet.instances.find((i) => i.id === inst)?.token_name;
  const used = token('oc-ai-jp-1-06');
  if (used) await db.updateTable('oneapi.tokens').set({ status: 4, remain_quota: 0, unlimited_quota: 0 } as never).where('name', '=', used).execute();
  const off = token('oc-ai-us-1-05');
  if (off) await db.updateTable('oneapi.tokens').set({ status: 2 } as never).where('name', '=', off).execute();
}

/** True when these databases hold the demo fleet (its marker row). */
export async function isDemo(db: Kysely<MysqlDB>): Promise<boolean> {
  const r = await db.selectFrom('admin.admin_logs').select('id').where('action', '=', DEMO_MARKER).limit(1).executeTakeFirst();
  return !!r;
}
