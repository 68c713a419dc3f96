// Attribution of One API log rows to an instance, then through oc_instances.assigned_user_id to a
// portal user (department). Two ways to find the instance of a row:
// - by token id (new-api logs carry token_id; token names are not unique there): the row's token
//   -> the alive admin.oc_api_keys row that records that token (by oneapi_token_id, or by a name
//   that exactly one alive token has);
// - by token name (one-api, and new-api rows without a token id): log token_name -> an alive key
//   by oneapi_token_name, or by oneapi_token_id through oneapi.tokens.name.
// A token new-api soft-deleted (tokens.deleted_at) is never used: a key that records it maps
// nothing. Rows that map to nothing are reported as UNMAPPED, never dropped.
// MySQL reports join in SQL after aggregating by token; the raw MySQL export joins the keys in
// SQL and maps instance -> user through attributionMaps(); PostgreSQL rows go through tokenMap().
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { OneApiSchema } from '../../db/oneapi-schema.js';
import type { MysqlDB } from '../../db/types.js';
import { crossDbText, sameText } from '../../db/sql-helpers.js';

export const UNMAPPED = '(unmapped)';
/** A mapped user without a department. */
export const NO_DEPARTMENT = '(none)';

/** Alive One API tokens (new-api keeps soft-deleted rows). */
function aliveTokens(s: OneApiSchema, alias: string): RawBuilder<unknown> {
  return s.has('tokens', 'deleted_at') ? sql`AND ${sql.ref(`${alias}.deleted_at`)} IS NULL` : sql``;
}

/**
 * One row per token name of an alive key (MIN(instance_id) if a name were ever mapped twice).
 * A key names its token by oneapi_token_name and/or oneapi_token_id; both are honoured (the
 * id through oneapi.tokens.name), so a key recorded with only the id still attributes.
 */
export function keysByName(s: OneApiSchema): RawBuilder<unknown> {
  // token names come from two databases: one explicit collation for the UNION and the GROUP BY
  // (exact, so 'Tok' and 'tok' stay two names), and sameText() where they meet the logs
  // a key whose recorded token new-api soft-deleted attributes nothing, by name either
  const notDeleted = s.has('tokens', 'deleted_at')
    ? sql`AND NOT EXISTS (SELECT 1 FROM ${sql.table('oneapi.tokens')} d WHERE d.id = ok.oneapi_token_id AND d.deleted_at IS NOT NULL)` : sql``;
  return sql`(SELECT x.token_name AS oneapi_token_name, MIN(x.instance_id) AS instance_id FROM (
      SELECT ${crossDbText('ok.oneapi_token_name')} AS token_name, ok.instance_id FROM ${sql.table('admin.oc_api_keys')} ok
        WHERE ok.deleted_at IS NULL AND ok.oneapi_token_name IS NOT NULL ${notDeleted}
      UNION ALL
      SELECT ${crossDbText('t.name')} AS token_name, ok.instance_id FROM ${sql.table('admin.oc_api_keys')} ok
        JOIN ${sql.table('oneapi.tokens')} t ON t.id = ok.oneapi_token_id ${aliveTokens(s, 't')}
        WHERE ok.deleted_at IS NULL AND t.name IS NOT NULL
    ) x GROUP BY x.token_name)`;
}

/** One row per alive token id an alive key records (new-api's logs.token_id). */
export function keysById(s: OneApiSchema): RawBuilder<unknown> {
  return sql`(SELECT x.token_id, MIN(x.instance_id) AS instance_id FROM (
      SELECT t.id AS token_id, ok.instance_id FROM ${sql.table('admin.oc_api_keys')} ok
        JOIN ${sql.table('oneapi.tokens')} t ON t.id = ok.oneapi_token_id ${aliveTokens(s, 't')}
        WHERE ok.deleted_at IS NULL
      UNION ALL
      SELECT t.id AS token_id, ok.instance_id FROM ${sql.table('admin.oc_api_keys')} ok
        JOIN (SELECT ${crossDbText('tt.name')} AS name, MIN(tt.id) AS id FROM ${sql.table('oneapi.tokens')} tt WHERE tt.name IS NOT NULL ${aliveTokens(s, 'tt')}
              GROUP BY ${crossDbText('tt.name')} HAVING COUNT(*) = 1) t ON ${sameText('t.name', 'ok.oneapi_token_name')}
        WHERE ok.deleted_at IS NULL AND ok.oneapi_token_id IS NULL
    ) x GROUP BY x.token_id)`;
}

/** True when log rows can be attributed by token id (new-api's logs.token_id). */
export const byTokenId = (s: OneApiSchema) => s.has('logs', 'token_id');

export interface KeyJoin {
  /** LEFT JOINs that find the key of a row */
  joins: RawBuilder<unknown>;
  /** the instance id the row maps to (NULL when none) */
  instance: RawBuilder<string | null>;
}

/**
 * Joins from a log row (its token name and, with new-api, its token id; 0 = none recorded) to
 * the instance: by id when the row has one, else by name.
 */
export function keyJoins(s: OneApiSchema, tokenName: RawBuilder<unknown>, tokenId: RawBuilder<unknown> | null): KeyJoin {
  if (!tokenId || !byTokenId(s)) {
    return { joins: sql`LEFT JOIN ${keysByName(s)} k ON ${sameText('k.oneapi_token_name', tokenName)}`, instance: sql<string | null>`k.instance_id` };
  }
  return {
    joins: sql`LEFT JOIN ${keysById(s)} k ON ${tokenId} > 0 AND k.token_id = ${tokenId}
      LEFT JOIN ${keysByName(s)} kn ON ${tokenId} = 0 AND ${sameText('kn.oneapi_token_name', tokenName)}`,
    instance: sql<string | null>`COALESCE(k.instance_id, kn.instance_id)`,
  };
}

/** From an instance id expression: the instance (i) and its assigned portal user (u). */
export function instanceUserJoins(instance: RawBuilder<unknown> = sql`k.instance_id`): RawBuilder<unknown> {
  return sql`LEFT JOIN ${sql.table('admin.oc_instances')} i ON i.id = ${instance}
    LEFT JOIN ${sql.table('portal.users')} u ON ${sameText('u.id', 'i.assigned_user_id')}`;
}

export interface Attribution {
  instance_id: string;
  user_id: string;
  user_email: string | null;
  user_name: string | null;
  department: string;
}

export const UNMAPPED_ATTRIBUTION: Attribution = {
  instance_id: UNMAPPED, user_id: UNMAPPED, user_email: null, user_name: null, department: UNMAPPED,
};

export interface AttributionMaps {
  /** token_name -> attribution */
  byToken: Map<string, Attribution>;
  /** token id -> attribution (new-api) */
  byTokenId: Map<string, Attribution>;
  /** instance id, exactly as MySQL returns it -> attribution (raw MySQL export) */
  byInstance: Map<string, Attribution>;
}

type MapRow = { token: string; instance_id: string; user_id: string | null; email: string | null; name: string | null; department: string | null };

/** The queries behind attributionMaps (small: one row per token of an alive key), by name and (new-api) by id. */
export function attributionQueries(s: OneApiSchema) {
  const q = (k: RawBuilder<unknown>, token: string) => sql<MapRow>`
    SELECT ${sql.ref(`k.${token}`)} AS token, k.instance_id, u.id AS user_id, u.email, u.name, u.department
    FROM ${k} k ${instanceUserJoins()}`;
  return { byName: q(keysByName(s), 'oneapi_token_name'), byId: byTokenId(s) ? q(keysById(s), 'token_id') : null };
}

export function attributionMaps(byName: MapRow[], byId: MapRow[] = []): AttributionMaps {
  const out: AttributionMaps = { byToken: new Map(), byTokenId: new Map(), byInstance: new Map() };
  const add = (rows: MapRow[], m: Map<string, Attribution>) => {
    for (const x of rows) {
      const a: Attribution = {
        instance_id: x.instance_id,
        user_id: x.user_id ?? UNMAPPED,
        user_email: x.email,
        user_name: x.name,
        department: x.user_id === null ? UNMAPPED : (x.department ?? NO_DEPARTMENT),
      };
      m.set(String(x.token), a);
      out.byInstance.set(x.instance_id, a);
    }
  };
  add(byName, out.byToken);
  add(byId, out.byTokenId);
  return out;
}

/** The maps for rows that come from PostgreSQL (read from MySQL's keys and tokens). */
export async function tokenMaps(db: Kysely<MysqlDB>, s: OneApiSchema): Promise<AttributionMaps> {
  const q = attributionQueries(s);
  const [a, b] = await Promise.all([q.byName.execute(db), q.byId ? q.byId.execute(db) : Promise.resolve({ rows: [] as MapRow[] })]);
  return attributionMaps(a.rows, b.rows);
}

/** The attribution of a PostgreSQL row: by token id when it carries one that is mapped, else by name. */
export function attributeRow(m: AttributionMaps, tokenName: string | null, tokenId: string | null): Attribution {
  if (tokenId !== null && tokenId !== '0') return m.byTokenId.get(tokenId) ?? UNMAPPED_ATTRIBUTION;
  return m.byToken.get(tokenName ?? '') ?? UNMAPPED_ATTRIBUTION;
}
