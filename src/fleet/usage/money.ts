// Exact money: quota (an integer count) to USD with 6 decimals, BigInt only, never a float.
// Rounding is half away from zero, like MySQL's ROUND on DECIMAL.

const MICRO = 1_000_000n;

/** quota / quotaPerUsd as a decimal string with 6 places. */
export function costUsd(quota: bigint | string, quotaPerUsd: number | bigint): string {
  const q = typeof quota === 'bigint' ? quota : BigInt(quota);
  const per = BigInt(quotaPerUsd);
  if (per <= 0n) throw new Error('quotaPerUsd must be positive');
  const neg = q < 0n;
  const a = neg ? -q : q;
  const micros = (a * MICRO * 2n + per) / (per * 2n); // round half up on the magnitude
  return formatMicros(neg ? -micros : micros);
}

/** A count of millionths as "123.456789". */
export function formatMicros(m: bigint): string {
  const neg = m < 0n;
  const a = neg ? -m : m;
  const s = `${a / MICRO}.${(a % MICRO).toString().padStart(6, '0')}`;
  return neg && a !== 0n ? `-${s}` : s;
}

/** Sum of decimal strings with up to 6 places, exactly. */
export function addMoney(a: string, b: string): string {
  return formatMicros(toMicros(a) + toMicros(b));
}

export function toMicros(s: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d{1,6}))?$/.exec(s.trim());
  if (!m) throw new Error(`not a money amount: ${s}`);
  const v = BigInt(m[2]!) * MICRO + BigInt((m[3] ?? '').padEnd(6, '0'));
  return m[1] ? -v : v;
}
