// The cron lock: one lock file per job in usage.lockDir (proper-lockfile: an atomic mkdir,
// refreshed while held, taken over when stale after a crash). A second overlapping run fails
// at once with LockedError (exit 75) instead of doing the work twice. Released by ctx.close().
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, firstLine, LockedError, SayclawError } from '../../errors.js';

export function lockPath(ctx: Context, name: string): string {
  const dir = ctx.config().usage.lockDir;
  const home = ctx.io.env.HOME ?? '/';
  const abs = dir === '~' ? home : dir.startsWith('~/') ? join(home, dir.slice(2)) : resolve(ctx.io.cwd, dir);
  return join(abs, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
}

/** Take the named lock for the rest of this run, or throw LockedError (exit 75). */
export async function acquireLock(ctx: Context, name: string): Promise<string> {
  const path = lockPath(ctx, name);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw lockDirError(dirname(path), err);
  }
  const { default: lockfile } = await import('proper-lockfile');
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false, retries: 0, stale: 120_000, update: 30_000,
      onCompromised: (err) => { ctx.warn(`lock ${path} was lost: ${err.message}`); },
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') {
      throw new LockedError(`another "${name}" run holds the lock ${path}`, { hint: 'try again later; a crashed run frees it after 2 minutes' });
    }
    throw lockDirError(dirname(path), err);
  }
  ctx.onClose(() => release().catch(() => undefined));
  return path;
}

/** The lock directory is a file, or this account cannot write it: exit 1, one line. */
function lockDirError(dir: string, err: unknown): SayclawError {
  const e = err as NodeJS.ErrnoException;
  const why = e?.code === 'EEXIST' || e?.code === 'ENOTDIR' ? `it (or a parent) is not a directory (${e.code})`
    : `${firstLine(e?.message).replace(/, \w+ '[^']*'$/, '')}`;
  return new SayclawError(`cannot use the lock directory ${dir} (usage.lockDir): ${why}`, ExitCode.RUNTIME, {
    hint: 'point usage.lockDir at a directory this account can write, or run with --no-lock', cause: err,
  });
}
