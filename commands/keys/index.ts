// sayclaw keys: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';

export function registerKeys(program: Command): Command {
  const g = group(program, 'keys', 'LLM master keys (AES-256-GCM), instance API keys, One API tokens', ['sayclaw keys ls', 'sayclaw keys oneapi ls --exhausted']);
  return g;
}
