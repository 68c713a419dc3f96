// The one masking function. Secrets are masked in every output format.

/** Field names whose values are secrets wherever they appear. */
export const SECRET_FIELDS = new Set([
  'gateway_token', 'password', 'password_hash', 'tg_bot_token', 'encrypted_key', 'key',
  'access_token', 'secret', 'token', 'api_key', 'apikey', 'bot_token', 'botToken', 'apiKey',
  'authorization', 'private_key', 'privateKey',
]);

/** Config/JSON keys that hold secrets: names ending in token/secret/password/apiKey...
 * (not total_tokens, token_name: those are counters and labels). */
const SECRET_KEY_RE = /(token|secret|secrets|password|passwd|api[_-]?key|private[_-]?key|authorization|credentials?)$/i;

/** `abcd…wxyz` style: shows only the last 4 characters for long values, nothing for short ones. */
export function maskSecret(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return value === '' ? '' : null;
  const s = String(value);
  if (s.length < 12) return '****';
  return `****${s.slice(-4)}`;
}

const secretKeyCache = new Map<string, boolean>();
export function isSecretKey(key: string): boolean {
  let v = secretKeyCache.get(key);
  if (v === undefined) {
    v = SECRET_FIELDS.has(key) || SECRET_KEY_RE.test(key);
    secretKeyCache.set(key, v);
  }
  return v;
}

/** Mask one field's value: secret-named fields are masked, objects are masked deeply. */
export function maskField(key: string, value: unknown): unknown {
  if (isSecretKey(key) && (typeof value === 'string' || typeof value === 'number')) return maskSecret(value);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return maskDeep(value);
  return value;
}

/** Deep copy with every secret-named key masked. */
export function maskDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => maskDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecretKey(k) && (typeof v === 'string' || typeof v === 'number') ? maskSecret(v) : maskDeep(v);
    }
    return out as T;
  }
  return value;
}
