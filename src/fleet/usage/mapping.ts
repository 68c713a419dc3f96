// Attribution of One API log rows: token_name -> admin.oc_api_keys.oneapi_token_name (alive
// keys; one instance per token name) -> oc_instances.id -> assigned_user_id -> portal.users
// (department). Rows that map to nothing are reported as UNMAPPED, never dropped.
// MySQL reports join in SQL after aggregating by token; the raw MySQL export joins the keys in
// SQL and maps instance -> user through attributionMaps(); PostgreSQL rows go through tokenMap().
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { crossDbText, sameText } from '../../db/sql-helpers.js';

export const UNMAPPED = '(unmapped)';
/** A mapped user without a department. */
export const NO_DEPARTMENT = '(none)';

/**
 * One row per token name of an alive key (MIN(instance_id) if a name were ever mapped twice).
 * A key names its token by oneapi_token_name and/or oneapi_token_id; both are honoured (the
 * id through oneapi.tokens.name), so a key recorded with only the id still attributes.
 */
export function keysTable(): RawBuilder<unknown> {
  // token names come from two databases: one explicit collation for the UNION and the GROUP BY
  // (exact, so 'Tok' and 'tok' stay two names), and for the join against oneapi.logs (sameText)
  return sql`(SELECT x.token_name AS oneapi_token_name, MIN(x.instance_id) AS instance_id FROM (
      SELECT ${crossDbText('oneapi_token_name')} AS token_name, instance_id FROM ${sql.table('admin.oc_api_keys')}
        WHERE deleted_at IS NULL AND oneapi_token_name IS NOT NULL
      UNION ALL
      SELECT ${crossDbText('t.name')} AS token_name, ok.instance_id FROM ${sql.table('admin.oc_api_keys')} ok
        JOIN ${sql.table('oneapi.tokens')} t ON t.id = ok.oneapi_token_id
        WHERE ok.deleted_at IS NULL AND t.name IS NOT NULL
    ) x GROUP BY x.token_name)`;
}

/** From an alias k with k.instance_id: the instance (i) and its assigned portal user (u). */
export function instanceUserJoins(): RawBuilder<unknown> {
  return sql`LEFT JOIN ${sql.table('admin.oc_instances')} i ON i.id = k.instance_id
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
  /** token_name -> attribution, for rows that come from PostgreSQL */
  byToken: Map<string, Attribution>;
  /** keysTable().instance_id, exactly as MySQL returns it -> attribution (raw MySQL export) */
  byInstance: Map<string, Attribution>;
}

/** The query behind attributionMaps (small: one row per token name of an alive key). */
export function attributionQuery() {
  return sql<{ token_name: string; instance_id: string; user_id: string | null; email: string | null; name: string | null; department: string | null }>`
    SELECT k.oneapi_token_name AS token_name, k.instance_id, u.id AS user_id, u.email, u.name, u.department
    FROM ${keysTable()} k ${instanceUserJoins()}`;
}

export function attributionMaps(rows: Array<{ token_name: string; instance_id: string; user_id: string | null; email: string | null; name: string | null; department: string | null }>): AttributionMaps {
  const byToken = new Map<string, Attribution>();
  const byInstance = new Map<string, Attribution>();
  for (const x of rows) {
    const a: Attribution = {
      instance_id: x.instance_id,
      user_id: x.user_id ?? UNMAPPED,
      user_email: x.email,
      user_name: x.name,
      department: x.user_id === null ? UNMAPPED : (x.department ?? NO_DEPARTMENT),
    };
    byToken.set(x.token_name, a);
    byInstance.set(x.instance_id, a);
  }
  return { byToken, byInstance };
}

/** token_name -> attribution, for rows that come from PostgreSQL. */
export async function tokenMap(db: Kysely<MysqlDB>): Promise<Map<string, Attribution>> {
  return attributionMaps((await attributionQuery().execute(db)).rows).byToken;
}
