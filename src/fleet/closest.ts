// "Did you mean": the known names nearest to one that was not found (edit distance, then
// natural order). One ranking for every lookup that suggests (instances, audit ids, users, servers).
import { naturalCompare } from '../db/sql-helpers.js';

/** Levenshtein distance (two rows of the table; names are short). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The `limit` candidates closest to `missing`. */
export function closest(missing: string, candidates: Iterable<string>, limit = 3): string[] {
  return [...new Set(candidates)].map((c) => [c, editDistance(missing, c)] as const)
    .sort((x, y) => x[1] - y[1] || naturalCompare(x[0], y[0])).slice(0, limit).map((x) => x[0]);
}
