// Container half of `sayclaw instances` (logs, restart, stop, start, exec, health): registered
// here, implemented through src/remote/. Owned by the servers/remote work (issue 4).
import type { Command } from 'commander';

export function registerInstanceContainerVerbs(_g: Command): void {
  // verbs are added by the servers/remote work
}
