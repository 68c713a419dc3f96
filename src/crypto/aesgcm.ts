// AES-256-GCM for stored LLM master keys (sayclaw_admin.api_master_keys.encrypted_key).
// Pure functions over node:crypto: parse a master key, encrypt/decrypt one secret, and the
// non-secret identifiers shown by `keys ls` (master key id, secret fingerprint).
//
// Stored format (documented in docs/schema.md, "Master key format"):
//   base64( version(1 byte, 0x01) | iv(12 bytes) | tag(16 bytes) | ciphertext )
// AAD (authenticated, not stored): version byte | utf8("sayclaw:api_master_keys:" + id + ":" + provider)
// so a blob copied onto another row, or a row whose provider is edited, fails authentication.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

export const FORMAT_VERSION = 0x01;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
const HEADER = 1 + IV_BYTES + TAG_BYTES;

/** Why a stored secret could not be decrypted. Never carries plaintext or key material. */
export type DecryptFailure = 'malformed' | 'unknown_version' | 'authentication';

export class DecryptError extends Error {
  constructor(readonly reason: DecryptFailure, message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

export class MasterKeyFormatError extends Error {}

/**
 * The 32-byte key from a key file's text: 64 hex characters, or base64 (standard or url-safe)
 * of exactly 32 bytes. All whitespace is ignored. Errors never quote the text.
 */
export function parseMasterKey(text: string): Buffer {
  const s = text.replace(/\s+/g, '');
  if (s.length === 0) throw new MasterKeyFormatError('it is empty');
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/\-_]+={0,2}$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === KEY_BYTES) return b;
    throw new MasterKeyFormatError(`it decodes to ${b.length} bytes, not ${KEY_BYTES} (expected 64 hex characters or base64 of 32 bytes)`);
  }
  throw new MasterKeyFormatError(`it is neither 64 hex characters nor base64 of ${KEY_BYTES} bytes (${s.length} characters)`);
}

/**
 * A short public id of a master key (8 hex): HMAC-SHA256(key, "sayclaw master key id").
 * Stored beside each ciphertext so "encrypted with another master key" can be told apart
 * from "tampered" without trying to decrypt, and shown by `keys ls` without the key.
 */
export function masterKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('sayclaw master key id').digest('hex').slice(0, 8);
}

export function aadFor(id: string, provider: string): Buffer {
  return Buffer.concat([Buffer.from([FORMAT_VERSION]), Buffer.from(`sayclaw:api_master_keys:${id}:${provider}`, 'utf8')]);
}

export function encryptSecret(key: Buffer, plaintext: string, aad: Buffer): string {
  if (key.length !== KEY_BYTES) throw new Error('master key must be 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  const tag = c.getAuthTag();
  return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, tag, ct]).toString('base64');
}

export function decryptSecret(key: Buffer, blob: string, aad: Buffer): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(blob.trim())) throw new DecryptError('malformed', 'stored value is not base64');
  const raw = Buffer.from(blob.trim(), 'base64');
  if (raw.length < HEADER + 1) throw new DecryptError('malformed', `stored value is too short (${raw.length} bytes)`);
  if (raw[0] !== FORMAT_VERSION) throw new DecryptError('unknown_version', `unknown format version ${raw[0]}`);
  const iv = raw.subarray(1, 1 + IV_BYTES);
  const tag = raw.subarray(1 + IV_BYTES, HEADER);
  const ct = raw.subarray(HEADER);
  const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(tag);
  // update() output is only trusted after final() authenticated it; it is dropped otherwise.
  const part = d.update(ct);
  let out: Buffer;
  try {
    out = Buffer.concat([part, d.final()]);
  } catch {
    part.fill(0);
    throw new DecryptError('authentication', 'authentication failed');
  }
  const s = out.toString('utf8');
  out.fill(0);
  part.fill(0);
  return s;
}

/**
 * Public fingerprint of a secret, stored in key_hint at add time: its leading vendor prefix
 * (e.g. "sk-", "sk-ant-", at most 8 characters), its last 4 characters and the first 8 hex of
 * its SHA-256, e.g. "sk-ant-...a1b2 3f9c2e1a". Compare with: printf %s "$KEY" | sha256sum.
 */
export function secretFingerprint(secret: string): string {
  const m = /^([A-Za-z]{2,4}[-_](?:[A-Za-z]{2,4}[-_])?)/.exec(secret);
  const prefix = m && m[1]!.length <= 8 && m[1]!.length + 8 < secret.length ? m[1]! : '';
  const hash = createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
  return `${prefix}...${secret.slice(-4)} ${hash}`;
}

/** The sha256 part of a fingerprint (to compare two secrets without decrypting). */
export function fingerprintHash(hint: string | null): string | null {
  const m = hint ? / ([0-9a-f]{8})$/.exec(hint) : null;
  return m ? m[1]! : null;
}
