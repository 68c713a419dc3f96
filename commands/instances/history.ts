// sayclaw instances history ID
import type { Command } from 'commander';
import { historyVerb } from '../audit/shared.js';

export function registerInstancesHistory(g: Command): void {
  historyVerb(g, {
    of: 'instance',
    args: '<id>',
    summary: 'one instance\'s timeline, oldest first: audit rows, health changes, assignment bindings, created/deleted',
    examples: ['sayclaw instances history oc-ai-jp-2-07', 'sayclaw instances history oc-ai-jp-2-07 --since 30d -o json'],
  });
}
