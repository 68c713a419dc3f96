// Terminal-safe text: control bytes escaped, so that a value stored in a database (a model name,
// a reason, a user name) or an argument echoed in an error can never retitle or clear an
// operator's terminal. No dependencies: the error path and the startup path use it.

/**
 * What never reaches a terminal raw: C0 controls (ESC, BEL, CR, ...), DEL, C1 controls (0x9b is
 * a one-byte CSI on some terminals), the Unicode line/paragraph separators, and the bidi
 * embeddings, overrides and isolates that reorder what the eye sees ("Trojan Source").
 */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_G = new RegExp(UNSAFE.source, 'g');
const UNSAFE_BUT_LF_G = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One character in the escaped notation every output uses: `\t`, `\x1b`, `\u202e` (`\u{1f600}` above the BMP). */
export function escapeOne(c: string): string {
  const short = Object.hasOwn(SHORT, c) ? SHORT[c] : undefined;
  if (short) return short;
  const n = c.codePointAt(0)!;
  if (n < 0x100) return `\\x${n.toString(16).padStart(2, '0')}`;
  return n > 0xffff ? `\\u{${n.toString(16)}}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** One value for a table cell or a `-o name` line: every unsafe character as `\x1b`, `\n`, `\u202e`. */
export function escapeControl(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_G, escapeOne) : s;
}

/** A message for stderr (errors, warnings, notes): like escapeControl, but line breaks stay. */
export function escapeMessage(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_BUT_LF_G, escapeOne) : s;
}

/** JSON text whose strings hold DEL, C1 or bidi characters (JSON.stringify leaves them raw): as \uXXXX. */
const JSON_UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const JSON_UNSAFE_G = new RegExp(JSON_UNSAFE.source, 'g');
export function escapeJsonText(json: string): string {
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_G, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
