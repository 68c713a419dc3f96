// The raw export's MySQL byte path against real MariaDB, in both One API flavours (new-api
// attributes by token id): token names, model names, departments and emails holding commas,
// quotes, CR/LF, tabs, backslashes, control characters, Chinese and emoji; NULL cells; negative,
// huge (past 2^53) and NULL quotas; a DST week in Berlin; two quota rates (one whose costs round).
// Every format is checked (1) cell by cell against an oracle computed here from the rows in the
// database and the fleet arrays (CSV parsed by an RFC 4180 parser written here), and (2) byte for
// byte against the mysql2 path's output for the same rows: the byte path is left by making
// channel_id a DECIMAL column, which it does not take. A ZEROFILL column keeps mysql2's value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2';
import { sql } from 'kysely';
import { Decimal } from 'decimal.js';
import { DateTime } from 'luxon';
import { createTestEnv, type TestEnv } from '../support/testenv.js';
import { generateFleet, loadFleet, rng, type Fleet, type FleetLog } from '../support/fixtures.js';
import { mysqlParts } from '../support/services.js';
import type { MysqlFlavour } from '../support/oneapi-flavours.js';
import { describeOneApi, readMysqlOneApi } from '../../src/db/oneapi-schema.js';
import { mysqlConnectionOptions } from '../../src/db/mysql.js';
import { mysqlRawSelect, rawMysqlRows, RAW_COLUMNS, isoFormatter } from '../../src/fleet/usage/export.js';
import { encoder, type Sink } from '../../src/output/sink.js';
import { DEFAULT_QUOTA_RATE } from '../../src/fleet/usage/money.js';
import { UNMAPPED_ATTRIBUTION } from '../../src/fleet/usage/mapping.js';
import type { RawColumn } from '../../src/db/mysql-raw.js';

const ZONE = 'Europe/Berlin';
const FROM = Math.floor(Date.UTC(2026, 9, 21, 22) / 1000); // 2026-10-22 00:00 CEST
const TO = Math.floor(Date.UTC(2026, 9, 28, 23) / 1000); // 2026-10-29 00:00 CET
const TOKENS = ['oc,comma', 'oc"quote"', 'oc\nnewline', 'oc\r\ncrlf', 'oc\ttab', 'oc\\back\\slash', 'oc\u0001ctl\u001f', '研发部-令牌,"一"', 'emoji😀tok', ' lead space'];
const STRAYS = ['stray,"x"\n', '未知令牌', 'plain-stray', ''];
const DEPTS = ['R&D, "Core"\nTeam', '市场部\r\n北京', 'back\\slash', '人力资源部', 'tab\tdept'];
const MODELS = ['gpt-4o', 'model,"x"', '模型\n名', 'q\\w'];
const RATES = [[], ['--set', 'usage.quotaPerUsd=7.5']];
const FORMATS = ['csv', 'json', 'ndjson'] as const;

/** RFC 4180: fields split on commas, quoted fields may hold commas, "" and CR/LF; rows end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let v = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') { v += '"'; i += 2; } else if (text[i] === '"') { i++; break; } else v += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && !(text[i] === '\r' && text[i + 1] === '\n')) v += text[i++];
    }
    row.push(v);
    if (text[i] === ',') i++;
    else if (text[i] === '\r' && text[i + 1] === '\n') { rows.push(row); row = []; i += 2; } else if (i < text.length) throw new Error(`bad CSV at ${i}`);
  }
  return rows;
}

describe.each(['one-api', 'new-api'] as MysqlFlavour[])('%s', (flavour) => {
  let t: TestEnv;
  let fleet: Fleet;
  const env = { SAYCLAW_PG_URL: 'postgres://postgres@127.0.0.1:1/unused', SAYCLAW_USAGE_TIMEZONE: ZONE };

  beforeAll(async () => {
    t = await createTestEnv({ withPg: false, flavour });
    fleet = generateFleet({ seed: 23, logsPerInstance: 0 });
    fleet.instances.forEach((x, i) => { if (i < TOKENS.length) x.token_name = TOKENS[i]!; });
    fleet.users.forEach((u, i) => {
      u.department = DEPTS[i % DEPTS.length]!;
      if (i % 3 === 0) u.email = `"u${i},x"@sayclaw.test`;
    });
    const r = rng(5);
    const names = [...fleet.instances.map((x) => x.token_name), ...STRAYS];
    const logs: FleetLog[] = [];
    for (let k = 0; k < 4000; k++) {
      const pt = Math.floor(r() * 5000);
      const ct = Math.floor(r() * 3000);
      const token = names[Math.floor(r() * names.length)]!;
      logs.push({ created_at: FROM - 3600 + Math.floor(r() * (TO - FROM + 7200)), type: r() < 0.1 ? 6 : 2, token_name: token,
        token_id: STRAYS.includes(token) ? 0 : undefined,
        model_name: MODELS[k % MODELS.length]!, quota: r() < 0.05 ? -Math.floor(r() * 9000) : pt + 3 * ct, prompt_tokens: pt, completion_tokens: ct,
        channel_id: 1 + (k % 4), username: 'sayclaw' });
    }
    await loadFleet(t.db, { ...fleet, logs });
    // NULL cells, and quotas past what a JS number holds exactly
    const tbl = `\`${t.names.oneapi}\`.logs`;
    await sql.raw(`UPDATE ${tbl} SET model_name = NULL WHERE id % 17 = 0`).execute(t.db);
    await sql.raw(`UPDATE ${tbl} SET token_name = NULL WHERE id % 29 = 0`).execute(t.db);
    await sql.raw(`UPDATE ${tbl} SET quota = NULL WHERE id % 31 = 0`).execute(t.db);
    await sql.raw(`UPDATE ${tbl} SET channel_id = NULL WHERE id % 37 = 0`).execute(t.db);
    await sql.raw(`UPDATE ${tbl} SET quota = CASE id % 4 WHEN 0 THEN 9007199254740993 WHEN 1 THEN -99999999999999999 WHEN 2 THEN 123456789012345 ELSE 15000000001 END WHERE id % 41 = 0`).execute(t.db);
  }, 120000);
  afterAll(async () => { await t?.close(); });

  const exportArgs = (format: string, rate: string[], out: string) => [...rate, '--set', `usage.legacyUntil=${FROM - 86400}`, 'usage', 'export', '--raw',
    '--since', '2026-10-22', '--until', '2026-10-28', '--types', '2,6', '--format', format, '--out', out, '--quiet'];

  /** What every row must say: read from the database here, attributed from the fleet arrays. */
  async function oracle(rate: string[]) {
    const rows = (await sql<Record<string, string | null>>`SELECT id, created_at, type, token_name, model_name, channel_id, prompt_tokens, completion_tokens, quota,
        ${sql.raw(flavour === 'new-api' ? 'token_id' : 'NULL')} AS token_id
      FROM ${sql.table('oneapi.logs')} WHERE created_at >= ${FROM} AND created_at < ${TO} AND type IN (2, 6)`.execute(t.db)).rows;
    // new-api logs carry token_id: a non-zero one decides, else the name
    const inst = new Map(fleet.instances.map((x) => [x.token_name, x]));
    const byId = new Map(fleet.instances.map((x) => [String(x.token_id), x]));
    const users = new Map(fleet.users.map((u) => [u.id, u]));
    const per = new Decimal(rate.length ? '7.5' : '500000');
    return new Map(rows.map((l) => {
      const i = l.token_id !== null && l.token_id !== '0' ? byId.get(String(l.token_id)) : l.token_name === null ? undefined : inst.get(l.token_name);
      const u = i?.assigned_user_id ? users.get(i.assigned_user_id) : undefined;
      const created = Number(l.created_at);
      return [String(l.id), {
        source: 'mysql', id: String(l.id), created_at: DateTime.fromSeconds(created, { zone: ZONE }).toISO({ suppressMilliseconds: true }),
        type: String(l.type), token_name: l.token_name, instance_id: i?.id ?? '(unmapped)', user_id: u?.id ?? '(unmapped)', user_email: u?.email ?? null,
        department: u ? u.department : '(unmapped)', model_name: l.model_name, channel_id: l.channel_id === null ? null : String(l.channel_id),
        prompt_tokens: String(l.prompt_tokens), completion_tokens: String(l.completion_tokens), quota: l.quota === null ? null : String(l.quota),
        cost_usd: l.quota === null ? null : new Decimal(String(l.quota)).div(per).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed(6).replace(/^-(0\.0+)$/, '$1'),
      } as Record<string, string | null>];
    }));
  }

  /** Rows of an export as objects (CSV: NULL and '' are both empty, so the oracle's NULLs compare as ''). */
  function rowsOf(format: string, text: string): Array<Record<string, string | null>> {
    if (format === 'json') return JSON.parse(text);
    if (format === 'ndjson') return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const [head, ...rows] = parseCsv(text);
    expect(head).toEqual([...RAW_COLUMNS]);
    return rows.map((r) => Object.fromEntries(head!.map((c, i) => [c, r[i]!])));
  }

  test('the raw SELECT\'s real columns take the byte path (and a DECIMAL or ZEROFILL column does not)', async () => {
    const schema = describeOneApi(await readMysqlOneApi(t.db, t.names.oneapi, t.names.oneapi));
    const columnsOf = async () => {
      const q = mysqlRawSelect(schema, { from: FROM, to: TO }, [2]).compile(t.db);
      const m = mysqlParts();
      const conn = createConnection({ ...mysqlConnectionOptions({ host: m.host, port: m.port, user: m.user, timezone: '+00:00', connectTimeoutMs: 5000 } as Parameters<typeof mysqlConnectionOptions>[0], m.password || null) });
      try {
        return await new Promise<RawColumn[]>((res, rej) => conn.query({ sql: `${q.sql} LIMIT 0`, values: q.parameters as unknown[] }, (e, _r, f) => (e ? rej(e) : res(f as unknown as RawColumn[]))));
      } finally { conn.destroy(); }
    };
    const accepts = async () => rawMysqlRows(encoder('csv', [...RAW_COLUMNS]).parts, isoFormatter('UTC'), DEFAULT_QUOTA_RATE, () => UNMAPPED_ATTRIBUTION, {} as Sink).accept(await columnsOf());
    expect(await accepts()).toBe(true);
    const tbl = `\`${t.names.oneapi}\`.logs`;
    try {
      await sql.raw(`ALTER TABLE ${tbl} MODIFY channel_id DECIMAL(20,0)`).execute(t.db);
      expect(await accepts()).toBe(false);
      await sql.raw(`ALTER TABLE ${tbl} MODIFY channel_id INT(6) ZEROFILL`).execute(t.db);
      expect(await accepts()).toBe(false);
    } finally {
      await sql.raw(`ALTER TABLE ${tbl} MODIFY channel_id BIGINT`).execute(t.db);
    }
  }, 60000);

  test('every format, two rates: each cell equals the oracle (quoting, escapes, UTF-8, NULLs, money), and the bytes equal the mysql2 path\'s', async () => {
    const outputs = new Map<string, Buffer>();
    for (const rate of RATES) {
      const want = await oracle(rate);
      for (const format of FORMATS) {
        const out = join(t.tmp, `fast-${rate.length}.${format}`);
        const r = await t.run(exportArgs(format, rate, out), { env });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const bytes = readFileSync(out);
        outputs.set(`${rate.length}-${format}`, bytes);
        const got = rowsOf(format, bytes.toString('utf8'));
        expect(got.length).toBe(want.size);
        for (const g of got) {
          const w = want.get(g.id!)!;
          expect(g).toEqual(format === 'csv' ? Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v ?? ''])) : w);
        }
      }
    }
    // the hostile cells were there, and rows span the sink's 256 KB chunks
    const csv = outputs.get('0-csv')!.toString('utf8');
    for (const s of ['"oc,comma"', '"oc""quote"""', '"oc\nnewline"', '"oc\r\ncrlf"', '研发部-令牌', 'emoji😀tok', '"R&D, ""Core""\nTeam"', '9007199254740993', '-99999999999999999']) expect(csv).toContain(s);
    expect(outputs.get('0-json')!.toString('utf8')).toContain('"oc\\\\back\\\\slash"');
    expect(outputs.get('0-json')!.toString('utf8')).toContain('"oc\\u0001ctl\\u001f"');
    expect(outputs.get('0-csv')!.length).toBeGreaterThan(300 * 1024);
    // the same exports through the mysql2 path (channel_id as DECIMAL: the byte path declines)
    const tbl = `\`${t.names.oneapi}\`.logs`;
    await sql.raw(`ALTER TABLE ${tbl} MODIFY channel_id DECIMAL(20,0)`).execute(t.db);
    try {
      for (const rate of RATES) {
        for (const format of FORMATS) {
          const out = join(t.tmp, `mysql2-${rate.length}.${format}`);
          const r = await t.run(exportArgs(format, rate, out), { env });
          expect(r.code).toBe(0);
          expect(readFileSync(out).equals(outputs.get(`${rate.length}-${format}`)!)).toBe(true);
        }
      }
      // ZEROFILL: the value mysql2 gives (a number, zeros dropped), as before
      await sql.raw(`ALTER TABLE ${tbl} MODIFY channel_id INT(6) ZEROFILL`).execute(t.db);
      const out = join(t.tmp, 'zerofill.csv');
      expect((await t.run(exportArgs('csv', [], out), { env })).code).toBe(0);
      const rows = rowsOf('csv', readFileSync(out, 'utf8'));
      const want = await oracle([]);
      expect(rows.every((x) => x.channel_id === (want.get(x.id!)!.channel_id ?? ''))).toBe(true);
    } finally {
      await sql.raw(`ALTER TABLE ${tbl} MODIFY channel_id BIGINT`).execute(t.db);
    }
  }, 180000);
});
