// SQL fragments used everywhere: the one LIKE-prefix helper, and small shared expressions.
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';

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
export function likePrefix(column: string | Expression<unknown>, prefix: string,
  dialect: 'mysql' | 'pg' = 'mysql'): RawBuilder<SqlBool> {
  const col = typeof column === 'string' ? sql.ref(column) : column;
  const pattern = `${escapeLike(prefix)}%`;
  if (dialect === 'pg') return sql<SqlBool>`${col} LIKE ${pattern} ESCAPE '!'`;
  return sql<SqlBool>`(${col} LIKE ${pattern} ESCAPE '!' AND ${col} COLLATE utf8mb4_bin LIKE ${pattern} ESCAPE '!')`;
}

/** Natural sort key for ids like oc-ai-jp-2-9 / -10 / -100 (done in JS after the query). */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
