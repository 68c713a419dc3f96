// The one masking function. Secrets are masked in every output format (and in audit rows):
// by key name at any depth (everything under a secret-named key, arrays included) and by value
// shape in any string (sk-... keys, Telegram bot tokens, passwords in URLs, Bearer tokens).

/** Field names whose values are secrets wherever they appear. */
export const SECRET_FIELDS = new Set([
  'gateway_token', 'password', 'password_hash', 'tg_bot_token', 'encrypted_key', 'key',
  'access_token', 'secret', 'token', 'api_key', 'apikey', 'bot_token', 'botToken', 'apiKey',
  'authorization', 'private_key', 'privateKey',
]);

/** Config/JSON keys that hold secrets: names ending in token/secret/password/apiKey/_KEY...
 * (not total_tokens, maxTokens, token_name, key_hint, passwordFile: counters, labels, paths). */
const SECRET_KEY_RE = /(?:token|secrets?|password|passwd|passphrase|api[_-]?keys?|private[_-]?keys?|authorization|credentials?|cookie|(?:^|[_.-])keys?)$/i;
/** camelCase ...Key / ...Keys (openaiKey, accessKeys); case-sensitive so "monkey" stays */
const CAMEL_KEY_RE = /[a-z0-9]Keys?$/;
/** lists of tokens (tokens, apiTokens, bot_tokens), but not counters (total_tokens, maxTokens) */
const TOKENS_RE = /^(?:(?:api|bot|access|auth|gateway|refresh|session)[_-]?)?tokens$/i;

/** `****wxyz` style: shows only the last 4 characters for long values, nothing for short ones. */
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
    v = SECRET_FIELDS.has(key) || SECRET_KEY_RE.test(key) || CAMEL_KEY_RE.test(key) || TOKENS_RE.test(key);
    if (secretKeyCache.size < 10000) secretKeyCache.set(key, v);
  }
  return v;
}

/** A whole number (a count), as sayclaw's rows carry BIGINT counters: number, bigint or digits. */
function isCount(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && /^-?\d+$/.test(v));
}

/**
 * Whether this key's value is a secret. A bare `tokens` names a list of tokens in a config but a
 * token count in sayclaw's own rows (usage today, reports): a count under it is no secret.
 */
export function isSecretEntry(key: string, value: unknown): boolean {
  return isSecretKey(key) && !(isCount(value) && /^tokens$/i.test(key));
}

// Secret-looking parts of any string. A cheap test first: most strings have none of these.
const MAYBE_SECRET = /sk-|\d:[\w-]{30}|:\/\/[^\s/@]*:\S*@|@(?:tcp|unix)\(|bearer/i;
const SHAPES: Array<[RegExp, (m: string, ...g: string[]) => string]> = [
  // scheme://user:PASSWORD@host
  // (the password runs to the last @ of the URL: `p@ss/w0rd`, `se#cret`; not a port and path: host:8080/a@b)
  [/(:\/\/[^\s/?#@:]*:)(?!\d+(?:[/?#]|$))(\S+)@(?=[^\s@]*(?:\s|$))/g, (_m, head) => `${head}****@`],
  [/(:\/\/[^\s/?#@:]*:)([^\s/?#@]+)@/g, (_m, head) => `${head}****@`],
  // Go DSNs, as One API's SQL_DSN / LOG_SQL_DSN: user:PASSWORD@tcp(host:port)/db
  [/(^|[\s'"=])([^\s:@'"=/]+:)(\S+?)@(tcp|unix)\(/g, (_m, pre, user, _pw, net) => `${pre}${user}****@${net}(`],
  [/\b(Bearer)(\s+)([A-Za-z0-9._~+/=-]+)/gi, (_m, word, sp, v) => `${word}${sp}${maskSecret(v)}`],
  // OpenAI-style and One API keys (sk-..., sk-ant-...)
  [/(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{6,}/g, (m) => maskSecret(m)!],
  // Telegram bot tokens: digits, a colon, 30 or more of [A-Za-z0-9_-]
  // (not a digest: sha256:<hex> names an image, it is no token)
  [/(?<!\d)(?<!sha)\d+:[A-Za-z0-9_-]{30,}/g, (m) => maskSecret(m)!],
];

/** A string with every secret-shaped part masked (the rest kept). */
export function maskShapes(s: string): string {
  if (!MAYBE_SECRET.test(s)) return s;
  let out = s;
  for (const [re, fn] of SHAPES) out = out.replace(re, fn as (m: string, ...g: unknown[]) => string);
  return out;
}

/** Everything below a secret-named key: every string and number masked, structure kept. */
function maskAll(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return maskSecret(value);
  if (Array.isArray(value)) return value.map(maskAll);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = maskAll(v);
    return out;
  }
  return value;
}

/** Mask one field's value: a secret-named field wholly, any other by shape (deeply for objects). */
export function maskField(key: string, value: unknown): unknown {
  if (isSecretEntry(key, value)) return maskAll(value);
  if (typeof value === 'string') return maskShapes(value);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return maskDeep(value);
  return value;
}

/** Deep copy with every secret-named key masked and every string masked by shape. */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskShapes(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = maskField(k, v);
    return out as T;
  }
  return value;
}

/** Values that are secrets whatever their key is called: provider keys, Telegram bot tokens, bearer headers. */
const SECRET_VALUE_RE = /^(?:sk-[A-Za-z0-9_-]{16,}|\d{5,}:[A-Za-z0-9_-]{30,}|Bearer\s+\S{8,})$/;

function maskStored(v: unknown, key: string | null): unknown {
  if (typeof v === 'string') {
    if ((key !== null && isSecretEntry(key, v)) || SECRET_VALUE_RE.test(v)) return maskSecret(v);
    // JSON kept as text inside JSON (a config_json column copied into an audit row)
    const t = v.trimStart();
    if ((t.startsWith('{') || t.startsWith('[')) && v.length < 1_000_000) {
      try { return JSON.stringify(maskStored(JSON.parse(v), null)); } catch { /* plain text */ }
    }
    // free text written by another tool: a key, bot token, password in a URL or bearer inside it
    return maskShapes(v);
  }
  if (typeof v === 'number') return key !== null && isSecretEntry(key, v) ? maskSecret(v) : v;
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
