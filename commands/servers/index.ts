// sayclaw servers: the group and its verbs, one file each.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerServersLs } from './ls.js';
import { registerServersShow } from './show.js';
import { registerServersAdd } from './add.js';
import { registerServersUpdate } from './update.js';
import { registerServersRm } from './rm.js';
import { registerServersCheck } from './check.js';
import { registerServersExec } from './exec.js';
import { registerServersInventory } from './inventory.js';
import { registerServersHistory } from './history.js';
import { registerServersReconcile } from './reconcile.js';

export function registerServers(program: Command): Command {
  const g = group(program, 'servers', 'servers: registry, checks, fan-out commands over SSH, Ansible inventory', [
    'sayclaw servers ls', 'sayclaw servers check --all', 'sayclaw servers exec --all -- uptime', 'sayclaw servers inventory --list']);
  registerServersLs(g);
  registerServersShow(g);
  registerServersHistory(g);
  registerServersAdd(g);
  registerServersUpdate(g);
  registerServersRm(g);
  registerServersCheck(g);
  registerServersReconcile(g);
  registerServersExec(g);
  registerServersInventory(g);
  return g;
}
