// sayclaw servers show: one server by name, IP or id, with its alive instances.
import type { Command } from 'commander';
import { verb } from '../kit.js';
import { showOne } from './shared.js';

export function registerServersShow(g: Command): void {
  verb(g, {
    name: 'show',
    args: '<server>',
    summary: 'one server (by name, IP or id) with its alive instances',
    examples: ['sayclaw servers show jp-2-srv-01', 'sayclaw servers show 10.0.0.5 -o json'],
    run: async (ctx, _o, args) => showOne(ctx, args[0]!),
  });
}
