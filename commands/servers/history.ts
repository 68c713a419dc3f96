// sayclaw servers history NAME|IP|ID
import type { Command } from 'commander';
import { historyVerb } from '../audit/shared.js';

export function registerServersHistory(g: Command): void {
  historyVerb(g, {
    of: 'server',
    args: '<server>',
    summary: 'one server\'s timeline, oldest first: its audit rows, created and deleted (by name, IP or id)',
    examples: ['sayclaw servers history jp-2-srv-01', 'sayclaw servers history 10.0.2.4 -o json'],
  });
}
