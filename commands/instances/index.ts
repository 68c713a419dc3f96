// sayclaw instances: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerInstanceContainerVerbs } from './containers.js';
import { registerLs } from './ls.js';
import { registerShow } from './show.js';
import { registerRm } from './rm.js';
import { registerAssign } from './assign.js';
import { registerInstancesHistory } from './history.js';
import { registerUpgrade } from './upgrade.js';
import { registerCreate } from './create.js';
import { registerDecommission } from './decommission.js';

export function registerInstances(program: Command): Command {
  const g = group(program, 'instances', 'OC instances: list, show, create, decommission, soft delete, restore, assign, containers, health, upgrade', [
    'sayclaw instances ls --prefix oc-ai-jp-2-', 'sayclaw instances show oc-ai-jp-2-01',
    'sayclaw instances rm oc-ai-jp-2-07 --reason "left" --dry-run', 'sayclaw instances assign oc-ai-jp-2-11 li.na@sayclaw.test']);
  registerLs(g);
  registerShow(g);
  registerInstancesHistory(g);
  registerCreate(g);
  registerDecommission(g);
  registerRm(g);
  registerAssign(g);
  registerInstanceContainerVerbs(g);
  registerUpgrade(g);
  return g;
}
