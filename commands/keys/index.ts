// sayclaw keys: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerKeysLs } from './ls.js';
import { registerKeysAdd } from './add.js';
import { registerKeysRotate } from './rotate.js';
import { registerKeysRevoke } from './revoke.js';
import { registerKeysReveal } from './reveal.js';
import { registerKeysVerify } from './verify.js';
import { registerKeysReencrypt } from './reencrypt.js';
import { registerKeysOc } from './oc.js';
import { registerKeysOneapi } from './oneapi.js';

export function registerKeys(program: Command): Command {
  const g = group(program, 'keys', 'LLM master keys (AES-256-GCM), instance API keys, One API tokens', [
    'sayclaw keys ls', 'sayclaw keys add --provider openai --name prod', 'sayclaw keys verify',
    'sayclaw keys oc ls --prefix oc-ai-jp-2-', 'sayclaw keys oneapi ls --exhausted']);
  g.helpCommand(false);
  registerKeysLs(g);
  registerKeysAdd(g);
  registerKeysRotate(g);
  registerKeysRevoke(g);
  registerKeysReveal(g);
  registerKeysVerify(g);
  registerKeysReencrypt(g);
  registerKeysOc(g);
  registerKeysOneapi(g);
  return g;
}
