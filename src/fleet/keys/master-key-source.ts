// Where the 32-byte master key comes from: a key file (--master-key-file, $SAYCLAW_MASTER_KEY_FILE
// or config keys.masterKeyFile; a path is not a secret) or stdin (--master-key-stdin). Never from
// a flag or environment value. A key file readable by group or others is refused (exit 5).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../../context.js';
import { ConfigError, UsageError } from '../../errors.js';
import { expandHome } from '../../config/load.js';
import { parseMasterKey, masterKeyId, MasterKeyFormatError } from '../../crypto/aesgcm.js';

export interface MasterKey {
  key: Buffer;
  /** public id (8 hex), see masterKeyId */
  id: string;
  /** "file:PATH" or "stdin": for messages */
  source: string;
}

/** A value that looks like key material rather than a path: never echoed back. */
function looksLikeKey(v: string): boolean {
  const s = v.trim();
  return /^[0-9a-fA-F]{64}$/.test(s) || (/^[A-Za-z0-9+/\-_]{43}=?$/.test(s) && !/^[/~.]/.test(s));
}

/** Read and check a key file; `what` names it in messages (e.g. "master key file"). */
export function readKeyFile(path: string, ctx: Context, what = 'master key file'): MasterKey {
  const p = resolve(ctx.io.cwd, expandHome(path, ctx.io.env));
  let text: string;
  try {
    const st = statSync(p);
    if (!st.isFile()) throw new ConfigError(`${what} ${p} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new ConfigError(`${what} ${p} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it`, {
        hint: `chmod 600 ${p}`,
      });
    }
    text = readFileSync(p, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (looksLikeKey(path)) {
      // someone passed the key itself: do not print it back
      throw new UsageError(`the ${what} option takes a path, and the value given looks like a key (not shown); the key is never accepted on the command line`, {
        hint: 'write it to a file with mode 600 and pass its path, or use --master-key-stdin',
      });
    }
    throw new ConfigError(`cannot read ${what} ${p}: ${code}`, { hint: 'the file holds 64 hex characters or base64 of 32 bytes; chmod 600', cause: err });
  }
  return wipeOnClose(ctx, fromText(text, `file:${p}`, what));
}

function fromText(text: string, source: string, what: string): MasterKey {
  let key: Buffer;
  try {
    key = parseMasterKey(text);
  } catch (err) {
    if (err instanceof MasterKeyFormatError) {
      throw new ConfigError(`${what} (${source}) is not a valid master key: ${err.message}`, {
        hint: 'generate one with: openssl rand -hex 32 > master.key && chmod 600 master.key',
      });
    }
    throw err;
  }
  return { key, id: masterKeyId(key), source };
}

/** Zero key material when the command ends (best effort: strings elsewhere cannot be wiped). */
function wipeOnClose(ctx: Context, mk: MasterKey): MasterKey {
  ctx.onClose(() => { mk.key.fill(0); });
  return mk;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  const b = Buffer.concat(chunks);
  const s = b.toString('utf8');
  b.fill(0);
  return s;
}

/** All of stdin as text (for --secret-stdin / --master-key-stdin). */
export function readStdin(ctx: Context): Promise<string> {
  return readAll(ctx.io.stdin);
}

export interface MasterKeyFlags {
  masterKeyFile?: string;
  masterKeyStdin?: boolean;
}

/**
 * Call before ctx.config() is first read: maps --master-key-file onto keys.masterKeyFile so
 * that `config show` and the source tracking see it.
 */
export function applyMasterKeyFlags(ctx: Context, f: MasterKeyFlags): void {
  if (f.masterKeyFile !== undefined) ctx.configFlags['keys.masterKeyFile'] = f.masterKeyFile;
}

/** The configured master key (stdin, else the key file from flag/env/config). */
export async function loadMasterKey(ctx: Context, f: MasterKeyFlags): Promise<MasterKey> {
  if (ctx.io.env.SAYCLAW_MASTER_KEY !== undefined) {
    ctx.warn('SAYCLAW_MASTER_KEY is ignored: the master key never comes from an environment value (set SAYCLAW_MASTER_KEY_FILE to a file path)');
  }
  if (f.masterKeyStdin && f.masterKeyFile) {
    throw new UsageError('use either --master-key-file or --master-key-stdin, not both');
  }
  if (f.masterKeyStdin) {
    if (ctx.io.stdinIsTTY) {
      throw new UsageError('--master-key-stdin reads the key from a pipe, but stdin is a terminal', {
        hint: 'e.g. sayclaw keys verify --master-key-stdin < master.key',
      });
    }
    return wipeOnClose(ctx, fromText(await readStdin(ctx), 'stdin', 'master key from stdin'));
  }
  const path = ctx.config().keys.masterKeyFile;
  if (!path) {
    throw new ConfigError('no master key configured', {
      hint: 'pass --master-key-file PATH or --master-key-stdin, set SAYCLAW_MASTER_KEY_FILE, or config keys.masterKeyFile',
    });
  }
  return readKeyFile(path, ctx);
}

/** A secret as typed or piped: trailing newline/space dropped; errors never quote it. */
export function checkSecret(raw: string): string {
  const s = raw.replace(/^[\s\uFEFF]+|\s+$/g, '');
  if (!s) throw new UsageError('the secret is empty; nothing changed');
  if (/[\s\x00-\x1f\x7f]/.test(s)) throw new UsageError('the secret contains whitespace or control characters (more than one line on stdin?); nothing changed');
  if (s.length < 8) throw new UsageError(`the secret is too short (${s.length} characters, at least 8); nothing changed`);
  if (s.length > 4096) throw new UsageError(`the secret is too long (${s.length} characters, at most 4096); nothing changed`);
  return s;
}

/** The secret to store: from stdin (--secret-stdin) or a no-echo prompt; never from a flag. */
export async function readSecretInput(ctx: Context, fromStdin: boolean | undefined, label: string): Promise<string> {
  if (fromStdin) {
    if (ctx.io.stdinIsTTY) throw new UsageError('--secret-stdin reads a pipe, but stdin is a terminal', { hint: 'drop --secret-stdin to be prompted without echo' });
    return checkSecret(await readStdin(ctx));
  }
  if (!ctx.interactive) {
    throw new UsageError('no secret given: not a terminal, so no prompt; nothing changed', {
      hint: 'pipe it in with --secret-stdin, e.g. sayclaw keys add ... --secret-stdin < secret.txt',
    });
  }
  const accept = (raw: string) => { try { checkSecret(raw); return true; } catch { return false; } };
  return checkSecret(await ctx.prompter.password(`${label} (input is not shown):`, { accept }));
}
