// sayclaw servers: the group and its verbs.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerServerRegistry } from './registry.js';
import { registerServerRemote } from './remote.js';

export function registerServers(program: Command): Command {
  const g = group(program, 'servers', 'servers: registry, checks, fan-out commands over SSH, Ansible inventory', [
    'sayclaw servers ls', 'sayclaw servers check --all', 'sayclaw servers exec --all -- uptime', 'sayclaw servers inventory --list']);
  registerServerRegistry(g);
  registerServerRemote(g);
  return g;
}
