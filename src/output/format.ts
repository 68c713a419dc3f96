// Value formatting shared by all renderers: ISO times, relative times on a TTY, exact numbers.

export function isoTime(d: Date): string {
  return d.toISOString();
}

export function relativeTime(d: Date, now: Date): string {
  const s = Math.round((now.getTime() - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const suffix = s >= 0 ? 'ago' : 'from now';
  if (abs < 60) return `${abs}s ${suffix}`;
  if (abs < 3600) return `${Math.floor(abs / 60)}m ${suffix}`;
  if (abs < 86400) return `${Math.floor(abs / 3600)}h ${suffix}`;
  return `${Math.floor(abs / 86400)}d ${suffix}`;
}

/** A value as plain data (json/yaml/csv): Dates to ISO, bigint to string. */
export function toData(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v; // the common case, first
  if (v instanceof Date) return isoTime(v);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (Array.isArray(v)) return v.map(toData);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toData(x);
    return out;
  }
  return v;
}

/** A value for a table cell (the renderer escapes control characters: src/output/escape.ts). */
export function toCell(v: unknown, opts: { relative?: boolean; now?: Date } = {}): string {
  if (v === null || v === undefined) return '-';
  if (v instanceof Date) return opts.relative && opts.now ? relativeTime(v, opts.now) : isoTime(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map((x) => toCell(x, opts)).join(',') : '-';
  if (typeof v === 'object') return JSON.stringify(toData(v));
  return String(v);
}

/** "1 instance", "3 instances", "0 days": a count with its noun in the right number. */
export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 || n === 1n ? one : many}`;
}
