// "Did you mean": the known names nearest to one that was not found. One ranking for every
// lookup that suggests (instances, audit ids, users, servers, admins, keys, jobs): edit distance
// on a folded form first (case, accents and surrounding spaces ignored, so the near misses a
// case-insensitive collation would have matched come first), then the raw distance, then
// natural order. src/fleet/suggest.ts reads the candidates from the database.
import { naturalCompare } from '../db/sql-helpers.js';

/** Levenshtein distance over code points (an emoji is one edit, not two); two rows of the table. */
export function editDistance(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const d = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (x[i - 1] === y[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[y.length]!;
}

/** Lower-cased, accents removed (NFKD minus combining marks), spaces trimmed and collapsed. */
export function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().trim().replace(/\s+/g, ' ');
}

/**
 * The `limit` candidates closest to `missing` (never `missing` itself). With `near`, only near
 * misses: at most max(2, a third of the length) edits after folding, and no further than one
 * edit beyond the best (none beyond it when the best differs only in case, accents or spaces).
 */
export function closest(missing: string, candidates: Iterable<string>, limit = 3, opts: { near?: boolean } = {}): string[] {
  const f = fold(missing);
  const max = opts.near ? Math.max(2, Math.floor(Array.from(f).length / 3)) : Infinity;
  const scored: Array<[string, number, number]> = [];
  for (const c of new Set(candidates)) {
    if (c === missing) continue;
    const df = editDistance(f, fold(c));
    if (df <= max) scored.push([c, df, editDistance(missing, c)]);
  }
  scored.sort((a, b) => a[1] - b[1] || a[2] - b[2] || naturalCompare(a[0], b[0]));
  const best = scored[0]?.[1] ?? 0;
  const tier = opts.near ? (best === 0 ? 0 : best + 1) : Infinity;
  return scored.filter((s) => s[1] <= tier).slice(0, limit).map((s) => s[0]);
}
