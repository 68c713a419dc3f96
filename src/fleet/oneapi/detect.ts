// The One API side of a run, read once per run and only by the verbs that read One API tables
// (usage, keys, users show, doctor; never instances ls): the flavour of its tables (one catalog
// query), the legacy PostgreSQL's vintage, and QuotaPerUnit (config, else One API's options row).
import type { Context } from '../../context.js';
import { describeOneApi, readMysqlOneApi, readPgOneApi, type OneApiSchema } from '../../db/oneapi-schema.js';
import { DEFAULT_QUOTA_RATE, parseQuotaRate, type QuotaRate } from '../usage/money.js';

const mysqlSchemas = new WeakMap<Context, Promise<OneApiSchema>>();
const pgSchemas = new WeakMap<Context, Promise<OneApiSchema>>();
const rates = new WeakMap<Context, Promise<QuotaRate>>();

function once<T>(map: WeakMap<Context, Promise<T>>, ctx: Context, make: () => Promise<T>): Promise<T> {
  let p = map.get(ctx);
  if (!p) { p = make(); map.set(ctx, p); }
  return p;
}

/** The One API tables in MySQL: the oneapi database, and logs where mysql.databases.logs says. */
export function oneApiSchema(ctx: Context): Promise<OneApiSchema> {
  return once(mysqlSchemas, ctx, async () => {
    const { db, names } = await ctx.mysql();
    return describeOneApi(await readMysqlOneApi(db, names.oneapi, names.logs ?? names.oneapi));
  });
}

/** The One API tables in the PostgreSQL database (legacy copy, or LOG_SQL_DSN's logs). */
export function pgOneApiSchema(ctx: Context): Promise<OneApiSchema> {
  return once(pgSchemas, ctx, async () => describeOneApi(await readPgOneApi((await ctx.pg()).db)));
}

/**
 * Quota per USD: usage.quotaPerUsd when configured; else One API's own QuotaPerUnit option (a
 * Go float written as text, parsed exactly); else One API's default, 500000.
 */
export function quotaPerUnit(ctx: Context): Promise<QuotaRate> {
  return once(rates, ctx, async () => {
    const lc = ctx.loadedConfig();
    const configured = lc.config.usage.quotaPerUsd;
    if (configured !== null) {
      const r = parseQuotaRate(configured, `config usage.quotaPerUsd (${lc.sources['usage.quotaPerUsd'] ?? 'config'})`);
      if (r) return r;
    }
    const { db, names } = await ctx.mysql();
    // read beside the catalog query (no extra round trip before it); a missing table is fine
    const [schema, row] = await Promise.all([
      oneApiSchema(ctx),
      db.selectFrom('oneapi.options').select('value').where('key', '=', 'QuotaPerUnit').executeTakeFirst()
        .catch((e: { code?: string; errno?: number }) => { if (e.code === 'ER_NO_SUCH_TABLE' || e.errno === 1146) return undefined; throw e; }),
    ]);
    if (!schema.tables.has('options') || row?.value === undefined || row.value === null) return DEFAULT_QUOTA_RATE;
    const r = parseQuotaRate(row.value, `One API ${names.oneapi}.options QuotaPerUnit`);
    if (r) return r;
    ctx.warn(`${names.oneapi}.options QuotaPerUnit is not a positive number; using 500000 (set usage.quotaPerUsd to choose)`);
    return DEFAULT_QUOTA_RATE;
  });
}
