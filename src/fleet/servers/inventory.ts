// servers inventory: an Ansible dynamic inventory (the JSON `--list` / `--host` protocol) of the
// alive servers, grouped by region and provider, with hostvars for ssh user, port and key, so
// that work too big for one process can be handed to Ansible.
import type { Config } from '../../config/schema.js';
import type { ServerRow } from './registry.js';
import { sshTargetOf } from './remote.js';

export interface Inventory {
  [group: string]: unknown;
  _meta: { hostvars: Record<string, Record<string, unknown>> };
}

/** Ansible group names: letters, digits and underscores. */
export function groupName(prefix: string, v: string): string {
  return `${prefix}_${v.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

export function buildInventory(servers: ServerRow[], cfg: Config, home: string | undefined): Inventory {
  const groups = new Map<string, string[]>();
  const add = (g: string, h: string) => { const l = groups.get(g) ?? []; l.push(h); groups.set(g, l); };
  // no prototype: a host is looked up by a name the user typed (--host constructor is no host)
  const hostvars: Record<string, Record<string, unknown>> = Object.create(null);
  for (const s of servers) {
    if (!s.ip) continue;
    const host = s.name ?? s.id;
    const t = sshTargetOf(s, cfg, home);
    hostvars[host] = {
      ansible_host: s.ip, ansible_port: t.port, ansible_user: t.user, ansible_ssh_private_key_file: t.keyPath,
      sayclaw_server_id: s.id, sayclaw_region: s.region, sayclaw_provider: s.provider, sayclaw_status: s.status,
      sayclaw_docker_port: s.docker_port,
    };
    if (s.region) add(groupName('region', s.region), host);
    if (s.provider) add(groupName('provider', s.provider), host);
    add(groupName('status', s.status), host);
  }
  const inv: Inventory = { _meta: { hostvars } };
  const children = [...groups.keys()].sort();
  inv.all = { children: ['ungrouped', ...children] };
  for (const g of children) inv[g] = { hosts: groups.get(g)!.sort() };
  inv.ungrouped = { hosts: Object.keys(hostvars).filter((h) => ![...groups.values()].some((l) => l.includes(h))) };
  return inv;
}
