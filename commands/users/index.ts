// sayclaw users: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';

export function registerUsers(program: Command): Command {
  const g = group(program, 'users', 'portal users, admin accounts, quotas and Telegram bindings', ['sayclaw users ls --department 研发部', 'sayclaw users show alice@example.com']);
  return g;
}
