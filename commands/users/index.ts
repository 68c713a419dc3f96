// sayclaw users: the group and its verbs (portal users, their quota and Telegram binding, and
// admin accounts under `users admins`).
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerUsersLs } from './ls.js';
import { registerUsersShow } from './show.js';
import { registerUsersWrites } from './write.js';
import { registerTelegram } from './telegram.js';
import { registerAdmins } from './admins.js';
import { registerUsersHistory } from './history.js';

export function registerUsers(program: Command): Command {
  const g = group(program, 'users', 'portal users, admin accounts, quotas and Telegram bindings', ['sayclaw users ls --department 研发部', 'sayclaw users show li.na@sayclaw.test']);
  registerUsersLs(g);
  registerUsersShow(g);
  registerUsersHistory(g);
  registerUsersWrites(g);
  registerTelegram(g);
  registerAdmins(g);
  return g;
}
