// Exact money: quota (an integer count) to USD with 6 decimals, BigInt only, never a float.
// The rate is One API's QuotaPerUnit (quota per USD), which may be a decimal ("7.5"): it is
// parsed exactly (decimal.js) into a fraction num/den, so cost = quota * den / num.
// Rounding is half away from zero, like MySQL's ROUND on DECIMAL.
import { Decimal } from 'decimal.js';

const MICRO = 1_000_000n;

export interface QuotaRate {
  /** the rate as a plain decimal, e.g. "500000" or "7.5" */
  text: string;
  num: bigint;
  den: bigint;
  /** where it came from: config, One API's options table, or the default */
  source: string;
}

/** Parse a quota-per-USD rate exactly; null when it is not a positive finite decimal. */
export function parseQuotaRate(v: string | number | bigint, source: string): QuotaRate | null {
  let d: Decimal;
  try { d = new Decimal(typeof v === 'string' ? v.trim() : v.toString()); } catch { return null; }
  if (!d.isFinite() || d.lte(0)) return null;
  const text = d.toFixed();
  const [i, f = ''] = text.split('.');
  return { text, num: BigInt(`${i}${f}`), den: 10n ** BigInt(f.length), source };
}

export const DEFAULT_QUOTA_RATE: QuotaRate = { text: '500000', num: 500000n, den: 1n, source: "One API's default QuotaPerUnit" };

function rateOf(r: QuotaRate | number | bigint | string): QuotaRate {
  if (typeof r === 'object') return r;
  const p = parseQuotaRate(r, 'argument');
  if (!p) throw new Error(`quota per USD must be a positive number, got ${r}`);
  return p;
}

/** quota / rate as a decimal string with 6 places. */
export function costUsd(quota: bigint | string | number, rate: QuotaRate | number | bigint | string): string {
  const q = typeof quota === 'bigint' ? quota : BigInt(quota);
  const { num, den } = rateOf(rate);
  const neg = q < 0n;
  const a = (neg ? -q : q) * den * MICRO;
  const micros = (a * 2n + num) / (num * 2n); // round half up on the magnitude
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

const SAFE = Number.MAX_SAFE_INTEGER;
const gcd = (a: bigint, b: bigint): bigint => { while (b) [a, b] = [b, a % b]; return a; };

/**
 * costUsd for one rate, for a quota given as a JS integer, written as ASCII bytes: for the raw
 * export, which writes one per row. The rate's fraction is reduced once (BigInt). When one quota
 * unit is a whole number of micro-dollars (One API's QuotaPerUnit 500,000 is 2 micro-dollars; any
 * QuotaPerUnit that divides 1,000,000), the cost is quota x that number, on Numbers while the
 * product stays below 2^53: integer multiplication, subtraction and remainder only, which are
 * exact there (no division that could form a fraction, no rounding). Every other rate, and any
 * quota past that bound, goes through costUsd (BigInt). Property-tested equal to costUsd.
 */
export function costBytesWriter(rate: QuotaRate): (quota: number, out: Uint8Array, at: number) => number {
  const g = gcd(rate.den * MICRO, rate.num);
  const mulB = (rate.den * MICRO) / g;
  const divB = rate.num / g;
  // micro-dollars per quota unit, when whole; else -1 (every quota takes the BigInt path)
  const mul = divB === 1n && mulB <= BigInt(SAFE) ? Number(mulB) : -1;
  const limit = mul > 0 ? Number(BigInt(SAFE) / mulB) : -1;
  const digits = new Uint8Array(20);
  return (quota, out, at) => {
    const a = quota < 0 ? -quota : quota;
    if (!Number.isSafeInteger(quota) || a > limit) {
      const s = costUsd(BigInt(quota), rate);
      for (let k = 0; k < s.length; k++) out[at++] = s.charCodeAt(k);
      return at;
    }
    const micros = a * mul;
    if (quota < 0 && micros !== 0) out[at++] = 0x2d;
    let frac = micros % 1_000_000;
    // an exact multiple of 1,000,000 divided by it: an exact integer
    let whole = (micros - frac) / 1_000_000;
    let n = 0;
    do { const d = whole % 10; digits[n++] = 48 + d; whole = (whole - d) / 10; } while (whole > 0);
    while (n > 0) out[at++] = digits[--n]!;
    out[at++] = 0x2e;
    for (let k = 5; k >= 0; k--) { const d = frac % 10; out[at + k] = 48 + d; frac = (frac - d) / 10; }
    return at + 6;
  };
}
