// sayclaw instances: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerInstanceContainerVerbs } from './containers.js';

export function registerInstances(program: Command): Command {
  const g = group(program, 'instances', 'OC instances: list, show, soft delete, restore, assign, containers, health', [
    'sayclaw instances ls --prefix oc-ai-jp-2-', 'sayclaw instances show oc-ai-jp-2-01']);
  registerInstanceContainerVerbs(g);
  return g;
}
