// Flags shared by the keys verbs that need the master key. The key itself is never a flag
// value: only a path (--master-key-file) or stdin (--master-key-stdin).
import type { Command } from 'commander';

export interface MasterKeyOpts { masterKeyFile?: string; masterKeyStdin?: boolean }

export function masterKeyOptions(c: Command, opts: { stdin?: boolean } = { stdin: true }): Command {
  c.option('--master-key-file <path>', 'file holding the 32-byte master key (64 hex or base64, mode 600); default $SAYCLAW_MASTER_KEY_FILE or config keys.masterKeyFile');
  if (opts.stdin !== false) c.option('--master-key-stdin', 'read the master key from stdin instead of a file');
  return c;
}
