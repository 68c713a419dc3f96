// sayclaw users history EMAIL
import type { Command } from 'commander';
import { historyVerb } from '../audit/shared.js';

export function registerUsersHistory(g: Command): void {
  historyVerb(g, {
    of: 'user',
    args: '<email>',
    summary: 'one user\'s timeline, oldest first: their own changes and their instances\' assignment events',
    examples: ['sayclaw users history li.na@sayclaw.test', 'sayclaw users history li.na@sayclaw.test --since this-month -o json'],
  });
}
