// sayclaw audit: reading sayclaw_admin.admin_logs, the row every write leaves.
import type { Command } from 'commander';
import { group } from '../kit.js';
import { registerAuditLs } from './ls.js';
import { registerAuditShow } from './show.js';

export function registerAudit(program: Command): Command {
  const g = group(program, 'audit', 'the audit trail: who changed what, when and why (sayclaw_admin.admin_logs)', [
    'sayclaw audit ls --target oc-ai-jp-2-07 --since 7d', 'sayclaw audit ls --action "instances.*" --actor alice', 'sayclaw audit show ID']);
  registerAuditLs(g);
  registerAuditShow(g);
  return g;
}
