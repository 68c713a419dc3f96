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

/** Values that are secrets whatever their key is called: provider keys, Telegram bot tokens, bearer headers. */
const SECRET_VALUE_RE = /^(?:sk-[A-Za-z0-9_-]{16,}|\d{5,}:[A-Za-z0-9_-]{30,}|Bearer\s+\S{8,})$/;

function maskStored(v: unknown, key: string | null): unknown {
  if (typeof v === 'string') {
    if ((key !== null && isSecretKey(key)) || SECRET_VALUE_RE.test(v)) return maskSecret(v);
    // JSON kept as text inside JSON (a config_json column copied into an audit row)
    const t = v.trimStart();
    if ((t.startsWith('{') || t.startsWith('[')) && v.length < 1_000_000) {
      try { return JSON.stringify(maskStored(JSON.parse(v), null)); } catch { /* plain text */ }
    }
    return v;
  }
  if (typeof v === 'number') return key !== null && isSecretKey(key) ? maskSecret(v) : v;
  // a secret-named key holding a structure (secrets: {...}): nothing of it is shown
  if (v !== null && typeof v === 'object' && key !== null && isSecretKey(key)) return '****';
  if (Array.isArray(v)) return v.map((x) => maskStored(x, null));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = maskStored(x, k);
    return out;
  }
  return v;
}

/**
 * JSON text stored by sayclaw or by another tool (admin_logs before/after), parsed and masked
 * more thoroughly than maskDeep: also JSON held in string values and values shaped like keys or
 * bot tokens under any name. Text that is not JSON is not shown at all (it could hold anything).
 */
export function maskJsonText(text: string | null): unknown {
  if (text === null || text === undefined) return null;
  let v: unknown;
  try { v = JSON.parse(text); } catch { return { unreadable: `not JSON (${Buffer.byteLength(text)} bytes, not shown)` }; }
  return maskStored(v, null);
}
