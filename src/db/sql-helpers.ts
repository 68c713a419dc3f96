// SQL fragments used everywhere: the one LIKE-prefix helper, exact equality (eqExact, inExact,
// eqEmail), comparisons across databases (sameText), and small shared expressions.
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';

export type Dialect = 'mysql' | 'pg';
/** A column name ('i.id') or an expression. */
export type Column = string | Expression<unknown>;
const ref = (c: Column): Expression<unknown> => (typeof c === 'string' ? sql.ref(c) : c);

/** Escape a literal for LIKE with '!' as the escape character. */
export function escapeLike(literal: string): string {
  return literal.replace(/[!%_]/g, (c) => `!${c}`);
}

/**
 * `column LIKE 'prefix%' ESCAPE '!'`: prefix is matched literally (%, _ and ! are plain).
 * On MySQL the first condition uses the column's collation (so the primary-key range is used);
 * the second repeats it under the binary collation so the match is exact and case-sensitive,
 * like JavaScript's startsWith. PostgreSQL's LIKE is already exact.
 */
export function likePrefix(column: Column, prefix: string, dialect: Dialect = 'mysql'): RawBuilder<SqlBool> {
  const col = ref(column);
  const pattern = `${escapeLike(prefix)}%`;
  if (dialect === 'pg') return sql<SqlBool>`${col} LIKE ${pattern} ESCAPE '!'`;
  return sql<SqlBool>`(${col} LIKE ${pattern} ESCAPE '!' AND ${col} COLLATE utf8mb4_bin LIKE ${pattern} ESCAPE '!')`;
}

// Exact equality. The tables use case-, accent- and (MariaDB) pad-insensitive collations, so a
// plain `=` finds 'oc-ai-jp-2-03' for 'OC-AI-JP-2-03', 'oc-ai-jp-2-03 ' or another emoji. On
// MySQL the first condition keeps the column's collation (the index is used: const/ref/range);
// the second compares the bytes (CAST AS BINARY: every byte counts, trailing spaces too, unlike
// utf8mb4_bin, which pads). PostgreSQL's deterministic collations compare exactly already.

/** `column = value`, byte for byte (JavaScript's ===), still using the column's index. */
export function eqExact(column: Column, value: string, dialect: Dialect = 'mysql'): RawBuilder<SqlBool> {
  const col = ref(column);
  if (dialect === 'pg') return sql<SqlBool>`${col} = ${value}`;
  return sql<SqlBool>`(${col} = ${value} AND CAST(${col} AS BINARY) = CAST(${value} AS BINARY))`;
}

/** `column IN (values)`, each byte for byte; an empty list matches nothing. */
export function inExact(column: Column, values: readonly string[], dialect: Dialect = 'mysql'): RawBuilder<SqlBool> {
  const col = ref(column);
  if (!values.length) return sql<SqlBool>`1 = 0`;
  const list = sql.join(values.map((v) => sql`${v}`));
  if (dialect === 'pg') return sql<SqlBool>`${col} IN (${list})`;
  return sql<SqlBool>`(${col} IN (${list}) AND CAST(${col} AS BINARY) IN (${sql.join(values.map((v) => sql`CAST(${v} AS BINARY)`))}))`;
}

/**
 * An email column against what the user typed, case-insensitively: sayclaw stores emails
 * lower-cased, so the input is lower-cased and compared exactly with the lower-cased column
 * (a row another tool wrote in mixed case still matches where the collation is case-insensitive).
 */
export function eqEmail(column: Column, email: string, dialect: Dialect = 'mysql'): RawBuilder<SqlBool> {
  const col = ref(column);
  const e = email.toLowerCase();
  if (dialect === 'pg') return sql<SqlBool>`LOWER(${col}) = ${e}`;
  return sql<SqlBool>`(${col} = ${e} AND CAST(LOWER(${col}) AS BINARY) = CAST(${e} AS BINARY))`;
}

/** A row named by email (case-insensitive) or id (exact), as `users show` and `users admins` take it. */
export function emailOrIdIs(emailColumn: Column, idColumn: Column, input: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${eqEmail(emailColumn, input)} OR ${eqExact(idColumn, input)})`;
}

/** The one collation under which columns of different databases are compared. */
export const CROSS_DB_COLLATION = 'utf8mb4_bin';

/**
 * Two text columns from different databases (admin, portal, One API), compared under one
 * explicit collation: the databases may have been created with different collations (One API's
 * tables take the server default, e.g. MySQL 8's utf8mb4_0900_ai_ci), and a bare `=` between
 * them fails with "Illegal mix of collations". `lookedUp` stays a bare column so its index is
 * still used for the lookup (MariaDB: eq_ref under a _bin comparison; MySQL 8: hash join); the
 * other side is converted to utf8mb4 first, so any character set works. Exact but for trailing
 * spaces (utf8mb4_bin pads), which ids and token names do not carry.
 */
export function sameText(lookedUp: Column, other: Column): RawBuilder<SqlBool> {
  return sql<SqlBool>`${ref(lookedUp)} = CONVERT(${ref(other)} USING utf8mb4) COLLATE ${sql.raw(CROSS_DB_COLLATION)}`;
}

/** A text expression under the cross-database collation (for UNIONs and GROUP BYs over two databases). */
export function crossDbText(column: Column): RawBuilder<string> {
  return sql<string>`CONVERT(${ref(column)} USING utf8mb4) COLLATE ${sql.raw(CROSS_DB_COLLATION)}`;
}

/**
 * Natural order for ids like oc-ai-jp-2-9 / -10 / -100 (done in JS after the query): runs of
 * digits compare as numbers (then by length, so 01 sorts before 1), everything else by code
 * unit. Hand-written rather than Intl.Collator: loading ICU collation costs a few ms per run.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = ca >= 48 && ca <= 57;
    const db = cb >= 48 && cb <= 57;
    if (da && db) {
      let ei = i;
      let ej = j;
      while (ei < a.length && a.charCodeAt(ei) >= 48 && a.charCodeAt(ei) <= 57) ei++;
      while (ej < b.length && b.charCodeAt(ej) >= 48 && b.charCodeAt(ej) <= 57) ej++;
      // compare numerically without overflow: strip leading zeros, then length, then digits
      let si = i;
      let sj = j;
      while (si < ei - 1 && a.charCodeAt(si) === 48) si++;
      while (sj < ej - 1 && b.charCodeAt(sj) === 48) sj++;
      const la = ei - si;
      const lb = ej - sj;
      if (la !== lb) return la - lb;
      for (let k = 0; k < la; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d) return d;
      }
      if (ei - i !== ej - j) return (ej - j) - (ei - i);
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return (a.length - i) - (b.length - j);
}
