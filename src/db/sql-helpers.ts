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
